//! The `certs` subcommand.

use std::process::ExitCode;

/// Arguments of `bgppeer-webhook certs`.
#[derive(Debug, clap::Args)]
pub struct Args {}

/// Runs `bgppeer-webhook certs`.
pub fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the certs subcommand is not built yet")
}
