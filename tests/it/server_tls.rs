//! TLS behaviour over real sockets: certificate rotation through a Secret-volume symlink swap
//! under load, broken updates, and mutual TLS.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde_json::{Value, json};
use support::{HttpVersion, TestServer, WebhookClient, peer, review};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn delete_review() -> Value {
    review(
        "crd.projectcalico.org/v1",
        "DELETE",
        Value::Null,
        peer("crd.projectcalico.org/v1", "p", json!({})),
        false,
    )
}

/// The leaf a fresh connection is served.
async fn served_leaf(server: &TestServer, tls: rustls::ClientConfig) -> Vec<u8> {
    support::peer_leaf(&support::tls_connect(server.addr, tls).await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_through_a_symlink_swap_drops_no_request() {
    let server = TestServer::start_with(|config| {
        // Rely on the directory watch: the periodic check alone would be too slow here.
        config.cert_check_interval = Duration::from_secs(60);
    })
    .await;
    let next = support::generate_certs();
    let trust = [server.certs.ca_cert_pem.as_str(), next.ca_cert_pem.as_str()];
    assert_eq!(
        served_leaf(&server, support::client_tls_trusting(&trust)).await,
        support::leaf_der(&server.certs.tls_cert_pem)
    );

    // Clients keep sending over pooled HTTP/2 and HTTP/1.1 connections and over a fresh
    // connection per request, throughout the rotation.
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let mut senders = Vec::new();
    for mode in 0..3 {
        let stop = stop.clone();
        let sent = sent.clone();
        let addr = server.addr;
        let tls = support::client_tls_trusting(&trust);
        senders.push(tokio::spawn(async move {
            let pooled = match mode {
                0 => Some(WebhookClient::with_tls(
                    addr,
                    tls.clone(),
                    HttpVersion::Http2,
                )),
                1 => Some(WebhookClient::with_tls(
                    addr,
                    tls.clone(),
                    HttpVersion::Http1,
                )),
                _ => None,
            };
            let mut failures = Vec::new();
            while !stop.load(Ordering::SeqCst) {
                let client = match &pooled {
                    Some(client) => client.clone(),
                    None => WebhookClient::with_tls(addr, tls.clone(), HttpVersion::Http1),
                };
                match client
                    .post(
                        "/validate?timeout=5s",
                        Some("application/json"),
                        serde_json::to_vec(&delete_review()).unwrap(),
                    )
                    .await
                {
                    Ok(answer) if answer.status == StatusCode::OK => {}
                    Ok(answer) => failures.push(format!("status {}", answer.status)),
                    Err(err) => failures.push(format!("{err:?}")),
                }
                sent.fetch_add(1, Ordering::SeqCst);
            }
            failures
        }));
    }

    tokio::time::sleep(Duration::from_millis(300)).await;
    server.volume.update(&next.tls_cert_pem, &next.tls_key_pem);
    let swapped_at = Instant::now();
    let new_leaf = support::leaf_der(&next.tls_cert_pem);
    loop {
        if served_leaf(&server, support::client_tls_trusting(&trust)).await == new_leaf {
            break;
        }
        assert!(
            swapped_at.elapsed() < Duration::from_secs(5),
            "new connections still see the old certificate after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // New connections verify against the new CA alone.
    assert_eq!(
        served_leaf(&server, support::client_tls(&next.ca_cert_pem, None)).await,
        new_leaf
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for sender in senders {
        let failures = sender.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
    }
    assert!(
        sent.load(Ordering::SeqCst) > 20,
        "too few requests to mean anything"
    );

    let (_, metrics) = server.ops_get("/metrics").await;
    assert!(
        metrics.contains("bgppeer_webhook_tls_reloads_total{result=\"success\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("bgppeer_webhook_tls_reloads_total{result=\"failure\"} 0\n"),
        "{metrics}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_update_keeps_the_old_pair() {
    let server = TestServer::start_with(|config| {
        config.cert_check_interval = Duration::from_millis(100);
    })
    .await;
    let other = support::generate_certs();
    let old_leaf = support::leaf_der(&server.certs.tls_cert_pem);
    let tls = || support::client_tls(&server.certs.ca_cert_pem, None);

    // Certificate and key that do not belong together.
    // (A broken pair is read again after the settle time before it is counted.)
    let settled = bgppeer_webhook::server::reload::FAILURE_SETTLE + Duration::from_millis(600);
    server
        .volume
        .update(&other.tls_cert_pem, &server.certs.tls_key_pem);
    tokio::time::sleep(settled).await;
    assert_eq!(served_leaf(&server, tls()).await, old_leaf);
    // Garbage.
    server.volume.update("not a certificate", "not a key");
    tokio::time::sleep(settled).await;
    assert_eq!(served_leaf(&server, tls()).await, old_leaf);

    let (status, _) = server.ops_get("/readyz").await;
    assert_eq!(
        status,
        StatusCode::OK,
        "still ready with the old, valid pair"
    );
    let (_, metrics) = server.ops_get("/metrics").await;
    // Each broken version is counted once, not on every periodic check.
    assert!(
        metrics.contains("bgppeer_webhook_tls_reloads_total{result=\"failure\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("bgppeer_webhook_tls_reloads_total{result=\"success\"} 0\n"),
        "{metrics}"
    );

    // A good pair is picked up (here by the periodic check or the watch, whichever is first).
    server
        .volume
        .update(&other.tls_cert_pem, &other.tls_key_pem);
    let deadline = Instant::now() + Duration::from_secs(5);
    let both = [
        server.certs.ca_cert_pem.as_str(),
        other.ca_cert_pem.as_str(),
    ];
    while served_leaf(&server, support::client_tls_trusting(&both)).await
        != support::leaf_der(&other.tls_cert_pem)
    {
        assert!(Instant::now() < deadline, "the good pair was not loaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mutual_tls_requires_a_client_certificate_from_the_configured_ca() {
    let (client_ca, client_cert, client_key) = support::client_ca_and_cert();
    let ca_dir = tempfile::tempdir().unwrap();
    let ca_file = ca_dir.path().join("client-ca.crt");
    std::fs::write(&ca_file, &client_ca).unwrap();
    let server = TestServer::start_with(|config| config.client_ca_file = Some(ca_file)).await;
    let server_ca = server.certs.ca_cert_pem.clone();

    // With a certificate from the configured CA: served, over both protocols.
    for version in [HttpVersion::Http1, HttpVersion::Http2] {
        let tls = support::client_tls(&server_ca, Some((&client_cert, &client_key)));
        let client = WebhookClient::with_tls(server.addr, tls, version);
        let answer = client.review("/validate", &delete_review()).await;
        assert_eq!(answer.status, StatusCode::OK);
    }

    // Without a client certificate: the handshake is refused (with TLS 1.3 the client learns it
    // on its first read), and no request gets through.
    let refused = WebhookClient::with_tls(
        server.addr,
        support::client_tls(&server_ca, None),
        HttpVersion::Http2,
    )
    .post("/validate", Some("application/json"), "{}")
    .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_handshake_refused(&server, support::client_tls(&server_ca, None)).await;

    // A certificate from another CA (here the server's own CA's serving pair) is refused too.
    let stranger = support::generate_certs();
    assert_handshake_refused(
        &server,
        support::client_tls(
            &server_ca,
            Some((&stranger.tls_cert_pem, &stranger.tls_key_pem)),
        ),
    )
    .await;
    server.stop().await;
}

async fn assert_handshake_refused(server: &TestServer, tls: rustls::ClientConfig) {
    let outcome = async {
        let mut stream = support::tls_connect(server.addr, tls).await?;
        stream
            .write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
            .await?;
        let mut buffer = [0u8; 64];
        stream.read(&mut buffer).await
    }
    .await;
    match outcome {
        Err(err) => {
            let text = err.to_string();
            assert!(
                text.contains("CertificateRequired")
                    || text.contains("certificate")
                    || text.contains("alert"),
                "unexpected error: {text}"
            );
        }
        Ok(read) => panic!("the server answered {read} bytes without a valid client certificate"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_a_certificate_chain() {
    let server = TestServer::start().await;
    let (root, chain, key) = support::chained_pair();
    server.volume.update(&chain, &key);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        // Trusting only the root: verifiable only if the intermediate is sent too.
        let trust = [server.certs.ca_cert_pem.as_str(), root.as_str()];
        let stream = support::tls_connect(server.addr, support::client_tls_trusting(&trust))
            .await
            .unwrap();
        let presented = stream.get_ref().1.peer_certificates().unwrap().len();
        if presented == 2 {
            break;
        }
        assert!(Instant::now() < deadline, "the chain was not loaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let client = WebhookClient::with_tls(
        server.addr,
        support::client_tls(&root, None),
        HttpVersion::Http2,
    );
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    server.stop().await;
}

/// `bgppeer_webhook_tls_reloads_total` for `result`, read from /metrics.
async fn reloads(metrics_addr: std::net::SocketAddr, result: &str) -> u64 {
    let (_, metrics) = support::ops_get(metrics_addr, "/metrics").await;
    let prefix = format!("bgppeer_webhook_tls_reloads_total{{result=\"{result}\"}} ");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in {metrics}"))
        .parse()
        .unwrap()
}

/// Replaces `path` by a rename, as `mv` and most rotation tools do.
fn rename_into(path: &std::path::Path, contents: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, contents).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_by_two_renames_is_not_a_failure() {
    let server = support::BinaryServer::start(
        "-n 4096",
        &["--cert-check-interval", "1h", "--log-level", "debug"],
    );
    let cert = server.dir.path().join("tls.crt");
    let key = server.dir.path().join("tls.key");
    let next = support::generate_certs();
    let trust = [server.certs.ca_cert_pem.as_str(), next.ca_cert_pem.as_str()];

    // Requests keep flowing throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let sender = {
        let stop = stop.clone();
        let client = WebhookClient::with_tls(
            server.addr,
            support::client_tls_trusting(&trust),
            HttpVersion::Http2,
        );
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut sent = 0;
            while !stop.load(Ordering::SeqCst) {
                match client
                    .post(
                        "/validate?timeout=5s",
                        Some("application/json"),
                        serde_json::to_vec(&delete_review()).unwrap(),
                    )
                    .await
                {
                    Ok(answer) if answer.status == StatusCode::OK => {}
                    other => failures.push(format!("{other:?}")),
                }
                sent += 1;
            }
            (sent, failures)
        })
    };

    // Certificate first, then the key, 500 ms apart (less than the settle time).
    rename_into(&cert, &next.tls_cert_pem);
    tokio::time::sleep(Duration::from_millis(500)).await;
    rename_into(&key, &next.tls_key_pem);
    let deadline = Instant::now() + Duration::from_secs(5);
    while reloads(server.metrics_addr, "success").await == 0 {
        assert!(Instant::now() < deadline, "the new pair was not loaded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tls = support::client_tls_trusting(&trust);
    assert_eq!(
        support::peer_leaf(&support::tls_connect(server.addr, tls).await.unwrap()),
        support::leaf_der(&next.tls_cert_pem)
    );
    // Back to back, under load.
    rename_into(&cert, &server.certs.tls_cert_pem);
    rename_into(&key, &server.certs.tls_key_pem);
    while reloads(server.metrics_addr, "success").await < 2 {
        assert!(
            Instant::now() < deadline,
            "the second rotation was not loaded"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(bgppeer_webhook::server::reload::FAILURE_SETTLE).await;
    assert_eq!(reloads(server.metrics_addr, "failure").await, 0);
    stop.store(true, Ordering::SeqCst);
    let (sent, failures) = sender.await.unwrap();
    assert!(failures.is_empty(), "{failures:?}");
    assert!(sent > 10, "too few requests to mean anything: {sent}");
    let logs: Vec<String> = server.lines.try_iter().collect();
    assert!(
        !logs.iter().any(|line| line.contains("\"ERROR\"")),
        "{logs:#?}"
    );
    assert!(
        logs.iter().any(|line| line.contains("cannot be used yet")),
        "the half-done rotation was not seen: {logs:#?}"
    );

    // A mismatch that persists is one failure, logged once.
    rename_into(&cert, &next.tls_cert_pem);
    let deadline = Instant::now() + Duration::from_secs(5);
    while reloads(server.metrics_addr, "failure").await == 0 {
        assert!(Instant::now() < deadline, "the mismatch was not reported");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reloads(server.metrics_addr, "failure").await, 1);
    let errors: Vec<String> = server
        .lines
        .try_iter()
        .filter(|line| line.contains("\"ERROR\""))
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("does not match the certificate"),
        "{errors:#?}"
    );
}
