//! The binary as a process: every error said once in plain words, a closed standard output
//! ending a command quietly, and a second signal stopping `serve` at once.

use std::io::Error as IoError;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use rustix::io::Errno;
use serde_json::Value;

use crate::binary::{self, stderr};
use crate::support;

/// The text std gives an OS error, such as `No such file or directory (os error 2)`.
fn os_error(errno: Errno) -> String {
    IoError::from_raw_os_error(errno.raw_os_error()).to_string()
}

/// [`os_error`] without its ` (os error N)` suffix, as the manifest readers say it.
fn os_error_text(errno: Errno) -> String {
    let text = os_error(errno);
    let suffix = format!(" (os error {})", errno.raw_os_error());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

/// Runs `bgppeer-webhook serve ARGS` on loopback ports and waits for it to exit (it fails at
/// start-up in these tests; the timeout only bounds a test that would otherwise hang).
fn serve_failing(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
        .arg("serve")
        .args(["--metrics-listen", "127.0.0.1:0", "--log-format", "json"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// A serving pair written to a temporary directory: (directory, cert path, key path).
fn pair_files() -> (tempfile::TempDir, String, String) {
    let certs = support::generate_certs();
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("tls.crt");
    let key = dir.path().join("tls.key");
    std::fs::write(&cert, &certs.tls_cert_pem).unwrap();
    std::fs::write(&key, &certs.tls_key_pem).unwrap();
    let (cert, key) = (
        cert.to_str().unwrap().to_owned(),
        key.to_str().unwrap().to_owned(),
    );
    (dir, cert, key)
}

#[test]
fn a_missing_nodes_file_is_named_once() {
    let output = binary::run(
        "explain",
        &[
            "--nodes",
            "nope.json",
            "tests/fixtures/explain/peers/peers.yaml",
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: reading --nodes: nope.json: {}\n",
            os_error_text(Errno::NOENT)
        )
    );
}

#[test]
fn a_port_in_use_is_said_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let (_dir, cert, key) = pair_files();
    let output = serve_failing(&[
        "--listen",
        &address,
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: cannot listen on {address}: {}\n",
            os_error(Errno::ADDRINUSE)
        )
    );
}

#[test]
fn a_key_of_another_certificate_is_said_in_words() {
    let (_first, cert, _) = pair_files();
    let (_second, _, key) = pair_files();
    let output = serve_failing(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!("error: the private key in {key} does not match the certificate in {cert}\n")
    );
}

#[test]
fn a_missing_certificate_or_kubeconfig_is_named_once() {
    let (dir, cert, key) = pair_files();
    let missing = dir.path().join("missing.crt");
    let missing = missing.to_str().unwrap();
    let output = serve_failing(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert-file",
        missing,
        "--tls-key-file",
        &key,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!("error: cannot read {missing}: {}\n", os_error(Errno::NOENT))
    );

    let kubeconfig = dir.path().join("kubeconfig");
    let kubeconfig = kubeconfig.to_str().unwrap();
    let output = serve_failing(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert-file",
        &cert,
        "--tls-key-file",
        &key,
        "--cluster-checks",
        "--kubeconfig",
        kubeconfig,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: cannot start the cluster checks: cannot read the kubeconfig {kubeconfig}: {}\n",
            os_error(Errno::NOENT)
        )
    );
}

/// Runs `bgppeer-webhook ARGS` with its standard output already closed by the reader: every
/// write the command makes fails with a broken pipe.
fn run_with_stdout_closed(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

#[test]
fn every_command_ends_quietly_on_a_closed_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out = out.to_str().unwrap();
    let explain = [
        "explain",
        "--nodes",
        "tests/fixtures/explain/nodes/nodes.json",
        "tests/fixtures/explain/peers/peers.yaml",
    ];
    let verdict = binary::run(explain[0], &explain[1..], b"").status.code();
    let commands: [(&[&str], Option<i32>); 6] = [
        (&explain, verdict),
        (&[&explain[..], &["-o", "json"]].concat(), verdict),
        (&["selector", "rack == 'r1'"], Some(0)),
        (
            &["selector", "rack == 'r1'", "--labels", "rack=r2"],
            Some(3),
        ),
        (&["check", "tests/fixtures/manifests/invalid.yaml"], Some(1)),
        (&["certs", "--out", out], Some(0)),
    ];
    for (args, code) in commands {
        let output = run_with_stdout_closed(args);
        assert_eq!(output.status.code(), code, "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), "", "{args:?}");
    }
    assert!(
        dir.path().join("certs/tls.key").exists(),
        "certs did its work"
    );
}

/// Sends `signal` (`INT`, `TERM`) to the process.
fn signal(child: &std::process::Child, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
}

/// Waits up to `limit` for the process to exit; its exit code and how long it took.
fn exit_within(child: &mut std::process::Child, limit: Duration) -> (Option<i32>, Duration) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), started.elapsed());
        }
        assert!(started.elapsed() < limit, "the server did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for the log line whose message is `message`.
fn wait_for_log(server: &support::BinaryServer, message: &str) -> Value {
    loop {
        let line = server
            .lines
            .recv_timeout(Duration::from_secs(10))
            .unwrap_or_else(|_| panic!("no {message:?} log line"));
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["message"] == message {
            return event;
        }
    }
}

#[test]
fn a_second_signal_stops_serve_at_once() {
    // The default shutdown delay (5s) would keep it serving.
    let mut server = support::BinaryServer::start("-n 1024", &[]);
    signal(&server.child, "INT");
    wait_for_log(&server, "received a shutdown signal");
    signal(&server.child, "INT");
    let (code, took) = exit_within(&mut server.child, Duration::from_secs(3));
    assert_eq!(code, Some(130), "128 + SIGINT");
    assert!(took < Duration::from_secs(2), "{took:?}");
    let event = wait_for_log(&server, "received a second signal; stopping now");
    assert_eq!(event["signal"], "SIGINT");
}

#[test]
fn without_a_shutdown_delay_one_signal_stops_serve_at_once() {
    // What `make run` passes.
    let mut server = support::BinaryServer::start("-n 1024", &["--shutdown-delay", "0s"]);
    signal(&server.child, "INT");
    let (code, took) = exit_within(&mut server.child, Duration::from_secs(3));
    assert_eq!(code, Some(0));
    assert!(took < Duration::from_secs(1), "{took:?}");
}
