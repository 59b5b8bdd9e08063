//! `bgppeer-webhook certs`: writes a CA and a serving pair the server accepts.

use crate::support;

use std::process::Command;

fn certs(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
        .arg("certs")
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_a_pair_the_server_serves_and_refuses_to_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out_str = out.to_str().unwrap();
    let first = certs(&["--out", out_str]);
    assert!(first.status.success(), "{first:?}");
    let stdout = String::from_utf8(first.stdout).unwrap();
    assert!(
        stdout.contains("serving certificate for localhost, bgppeer-webhook.bgppeer-webhook.svc, 127.0.0.1, valid 365 days"),
        "{stdout}"
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["ca.key", "tls.key"] {
            let mode = std::fs::metadata(out.join(key))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{key} is readable by others: {mode:o}");
        }
    }

    let again = certs(&["--out", out_str]);
    assert_eq!(again.status.code(), Some(2));
    let stderr = String::from_utf8(again.stderr).unwrap();
    assert!(
        stderr.contains("already exists; pass --force to replace the certificates"),
        "{stderr}"
    );

    // The written pair serves, and verifies under the in-cluster name.
    let ca = std::fs::read_to_string(out.join("ca.crt")).unwrap();
    let mut config = bgppeer_webhook::server::Config::new(out.join("tls.crt"), out.join("tls.key"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.metrics_listen = "127.0.0.1:0".parse().unwrap();
    config.shutdown_delay = std::time::Duration::ZERO;
    let running = bgppeer_webhook::server::start(config).await.unwrap();
    let stream = support::tls_connect(running.addr, support::client_tls(&ca, None)).await;
    assert!(stream.is_ok(), "{stream:?}");
    running.shutdown_handle().shutdown();
    running.wait().await;

    let forced = certs(&[
        "--out",
        out_str,
        "--force",
        "--dns",
        "webhook.example",
        "--ip",
        "::1",
        "--days",
        "7",
    ]);
    assert!(forced.status.success(), "{forced:?}");
    let stdout = String::from_utf8(forced.stdout).unwrap();
    assert!(
        stdout.contains("serving certificate for webhook.example, ::1, valid 7 days"),
        "{stdout}"
    );
    assert_ne!(std::fs::read_to_string(out.join("ca.crt")).unwrap(), ca);
}
