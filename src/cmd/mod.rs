//! The command-line interface: one subcommand per module in this folder.
//!
//! Every subcommand's `run` returns the process exit code; errors that reach this level are printed
//! to stderr by [`Cli::run`], once each (see `error_message`), and give exit code 2 (unusable
//! input or environment). Reports go to standard output through the `output` module, which ends quietly
//! when the reader has gone away.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) mod audit;
pub(crate) mod certs;
pub mod check;
pub(crate) mod explain;
pub(crate) mod logging;
pub(crate) mod output;
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
                output::eprint_line(&format!("error: {}", error_message(&err)));
                ExitCode::from(2)
            }
        }
    }
}

/// An error and its causes on one line, joined by `: `, each said once.
///
/// Many errors, ours and libraries' (std's I/O errors inside kube's, rustls'), already include
/// their cause in their own message and expose it as their `source()` as well; printing the
/// whole chain would repeat it (`nope.json: No such file or directory (os error 2): No such file
/// or directory (os error 2)`). A cause whose text the line already holds is left out.
pub(crate) fn error_message(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    /// An error whose message includes its source and that exposes it too, as many do.
    #[derive(Debug, thiserror::Error)]
    #[error("nope.json: {0}")]
    struct Repeating(#[source] std::io::Error);

    #[test]
    fn every_cause_is_said_once() {
        let io = std::io::Error::from(std::io::ErrorKind::NotFound);
        let err = Err::<(), _>(Repeating(io))
            .context("reading --nodes")
            .unwrap_err();
        assert_eq!(
            error_message(&err),
            "reading --nodes: nope.json: entity not found"
        );
        let err = Err::<(), _>(std::io::Error::from(std::io::ErrorKind::NotFound))
            .context("cannot read labels file x.json")
            .unwrap_err();
        assert_eq!(
            error_message(&err),
            "cannot read labels file x.json: entity not found"
        );
    }
}
