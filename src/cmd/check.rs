//! The `check` subcommand.

use std::process::ExitCode;

/// Arguments of `bgppeer-webhook check`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `bgppeer-webhook check`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the check subcommand is not built yet")
}
