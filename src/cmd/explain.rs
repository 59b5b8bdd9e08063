//! The `explain` subcommand.

use std::process::ExitCode;

/// Arguments of `bgppeer-webhook explain`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `bgppeer-webhook explain`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the explain subcommand is not built yet")
}
