//! The `serve` subcommand.

use std::process::ExitCode;

/// Arguments of `bgppeer-webhook serve`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `bgppeer-webhook serve`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the serve subcommand is not built yet")
}
