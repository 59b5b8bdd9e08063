//! The command-line interface: one subcommand per module in this folder.
//!
//! Every subcommand's `run` returns the process exit code; errors that reach this level are printed
//! to stderr by [`Cli::run`] and give exit code 2 (unusable input or environment).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) mod audit;
pub(crate) mod certs;
pub mod check;
pub(crate) mod explain;
pub(crate) mod logging;
pub(crate) mod selector;
pub(crate) mod selftest;
pub(crate) mod serve;

/// Validates and defaults Calico BGPPeer resources: as a Kubernetes admission webhook (`serve`),
/// offline for GitOps pipelines (`check`), on the peers already stored in a cluster (`audit`), and
/// as a selector debugger (`selector`).
#[derive(Debug, Parser)]
#[command(name = "bgppeer-webhook", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the admission webhook over HTTPS (/validate and /mutate).
    // Boxed: its many flags would make every other variant as large.
    Serve(Box<serve::Args>),
    /// Validate BGPPeer manifests offline (files, directories or stdin).
    Check(check::Args),
    /// Parse a Calico selector, print its canonical form and optionally evaluate it.
    Selector(selector::Args),
    /// Show which nodes each BGPPeer applies to and which BGP sessions they will open.
    Explain(explain::Args),
    /// Check the BGPPeers already stored in a cluster with the webhook's rules, static and
    /// cluster-aware.
    Audit(audit::Args),
    /// Write a development CA and a serving certificate signed by it.
    Certs(certs::Args),
    /// From inside a cluster, check that the installed webhook denies an invalid BGPPeer and
    /// admits a valid one (server-side dry run; used by `helm test`).
    Selftest(selftest::Args),
}

impl Cli {
    /// Runs the chosen subcommand and turns its outcome into the process exit code.
    pub fn run(self) -> ExitCode {
        let outcome = match self.command {
            Command::Serve(args) => serve::run(*args),
            Command::Check(args) => check::run(args),
            Command::Selector(args) => selector::run(args),
            Command::Explain(args) => explain::run(args),
            Command::Audit(args) => audit::run(args),
            Command::Certs(args) => certs::run(args),
            Command::Selftest(args) => selftest::run(args),
        };
        match outcome {
            Ok(code) => code,
            Err(err) => {
                eprintln!("error: {err:#}");
                ExitCode::from(2)
            }
        }
    }
}
