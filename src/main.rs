//! The `bgppeer-webhook` binary: parse the command line and dispatch a subcommand.

use std::process::ExitCode;

use clap::Parser;

use bgppeer_webhook::cmd::Cli;

fn main() -> ExitCode {
    let cli = Cli::parse();
    cli.run()
}
