//! The `selector` subcommand.

use std::process::ExitCode;

/// Arguments of `bgppeer-webhook selector`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `bgppeer-webhook selector`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the selector subcommand is not built yet")
}
