//! The HTTPS server the kube-apiserver calls: the only part of the crate with sockets, files,
//! clocks and signals.
//!
//! [`start`] binds both ports, loads the serving certificate and returns a [`Running`] server
//! whose addresses are known (so `--listen 127.0.0.1:0` works) and which stops gracefully on
//! [`ShutdownHandle::shutdown`]:
//!
//! 1. readiness fails at once (`/readyz` answers 503), so endpoints drop the pod;
//! 2. requests are still served for the shutdown delay, while that propagates; every HTTP/1.1
//!    response now carries `Connection: close`, so clients stop reusing their connections;
//! 3. the TLS port stops accepting, idle connections close, open ones finish their in-flight
//!    requests and close (bounded by the drain timeout);
//! 4. the certificate reloader and the operations port stop.
//!
//! - `tls`: certificate loading and checking, the swappable resolver, the rustls config.
//! - [`reload`]: watching the certificate files and swapping them in.
//! - `listener`: the accept loop of both ports, connection caps and per-connection timeouts;
//!   `connections`: the open connections of a port; `protocol_errors`: JSON bodies for the
//!   errors hyper answers itself.
//! - `fd_limit`: raising the open-files limit at start-up.
//! - [`webhook`]: `/validate` and `/mutate` over HTTP.
//! - `ops`: `/healthz`, `/readyz`, `/metrics` on the plain-HTTP port.
//! - `body`: reading a request body within the size limit.
//! - `slots`: at most `--max-concurrent-reviews` decisions at once.
//! - `throttle`: at most one log line per interval for what any client can cause.
//! - [`audit`]: the periodic audit of the stored BGPPeers (`--audit-interval`), its Events and
//!   leader election.
//! - `metrics`, `health`: shared state; [`duration`]: Go-style durations.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub mod audit;
pub(crate) mod body;
pub(crate) mod connections;
pub mod duration;
pub(crate) mod fd_limit;
pub(crate) mod health;
pub(crate) mod listener;
pub(crate) mod metrics;
pub(crate) mod ops;
pub(crate) mod protocol_errors;
pub mod reload;
pub(crate) mod slots;
pub(crate) mod throttle;
pub(crate) mod tls;
pub mod webhook;

use health::Health;
use listener::{ConnectionTimeouts, PortLimits, Signals};
use metrics::Metrics;
use tls::{PairSource, SwappableResolver, TlsError};

/// The default `--max-body-bytes`: 7 MiB. The apiserver accepts writes of up to 3 MiB, and the
/// review of an UPDATE carries two objects (the new one and the stored one) plus its own fields,
/// so a 3 MiB limit would refuse a legitimate update (413, and with `failurePolicy: Fail` the
/// write with it); two 3 MiB objects and 1 MiB for the rest of the review always fit.
pub(crate) const DEFAULT_MAX_BODY_BYTES: usize = 7 * 1024 * 1024;

/// The default `--max-connections` of the TLS port. The apiserver needs a handful (one HTTP/2
/// connection per apiserver instance, more over HTTP/1.1).
pub(crate) const DEFAULT_MAX_CONNECTIONS: usize = 1024;

/// The default `--metrics-max-connections` of the operations port (kubelet probes, Prometheus).
pub(crate) const DEFAULT_METRICS_MAX_CONNECTIONS: usize = 64;

/// Everything [`start`] needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address of the TLS port (`/validate`, `/mutate`); port 0 picks a free port.
    pub listen: SocketAddr,
    /// Address of the plain-HTTP operations port (`/healthz`, `/readyz`, `/metrics`).
    pub metrics_listen: SocketAddr,
    /// PEM certificate chain, leaf first.
    pub tls_cert_file: PathBuf,
    /// PEM private key of the leaf certificate.
    pub tls_key_file: PathBuf,
    /// PEM CA bundle: when set, clients must present a certificate signed by one of these.
    pub client_ca_file: Option<PathBuf>,
    /// Largest request body accepted.
    pub max_body_bytes: usize,
    /// How long to keep serving after shutdown begins, while readiness is already false.
    pub shutdown_delay: Duration,
    /// How long to wait for in-flight requests once accepting stops.
    pub drain_timeout: Duration,
    /// How often to re-read the certificate files besides watching them.
    pub cert_check_interval: Duration,
    /// TLS handshake, header-read and idle limits per connection (both ports; the handshake
    /// limit only applies to the TLS port).
    pub timeouts: ConnectionTimeouts,
    /// Most connections open at once on the TLS port.
    pub max_connections: usize,
    /// Most connections open at once on the operations port.
    pub metrics_max_connections: usize,
    /// The apiserver timeout assumed when a request has no `?timeout=`.
    pub default_request_timeout: Duration,
    /// The cluster checks `/validate` runs on BGPPeers, when enabled (`--cluster-checks`).
    pub cluster: Option<crate::cluster::Checker>,
    /// The periodic audit of the stored BGPPeers from the cluster checks' caches
    /// (`--audit-interval`); needs `cluster`.
    pub audit: Option<audit::AuditSettings>,
    /// How many admission decisions may run at once; requests beyond it wait for a slot within
    /// their time budget (`--max-concurrent-reviews`, default: the CPU count).
    pub max_concurrent_reviews: usize,
    /// How many bytes of request bodies may be held at once; a body that does not fit waits
    /// within its time budget (`--max-body-bytes-in-flight`).
    pub max_body_bytes_in_flight: usize,
    /// Test-only (see [`webhook::DecisionHook`]): never set outside Rust tests.
    #[doc(hidden)]
    pub before_decision: Option<webhook::DecisionHook>,
}

impl Config {
    /// A configuration with the documented defaults for everything but the certificate paths.
    pub fn new(tls_cert_file: PathBuf, tls_key_file: PathBuf) -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8443)),
            metrics_listen: SocketAddr::from(([0, 0, 0, 0], 9090)),
            tls_cert_file,
            tls_key_file,
            client_ca_file: None,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            shutdown_delay: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(10),
            cert_check_interval: Duration::from_secs(10),
            timeouts: ConnectionTimeouts {
                handshake: Duration::from_secs(10),
                header_read: Duration::from_secs(10),
                idle: Duration::from_secs(90),
            },
            max_connections: DEFAULT_MAX_CONNECTIONS,
            metrics_max_connections: DEFAULT_METRICS_MAX_CONNECTIONS,
            default_request_timeout: Duration::from_secs(10),
            cluster: None,
            audit: None,
            max_concurrent_reviews: slots::default_limit(),
            max_body_bytes_in_flight: body::DEFAULT_MAX_BODY_BYTES_IN_FLIGHT,
            before_decision: None,
        }
    }
}

/// Why the server cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The serving certificate, its key or the client CA cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// A port cannot be bound.
    #[error("cannot listen on {address}: {error}")]
    Bind {
        /// The address.
        address: SocketAddr,
        /// The I/O error (part of the message, so not also the error's `source()`).
        error: std::io::Error,
    },
}

/// A started server.
#[derive(Debug)]
pub struct Running {
    /// The bound address of the TLS port.
    pub addr: SocketAddr,
    /// The bound address of the operations port.
    pub metrics_addr: SocketAddr,
    shutdown: ShutdownHandle,
    done: JoinHandle<()>,
    /// The periodic audit, when enabled.
    audit: Option<Background>,
}

impl Running {
    /// A handle that begins the graceful shutdown; cheap to clone.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Waits until the server has shut down completely (after a shutdown was begun).
    pub async fn wait(self) {
        if let Err(err) = self.done.await {
            tracing::error!(error = %err, "the server task failed");
        }
    }
}

/// Begins the graceful shutdown of a [`Running`] server.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    health: Arc<Health>,
    trigger: Arc<watch::Sender<bool>>,
}

impl ShutdownHandle {
    /// Begins the shutdown: readiness fails immediately, the rest follows the delay. Calling it
    /// again has no further effect.
    pub fn shutdown(&self) {
        self.health.begin_shutdown();
        self.trigger.send_replace(true);
    }
}

/// Loads the certificate, binds both ports and starts serving.
pub async fn start(config: Config) -> Result<Running, StartError> {
    let metrics = Arc::new(Metrics::new());
    let router = webhook::router(webhook::WebhookState {
        metrics: metrics.clone(),
        max_body_bytes: config.max_body_bytes,
        default_timeout: config.default_request_timeout,
        cluster: config.cluster.clone(),
        slots: slots::ReviewSlots::new(config.max_concurrent_reviews, metrics.clone()),
        body_bytes: body::BodyBytes::new(config.max_body_bytes_in_flight),
        before_decision: config.before_decision.clone(),
    });
    let audit = match (&config.cluster, &config.audit) {
        (Some(checker), Some(settings)) => Some(Background(
            tokio::spawn(audit::run(
                checker.clone(),
                settings.clone(),
                metrics.clone(),
            ))
            .abort_handle(),
        )),
        _ => None,
    };
    let mut running = start_serving(config, metrics, router).await?;
    running.audit = audit;
    Ok(running)
}

/// A background task of the server, stopped when the server is dropped (after [`Running::wait`]).
#[derive(Debug)]
struct Background(tokio::task::AbortHandle);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Like [`start`], with `router` on the TLS port instead of the admission endpoints: the same
/// certificate handling, listener, connection limits, timeouts, operations port and shutdown
/// sequence. For measuring what that stack costs on its own (the bare server of
/// `make throughput`, `examples/bare_server.rs`); `serve` always uses [`start`].
///
/// Only the settings of the stack apply: the body limits, time budgets, cluster checks and
/// decision slots of `config` belong to the admission endpoints and are ignored.
pub async fn start_with_router(
    config: Config,
    router: axum::Router,
) -> Result<Running, StartError> {
    start_serving(config, Arc::new(Metrics::new()), router).await
}

/// Starts serving `router` on the TLS port, counting in `metrics`.
async fn start_serving(
    config: Config,
    metrics: Arc<Metrics>,
    router: axum::Router,
) -> Result<Running, StartError> {
    let health = Arc::new(Health::default());

    let source = PairSource::read(&config.tls_cert_file, &config.tls_key_file)?;
    let pair = tls::load_pair(
        source,
        &config.tls_cert_file,
        &config.tls_key_file,
        SystemTime::now(),
    )?;
    metrics.set_cert_not_after(pair.not_after);
    health.set_cert_not_after(pair.not_after);
    let resolver = Arc::new(SwappableResolver::new(pair.key.clone()));
    let client_verifier = match &config.client_ca_file {
        Some(path) => Some(tls::client_verifier(path)?),
        None => None,
    };
    let tls_config = tls::server_config(resolver.clone(), client_verifier)?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls_config));

    let listener = bind(config.listen).await?;
    let ops_listener = bind(config.metrics_listen).await?;
    let addr = local_addr(&listener, config.listen)?;
    let metrics_addr = local_addr(&ops_listener, config.metrics_listen)?;

    let (trigger, mut triggered) = watch::channel(false);
    let (stop_accepting, accepting_stopped) = watch::channel(false);
    let (stop_rest, rest_stopped) = watch::channel(false);

    let reloader = reload::Reloader::new(
        config.tls_cert_file.clone(),
        config.tls_key_file.clone(),
        &pair,
        resolver,
        metrics.clone(),
        health.clone(),
    );
    let reloading = tokio::spawn(reload::run(
        reloader,
        config.cert_check_interval,
        rest_stopped.clone(),
    ));

    let serving = tokio::spawn(listener::serve(
        listener::Port {
            name: "webhook",
            listener,
            handshake: listener::TlsHandshake { acceptor },
            router,
            limits: PortLimits {
                timeouts: config.timeouts,
                max_connections: config.max_connections,
            },
            drain: config.drain_timeout,
            metrics: metrics.port("webhook"),
        },
        Signals {
            draining: triggered.clone(),
            stop: accepting_stopped,
        },
    ));

    let ops_router = ops::router(ops::OpsState {
        health: health.clone(),
        metrics: metrics.clone(),
    });
    let operating = tokio::spawn(listener::serve(
        listener::Port {
            name: "operations",
            listener: ops_listener,
            handshake: listener::PlainHandshake,
            router: ops_router,
            limits: PortLimits {
                timeouts: config.timeouts,
                max_connections: config.metrics_max_connections,
            },
            // The port stops last, once the webhook port has drained; its requests are short.
            drain: Duration::from_secs(1),
            metrics: metrics.port("operations"),
        },
        Signals {
            draining: triggered.clone(),
            stop: rest_stopped,
        },
    ));

    tracing::info!(%addr, %metrics_addr, "serving admission webhooks");

    let shutdown_delay = config.shutdown_delay;
    let done = tokio::spawn(async move {
        stopped(&mut triggered).await;
        tracing::info!(
            delay_ms = shutdown_delay.as_millis() as u64,
            "shutting down: readiness is now false; still serving during the shutdown delay"
        );
        tokio::time::sleep(shutdown_delay).await;
        stop_accepting.send_replace(true);
        if let Err(err) = serving.await {
            tracing::error!(error = %err, "the TLS server task failed");
        }
        stop_rest.send_replace(true);
        for task in [reloading, operating] {
            if let Err(err) = task.await {
                tracing::error!(error = %err, "a server task failed");
            }
        }
        tracing::info!("shut down");
    });

    Ok(Running {
        addr,
        metrics_addr,
        shutdown: ShutdownHandle {
            health,
            trigger: Arc::new(trigger),
        },
        done,
        audit: None,
    })
}

/// Resolves once `signal` is (or becomes) true, or its sender is gone.
///
/// Wraps [`watch::Receiver::wait_for`] so that no borrow of the channel's value is held across
/// an await, which would make the waiting task non-`Send`.
pub(crate) async fn stopped(signal: &mut watch::Receiver<bool>) {
    let _ = signal.wait_for(|stopped| *stopped).await;
}

async fn bind(address: SocketAddr) -> Result<TcpListener, StartError> {
    TcpListener::bind(address)
        .await
        .map_err(|error| StartError::Bind { address, error })
}

fn local_addr(listener: &TcpListener, address: SocketAddr) -> Result<SocketAddr, StartError> {
    listener
        .local_addr()
        .map_err(|error| StartError::Bind { address, error })
}
