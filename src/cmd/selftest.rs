//! The `selftest` subcommand.

use std::process::ExitCode;

/// Arguments of `bgppeer-webhook selftest`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `bgppeer-webhook selftest`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the selftest subcommand is not built yet")
}
