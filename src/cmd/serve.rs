//! The `serve` subcommand: runs the admission webhook until SIGTERM or SIGINT.
//!
//! The first signal begins the graceful shutdown (readiness false, `--shutdown-delay`, then
//! draining for up to `--drain-timeout`). A second signal during it ends the process at once
//! with exit code 130 (SIGINT) or 143 (SIGTERM), as a second Ctrl-C does in most programs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::ValueEnum;
use tracing_subscriber::util::SubscriberInitExt;

use super::logging;
use crate::cluster;
use crate::server::{self, Config, duration};

/// Arguments of `bgppeer-webhook serve`. Every flag can also be set with an environment variable
/// named `BGPPEER_WEBHOOK_<FLAG>` (for example `BGPPEER_WEBHOOK_TLS_CERT_FILE`).
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address of the HTTPS port serving /validate and /mutate (port 0 picks a free port).
    #[arg(long, env = "BGPPEER_WEBHOOK_LISTEN", default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// PEM certificate chain (leaf first); reloaded when it changes.
    #[arg(long, env = "BGPPEER_WEBHOOK_TLS_CERT_FILE", value_name = "FILE")]
    tls_cert_file: PathBuf,
    /// PEM private key of the certificate; reloaded when it changes.
    #[arg(long, env = "BGPPEER_WEBHOOK_TLS_KEY_FILE", value_name = "FILE")]
    tls_key_file: PathBuf,
    /// PEM CA bundle: require clients (the kube-apiserver) to present a certificate signed by one
    /// of these CAs (mutual TLS).
    #[arg(long, env = "BGPPEER_WEBHOOK_CLIENT_CA_FILE", value_name = "FILE")]
    client_ca_file: Option<PathBuf>,
    /// Address of the plain-HTTP port serving /healthz, /readyz and /metrics.
    #[arg(
        long,
        env = "BGPPEER_WEBHOOK_METRICS_LISTEN",
        default_value = "0.0.0.0:9090"
    )]
    metrics_listen: SocketAddr,
    /// Largest request body accepted, in bytes (larger requests get 413).
    #[arg(long, env = "BGPPEER_WEBHOOK_MAX_BODY_BYTES", default_value_t = server::DEFAULT_MAX_BODY_BYTES as u64,
        value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    max_body_bytes: u64,
    /// After SIGTERM, keep serving this long with readiness already false, so that endpoints
    /// stop routing here before the port closes (Go duration: 5s, 500ms; 0s outside
    /// Kubernetes). A second signal ends the process at once.
    #[arg(long, env = "BGPPEER_WEBHOOK_SHUTDOWN_DELAY", default_value = "5s", value_parser = duration::parse)]
    shutdown_delay: Duration,
    /// After the shutdown delay, how long to wait for in-flight requests before closing.
    #[arg(long, env = "BGPPEER_WEBHOOK_DRAIN_TIMEOUT", default_value = "10s", value_parser = duration::parse)]
    drain_timeout: Duration,
    /// How often to re-read the certificate files, besides watching their directory.
    #[arg(long, env = "BGPPEER_WEBHOOK_CERT_CHECK_INTERVAL", default_value = "10s", value_parser = positive_duration)]
    cert_check_interval: Duration,
    /// Time allowed to complete a TLS handshake.
    #[arg(long, env = "BGPPEER_WEBHOOK_HANDSHAKE_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    handshake_timeout: Duration,
    /// Time allowed to receive a request's headers; an HTTP/1.1 connection waiting this long for
    /// its next request is closed too.
    #[arg(long, env = "BGPPEER_WEBHOOK_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = positive_duration)]
    header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    #[arg(long, env = "BGPPEER_WEBHOOK_IDLE_TIMEOUT", default_value = "90s", value_parser = positive_duration)]
    idle_timeout: Duration,
    /// Most connections open at once on the HTTPS port; at the limit a new connection replaces
    /// the oldest one that has not sent a request yet, or waits.
    #[arg(long, env = "BGPPEER_WEBHOOK_MAX_CONNECTIONS", default_value_t = server::DEFAULT_MAX_CONNECTIONS as u64,
        value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    max_connections: u64,
    /// Most connections open at once on the metrics port, likewise.
    #[arg(long, env = "BGPPEER_WEBHOOK_METRICS_MAX_CONNECTIONS", default_value_t = server::DEFAULT_METRICS_MAX_CONNECTIONS as u64,
        value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    metrics_max_connections: u64,
    /// How many admission decisions may run at once (default: the number of CPUs); further
    /// requests wait for a free slot within their time budget, and get 503 with Retry-After if
    /// none frees up in time.
    #[arg(long, env = "BGPPEER_WEBHOOK_MAX_CONCURRENT_REVIEWS", default_value_t = server::slots::default_limit() as u64,
        value_parser = clap::value_parser!(u64).range(1..=4096))]
    max_concurrent_reviews: u64,
    /// How many bytes of request bodies may be held at once (bodies being read or waiting to be
    /// decoded); a body that does not fit waits within its time budget, then gets 503.
    #[arg(long, env = "BGPPEER_WEBHOOK_MAX_BODY_BYTES_IN_FLIGHT", default_value_t = server::body::DEFAULT_MAX_BODY_BYTES_IN_FLIGHT as u64,
        value_parser = clap::value_parser!(u64).range(1..=1 << 32))]
    max_body_bytes_in_flight: u64,
    /// The cluster checks (boxed: they are rarely set and keep the subcommand enum small).
    #[command(flatten)]
    cluster: Box<ClusterArgs>,
    /// Log format.
    #[arg(long, env = "BGPPEER_WEBHOOK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// Log level or filter (error, warn, info, debug, trace, or a tracing filter such as
    /// `info,bgppeer_webhook=debug`).
    #[arg(long, env = "BGPPEER_WEBHOOK_LOG_LEVEL", default_value = "info")]
    log_level: String,
}

/// The flags of the cluster-aware checks.
#[derive(Debug, clap::Args)]
struct ClusterArgs {
    /// Check BGPPeers against the cluster too: filters that must exist, nodes and selectors
    /// that should match, duplicate peers. Needs read access (get, list, watch) to BGPFilters,
    /// BGPPeers and BGPConfigurations (both Calico API groups) and Nodes; without it the checks
    /// are skipped with a warning, never failing closed (see docs/cluster-checks.md).
    #[arg(long, env = "BGPPEER_WEBHOOK_CLUSTER_CHECKS")]
    cluster_checks: bool,
    /// With --cluster-checks, also check password Secrets (present, at most 80 bytes). Needs
    /// read access to Secrets in --calico-namespace; only key lengths are ever kept.
    #[arg(long, env = "BGPPEER_WEBHOOK_PASSWORD_CHECKS")]
    password_checks: bool,
    /// Kubeconfig for the cluster checks; by default the cluster is found as kubectl finds it
    /// (the files in KUBECONFIG, else ~/.kube/config, else the pod's service account).
    #[arg(long, env = "BGPPEER_WEBHOOK_KUBECONFIG", value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// The namespace calico-node reads BGP password Secrets from.
    #[arg(long, env = "BGPPEER_WEBHOOK_CALICO_NAMESPACE", default_value = cluster::DEFAULT_CALICO_NAMESPACE)]
    calico_namespace: String,
    /// Audit the BGPPeers already stored, from the cluster checks' caches, this often (Go
    /// duration: 5m); 0 turns it off. Needs --cluster-checks. The outcome is exported as the
    /// bgppeer_webhook_audit_* gauges and each new problem is logged once.
    #[arg(long, env = "BGPPEER_WEBHOOK_AUDIT_INTERVAL", default_value = "0", value_parser = duration::parse, value_name = "DURATION")]
    audit_interval: Duration,
    /// With --audit-interval, also record each new problem as a Warning Event on the BGPPeer
    /// (`kubectl describe bgppeer NAME` shows it). With several replicas only the holder of the
    /// Lease --lease-name in --lease-namespace records. Needs create and patch on
    /// events.events.k8s.io in namespace default, and get, create and patch on
    /// leases.coordination.k8s.io in --lease-namespace.
    #[arg(long, env = "BGPPEER_WEBHOOK_AUDIT_EVENTS")]
    audit_events: bool,
    /// The namespace of the leader election's Lease (the webhook's own namespace).
    #[arg(
        long,
        env = "BGPPEER_WEBHOOK_LEASE_NAMESPACE",
        value_name = "NAMESPACE"
    )]
    lease_namespace: Option<String>,
    /// The name of the leader election's Lease.
    #[arg(
        long,
        env = "BGPPEER_WEBHOOK_LEASE_NAME",
        default_value = "bgppeer-webhook-audit"
    )]
    lease_name: String,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Runs `bgppeer-webhook serve`.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    init_logging(args.log_format, &args.log_level)?;
    // The server's TLS objects name ring explicitly; installing it as the process default too
    // keeps any other rustls user in the process on the same provider. An `Err` only means a
    // provider is already installed, which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cluster_args = &args.cluster;
    if cluster_args.password_checks && !cluster_args.cluster_checks {
        anyhow::bail!("--password-checks needs --cluster-checks: it is one of the cluster checks");
    }
    let audit = audit_settings(cluster_args)?;
    let cluster_settings = cluster_args.cluster_checks.then(|| cluster::Settings {
        kubeconfig: cluster_args.kubeconfig.clone(),
        password_checks: cluster_args.password_checks,
        calico_namespace: cluster_args.calico_namespace.clone(),
    });
    let mut config = Config {
        listen: args.listen,
        metrics_listen: args.metrics_listen,
        client_ca_file: args.client_ca_file,
        // The range check above keeps this within usize on every supported platform.
        max_body_bytes: usize::try_from(args.max_body_bytes)
            .context("--max-body-bytes does not fit this platform")?,
        shutdown_delay: args.shutdown_delay,
        drain_timeout: args.drain_timeout,
        cert_check_interval: args.cert_check_interval,
        // The range check above keeps this within usize on every supported platform.
        max_concurrent_reviews: usize::try_from(args.max_concurrent_reviews)
            .context("--max-concurrent-reviews does not fit this platform")?,
        max_body_bytes_in_flight: usize::try_from(args.max_body_bytes_in_flight)
            .context("--max-body-bytes-in-flight does not fit this platform")?,
        timeouts: server::listener::ConnectionTimeouts {
            handshake: args.handshake_timeout,
            header_read: args.header_read_timeout,
            idle: args.idle_timeout,
        },
        // The range checks above keep these within usize on every supported platform.
        max_connections: usize::try_from(args.max_connections)
            .context("--max-connections does not fit this platform")?,
        metrics_max_connections: usize::try_from(args.metrics_max_connections)
            .context("--metrics-max-connections does not fit this platform")?,
        audit,
        ..Config::new(args.tls_cert_file, args.tls_key_file)
    };
    raise_open_files_limit(config.max_connections, config.metrics_max_connections);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let stopped: anyhow::Result<Stopped> = runtime.block_on(async move {
        // Listening before anything starts: a signal that arrives while the server starts is
        // seen once it has, instead of killing the process.
        let mut signals = Signals::listen().context("cannot listen for SIGTERM and SIGINT")?;
        if let Some(settings) = &cluster_settings {
            let checker = cluster::Checker::connect(settings)
                .await
                .context("cannot start the cluster checks")?;
            tracing::info!(
                password_checks = settings.password_checks,
                calico_namespace = %settings.calico_namespace,
                "cluster checks enabled; caches are syncing"
            );
            config.cluster = Some(checker);
        }
        let running = server::start(config).await?;
        let handle = running.shutdown_handle();
        let (forced_tx, forced_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let signal = signals.next().await;
            tracing::info!(signal, "received a shutdown signal");
            handle.shutdown();
            let signal = signals.next().await;
            tracing::info!(signal, "received a second signal; stopping now");
            let _ = forced_tx.send(signal);
        });
        tokio::select! {
            () = running.wait() => Ok(Stopped::Gracefully),
            Ok(signal) = forced_rx => Ok(Stopped::Forced(signal)),
        }
    });
    match stopped {
        Ok(Stopped::Gracefully) => Ok(ExitCode::SUCCESS),
        Ok(Stopped::Forced(signal)) => {
            // The server's tasks are abandoned, not awaited: that is what the second signal asks.
            runtime.shutdown_background();
            Ok(ExitCode::from(if signal == "SIGTERM" { 143 } else { 130 }))
        }
        Err(err) => Err(err),
    }
}

/// How `serve` ended.
enum Stopped {
    /// After the graceful shutdown.
    Gracefully,
    /// At once, on a second signal (named).
    Forced(&'static str),
}

/// The periodic audit's settings from the flags, or why they do not go together.
fn audit_settings(args: &ClusterArgs) -> anyhow::Result<Option<server::audit::AuditSettings>> {
    if args.audit_interval.is_zero() {
        if args.audit_events {
            anyhow::bail!("--audit-events needs --audit-interval: the Events come from the audit");
        }
        return Ok(None);
    }
    if !args.cluster_checks {
        anyhow::bail!(
            "--audit-interval needs --cluster-checks: the audit reads the cluster checks' caches"
        );
    }
    let events = if args.audit_events {
        let Some(namespace) = args.lease_namespace.clone() else {
            anyhow::bail!(
                "--audit-events needs --lease-namespace (the webhook's namespace): only the \
                 replica holding the Lease there records Events"
            );
        };
        Some(server::audit::EventSettings {
            lease_namespace: namespace,
            lease_name: args.lease_name.clone(),
            identity: identity(),
        })
    } else {
        None
    };
    Ok(Some(server::audit::AuditSettings {
        interval: args.audit_interval,
        events,
    }))
}

/// This replica's identity in the Lease: the pod name (`POD_NAME`, set by the chart, or
/// `HOSTNAME`, which is the pod name in Kubernetes), else the process id.
fn identity() -> String {
    ["POD_NAME", "HOSTNAME"]
        .into_iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|value| !value.is_empty())
        .unwrap_or_else(|| format!("bgppeer-webhook-{}", std::process::id()))
}

/// Raises the open-files limit to its hard limit and warns if the connection caps do not fit.
fn raise_open_files_limit(max_connections: usize, metrics_max_connections: usize) {
    let soft = match server::fd_limit::raise() {
        Ok(limit) => {
            if limit.before != limit.now {
                tracing::debug!(before = ?limit.before, now = ?limit.now, "raised the open-files limit");
            }
            limit.now
        }
        Err(err) => {
            tracing::warn!(error = %err, "cannot raise the open-files limit");
            rustix::process::getrlimit(rustix::process::Resource::Nofile).current
        }
    };
    if let Err(needed) = server::fd_limit::check(soft, max_connections, metrics_max_connections) {
        tracing::warn!(
            limit = soft,
            needed,
            "the open-files limit is lower than --max-connections plus --metrics-max-connections \
             plus a reserve: when both ports are full, accepting may fail; lower the caps or raise \
             the limit"
        );
    }
}

/// SIGTERM (Kubernetes stopping the pod) and SIGINT (Ctrl-C), listened for from creation on:
/// from then on they no longer end the process by themselves.
#[cfg(unix)]
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
}

#[cfg(unix)]
impl Signals {
    /// Starts listening (needs the Tokio runtime).
    fn listen() -> std::io::Result<Self> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// The next signal, by name.
    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.terminate.recv() => "SIGTERM",
            _ = self.interrupt.recv() => "SIGINT",
        }
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct Signals;

#[cfg(not(unix))]
impl Signals {
    fn listen() -> std::io::Result<Self> {
        Ok(Self)
    }

    async fn next(&mut self) -> &'static str {
        match tokio::signal::ctrl_c().await {
            Ok(()) => "SIGINT",
            // Without a way to hear Ctrl-C, never stop on one.
            Err(_) => std::future::pending().await,
        }
    }
}

fn init_logging(format: LogFormat, level: &str) -> anyhow::Result<()> {
    let filter = logging::filter(level).with_context(|| {
        format!(
            "invalid --log-level {level:?}: use error, warn, info, debug, trace or a tracing filter"
        )
    })?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let format = match format {
        LogFormat::Text => logging::Format::Text,
        LogFormat::Json => logging::Format::Json,
    };
    logging::subscriber(format, filter, std::io::stdout, ansi)
        .try_init()
        .map_err(|err| anyhow::anyhow!("cannot set up logging: {err}"))?;
    logging::log_panics();
    Ok(())
}

fn positive_duration(value: &str) -> Result<Duration, String> {
    match duration::parse(value) {
        Ok(duration) if duration.is_zero() => Err("must be more than 0".to_owned()),
        Ok(duration) => Ok(duration),
        Err(err) => Err(err.to_string()),
    }
}
