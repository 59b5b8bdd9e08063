//! The `audit` subcommand: the BGPPeers already stored in a cluster, checked with the webhook's
//! rules, static and cluster-aware (a cluster that ran without the webhook may hold peers it
//! would have denied, invisible until someone edits them).
//!
//! I/O only: finding the cluster ([`crate::kubeconfig`]), reading it
//! (`crate::cluster::snapshot`) and printing; the audit itself is [`crate::audit`].
//!
//! Exit codes: 0 every stored BGPPeer is valid, 1 at least one is invalid, 2 the cluster could
//! not be read (no kubeconfig, API server unreachable, BGPPeers not readable) or the command
//! line is wrong.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use super::output;
use crate::audit::{self, Audit, Confirmation};
use crate::cluster::{self, snapshot};
use crate::kubeconfig;
use crate::server::duration;

/// Arguments of `bgppeer-webhook audit`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "The cluster is found as kubectl finds it: --kubeconfig, else the files \
                        in KUBECONFIG, else ~/.kube/config, else the pod's service account.\n\
                        Needs list access to BGPPeers, BGPFilters and BGPConfigurations (both \
                        Calico API groups) and Nodes; with --password-checks, to Secrets in \
                        --calico-namespace.\n\
                        Exit status: 0 all stored BGPPeers valid, 1 any invalid, 2 the cluster \
                        could not be read or usage error."
)]
pub(crate) struct Args {
    /// The kubeconfig file (default: the files in KUBECONFIG, else ~/.kube/config, else the
    /// pod's service account).
    #[arg(long, value_name = "PATH")]
    kubeconfig: Option<PathBuf>,
    /// The kubeconfig context to use instead of its current context.
    #[arg(long, value_name = "NAME")]
    context: Option<String>,
    /// Also check the password Secrets the peers refer to (present, at most 80 bytes); needs
    /// list access to Secrets in --calico-namespace. Only key lengths are ever read into memory
    /// for the check.
    #[arg(long)]
    password_checks: bool,
    /// The namespace calico-node reads BGP password Secrets from.
    #[arg(long, default_value = cluster::DEFAULT_CALICO_NAMESPACE, value_name = "NAMESPACE")]
    calico_namespace: String,
    /// Give up when reading the cluster takes longer than this (Go duration: 30s, 2m).
    #[arg(long, default_value = "60s", value_parser = duration::parse)]
    timeout: Duration,
    /// Output format: `text` (one line per error, then warnings, notes and a summary) or `json`
    /// (the schema in docs/schemas/audit.schema.json).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
}

/// The output formats of `audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object on stdout.
    Json,
}

/// Runs `bgppeer-webhook audit`.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let (config, _origin) = runtime.block_on(kubeconfig::discover(
        args.kubeconfig.as_deref(),
        args.context.as_deref(),
    ))?;
    let server = config.cluster_url.to_string();
    let password_namespace = args
        .password_checks
        .then_some(args.calico_namespace.as_str());
    // The client spawns its connection task: it is made on the runtime.
    let read = runtime.block_on(async {
        let client = kube::Client::try_from(config)
            .with_context(|| format!("cannot create a Kubernetes client for {server}"))?;
        let read = tokio::time::timeout(
            args.timeout,
            snapshot::take(&client, &server, password_namespace),
        )
        .await;
        anyhow::Ok(match read {
            Ok(read) => read,
            Err(_) => Err(format!(
                "the API server at {server} did not answer within {:?} (--timeout)",
                args.timeout
            )),
        })
    })?;
    let snapshot = match read {
        Ok(snapshot) => snapshot,
        Err(message) => {
            output::eprint_line(&format!("error: {message}"));
            if args.output == Format::Json {
                output::print(
                    &(audit::json::render(&Audit::default(), &server, &[message]) + "\n"),
                )?;
            }
            return Ok(ExitCode::from(2));
        }
    };
    let pending = audit::check(&snapshot.index);
    // The lists were read just now, peers before filters: a filter missing from them is missing.
    let missing = pending.unconfirmed_filters();
    let mut audit = pending.finish(Confirmation::Missing(&missing));
    audit.notes.splice(0..0, snapshot.notes);
    let report = match args.output {
        Format::Text => audit::text::render(&audit, &server),
        Format::Json => audit::json::render(&audit, &server, &[]) + "\n",
    };
    output::print(&report)?;
    Ok(ExitCode::from(audit.exit_code()))
}
