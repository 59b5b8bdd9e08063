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
async fn writes_a_pair_the_server_serves_and_keeps_it() {
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

    // Run again, the certificates are kept (and say so), not an error.
    let ca = std::fs::read_to_string(out.join("ca.crt")).unwrap();
    let key = std::fs::read_to_string(out.join("tls.key")).unwrap();
    let again = certs(&["--out", out_str]);
    assert_eq!(again.status.code(), Some(0), "{again:?}");
    assert_eq!(
        String::from_utf8(again.stdout).unwrap(),
        format!(
            "kept the existing certificates in {out_str} (ca.crt, ca.key, tls.crt, tls.key); \
             pass --force to replace them\n"
        )
    );
    assert_eq!(String::from_utf8(again.stderr).unwrap(), "");
    assert_eq!(std::fs::read_to_string(out.join("ca.crt")).unwrap(), ca);
    assert_eq!(std::fs::read_to_string(out.join("tls.key")).unwrap(), key);

    // The written pair serves, and verifies under the in-cluster name.
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

#[test]
fn a_partial_set_is_refused_and_force_writes_a_new_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out_str = out.to_str().unwrap();
    assert!(certs(&["--out", out_str]).status.success());
    std::fs::remove_file(out.join("tls.key")).unwrap();
    let ca = std::fs::read_to_string(out.join("ca.crt")).unwrap();

    let partial = certs(&["--out", out_str]);
    assert_eq!(partial.status.code(), Some(2));
    assert_eq!(
        String::from_utf8(partial.stderr).unwrap(),
        format!(
            "error: {out_str} holds ca.crt, ca.key, tls.crt but not tls.key: a partial set cannot \
             be kept; pass --force to write a new set of all four files\n"
        )
    );
    assert_eq!(std::fs::read_to_string(out.join("ca.crt")).unwrap(), ca);
    assert!(!out.join("tls.key").exists());

    let forced = certs(&["--out", out_str, "--force"]);
    assert!(forced.status.success(), "{forced:?}");
    assert!(out.join("tls.key").exists());
    assert_ne!(std::fs::read_to_string(out.join("ca.crt")).unwrap(), ca);
}

/// `--force` over a private key someone made world-readable leaves it readable by its owner only.
#[cfg(unix)]
#[test]
fn force_narrows_an_existing_private_key_to_its_owner() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("certs");
    let out_str = out.to_str().unwrap();
    assert!(certs(&["--out", out_str]).status.success());
    for key in ["ca.key", "tls.key"] {
        std::fs::set_permissions(out.join(key), std::fs::Permissions::from_mode(0o644)).unwrap();
    }

    let forced = certs(&["--out", out_str, "--force"]);
    assert!(forced.status.success(), "{forced:?}");
    for key in ["ca.key", "tls.key"] {
        let mode = std::fs::metadata(out.join(key))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}");
    }
}
