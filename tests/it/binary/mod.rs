//! Runs the real `bgppeer-webhook` binary, for the end-to-end tests of its subcommands.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// Runs `bgppeer-webhook SUBCOMMAND ARGS...` from the crate's root (so fixture paths are
/// relative to it), writes `stdin` to its standard input, and waits for it to finish.
///
/// The commands that find a cluster as kubectl does find none: no `KUBECONFIG`, a home without
/// `.kube/config` and no service account, whatever the machine running the tests has.
pub fn run(subcommand: &str, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
        .env_remove("KUBECONFIG")
        .env("HOME", concat!(env!("CARGO_TARGET_TMPDIR"), "/no-home"))
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT")
        .arg(subcommand)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    // A command that exits without reading its input closes the pipe: not a test failure.
    let _ = input.write_all(stdin);
    drop(input);
    child.wait_with_output().expect("the binary finishes")
}

/// The command's standard output.
pub fn stdout(output: &Output) -> &str {
    std::str::from_utf8(&output.stdout).expect("stdout is UTF-8")
}

/// The command's standard error.
pub fn stderr(output: &Output) -> &str {
    std::str::from_utf8(&output.stderr).expect("stderr is UTF-8")
}
