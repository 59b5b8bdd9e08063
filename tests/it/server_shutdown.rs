//! Graceful shutdown: readiness flips at once, requests keep being served during the shutdown
//! delay, in-flight requests finish, and the process exits 0 on SIGTERM.

use crate::support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hyper::StatusCode;
use serde_json::{Value, json};
use support::{HttpVersion, WebhookClient, peer, review};
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

/// Keeps `client` sending until `stop`; returns the failures.
fn keep_sending(
    client: WebhookClient,
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicUsize>,
) -> tokio::task::JoinHandle<Vec<String>> {
    tokio::spawn(async move {
        let body = serde_json::to_vec(&delete_review()).unwrap();
        let mut failures = Vec::new();
        while !stop.load(Ordering::SeqCst) {
            match client
                .post(
                    "/validate?timeout=10s",
                    Some("application/json"),
                    body.clone(),
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
    })
}

/// Starts an HTTP/1.1 request on a fresh connection and sends half of its body; the returned
/// closure sends the rest and reads the answer.
async fn straddling_request(
    addr: SocketAddr,
    ca_pem: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let mut tls = support::client_tls(ca_pem, None);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut stream = support::tls_connect(addr, tls).await.unwrap();
    let body = serde_json::to_vec(&delete_review()).unwrap();
    let head = support::http1_post_head("/validate?timeout=10s", body.len());
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body[..body.len() / 2]).await.unwrap();
    stream.flush().await.unwrap();
    stream
}

async fn finish_straddling_request(
    mut stream: tokio_rustls::client::TlsStream<tokio::net::TcpStream>,
) -> String {
    let body = serde_json::to_vec(&delete_review()).unwrap();
    stream.write_all(&body[body.len() / 2..]).await.unwrap();
    stream.flush().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("no answer to the in-flight request")
        .ok();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_shutdown_sequence() {
    let server = support::TestServer::start_with(|config| {
        config.shutdown_delay = Duration::from_millis(600);
    })
    .await;
    let client = server.client(HttpVersion::Http2);
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    let in_flight = straddling_request(server.addr, &server.certs.ca_cert_pem).await;

    server.shutdown.shutdown();
    let (status, body) = server.ops_get("/readyz").await;
    assert_eq!(
        (status, body.as_str()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: shutting down\n"
        )
    );
    assert_eq!(server.ops_get("/healthz").await.0, StatusCode::OK);
    // Still served during the delay, on the existing connection and on new ones.
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    assert_eq!(
        server
            .client(HttpVersion::Http1)
            .review("/mutate", &delete_review())
            .await
            .status,
        StatusCode::OK
    );
    // The half-sent request finishes after accepting has stopped.
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "still accepting"
    );
    let answer = finish_straddling_request(in_flight).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
    assert!(answer.contains("\"allowed\":true"), "{answer}");
    let addr = server.metrics_addr;
    server.stop().await;
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "operations port still open"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_during_a_request_stream_fails_no_request_and_exits_zero() {
    let certs = support::generate_certs();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("tls.crt"), &certs.tls_cert_pem).unwrap();
    std::fs::write(dir.path().join("tls.key"), &certs.tls_key_pem).unwrap();
    let delay = Duration::from_millis(1500);
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .args(["--shutdown-delay", "1500ms", "--log-format", "json"])
        .arg("--tls-cert-file")
        .arg(dir.path().join("tls.crt"))
        .arg("--tls-key-file")
        .arg(dir.path().join("tls.key"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();

    // The bound addresses are in the first log line.
    let stdout = child.stdout.take().unwrap();
    let (lines_tx, lines_rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let started: Value = loop {
        let line = lines_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the server did not start");
        let event: Value = serde_json::from_str(&line).unwrap();
        if event["message"] == "serving admission webhooks" {
            break event;
        }
    };
    let addr: SocketAddr = started["addr"].as_str().unwrap().parse().unwrap();
    let metrics_addr: SocketAddr = started["metrics_addr"].as_str().unwrap().parse().unwrap();
    assert_eq!(
        support::ops_get(metrics_addr, "/readyz").await.0,
        StatusCode::OK
    );

    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = [HttpVersion::Http2, HttpVersion::Http1, HttpVersion::Http2]
        .into_iter()
        .map(|version| {
            keep_sending(
                WebhookClient::new(addr, &certs.ca_cert_pem, version),
                stop.clone(),
                sent.clone(),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(terminated.success());
    let signalled = Instant::now();

    // Readiness flips at once.
    loop {
        let (status, _) = support::ops_get(metrics_addr, "/readyz").await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            break;
        }
        assert!(
            signalled.elapsed() < Duration::from_millis(500),
            "readiness did not flip"
        );
    }
    // Traffic continues through most of the delay, then the senders stop, as they would once
    // the endpoints have dropped the pod.
    tokio::time::sleep(delay.mul_f64(0.6)).await;
    let in_flight = straddling_request(addr, &certs.ca_cert_pem).await;
    tokio::time::sleep(delay.mul_f64(0.2)).await;
    stop.store(true, Ordering::SeqCst);
    for sender in senders {
        let failures = sender.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
    }
    assert!(
        sent.load(Ordering::SeqCst) > 20,
        "too few requests to mean anything"
    );

    // The request in flight when accepting stops still gets its answer.
    tokio::time::sleep(delay.mul_f64(0.4)).await;
    let answer = finish_straddling_request(in_flight).await;
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");

    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the server did not exit");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(status.code(), Some(0));
    let logs: Vec<String> = lines_rx.try_iter().collect();
    assert!(
        logs.iter()
            .any(|line| line.contains("received a shutdown signal") && line.contains("SIGTERM")),
        "{logs:#?}"
    );
    assert!(
        logs.iter().any(|line| line.contains("\"shut down\"")),
        "{logs:#?}"
    );
}

/// One HTTP/1.1 answer read from a raw connection: its head, and whether the server closed the
/// connection afterwards.
async fn read_http1_answer<S: tokio::io::AsyncRead + Unpin>(stream: &mut S) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => return None,
        }
    }
    let head = String::from_utf8(head).ok()?;
    let length: usize = head
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("content-length: ")
                .map(str::to_owned)
        })?
        .trim()
        .parse()
        .ok()?;
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(head)
}

/// What one keep-alive client saw across the shutdown.
#[derive(Debug, Default)]
struct Seen {
    /// Requests whose answer was complete.
    answered: usize,
    /// Requests sent that got no complete answer, or connections that could not be opened.
    failures: Vec<String>,
    /// Answers to requests sent after shutdown began without `Connection: close`.
    kept_alive_after_shutdown: usize,
    /// Connections the server did not close after answering with `Connection: close`.
    not_closed: usize,
}

/// A raw HTTP/1.1 keep-alive client: sends POST /validate over one connection until told to
/// stop or until the server announces `Connection: close`, then reconnects.
fn raw_keep_alive_client(
    addr: SocketAddr,
    ca_pem: String,
    stop: Arc<AtomicBool>,
    shutdown_begun: Arc<AtomicBool>,
) -> tokio::task::JoinHandle<Seen> {
    tokio::spawn(async move {
        let body = serde_json::to_vec(&delete_review()).unwrap();
        let request = [
            support::http1_post_head("/validate?timeout=10s", body.len()).into_bytes(),
            body,
        ]
        .concat();
        let mut seen = Seen::default();
        'connections: while !stop.load(Ordering::SeqCst) {
            let mut tls = support::client_tls(&ca_pem, None);
            tls.alpn_protocols = vec![b"http/1.1".to_vec()];
            let mut stream = match support::tls_connect(addr, tls).await {
                Ok(stream) => stream,
                Err(err) => {
                    seen.failures.push(format!("connect: {err}"));
                    break;
                }
            };
            while !stop.load(Ordering::SeqCst) {
                let after_shutdown = shutdown_begun.load(Ordering::SeqCst);
                if let Err(err) = stream.write_all(&request).await {
                    seen.failures.push(format!("write: {err}"));
                    continue 'connections;
                }
                let Some(head) = read_http1_answer(&mut stream).await else {
                    seen.failures.push("no complete answer".to_owned());
                    continue 'connections;
                };
                seen.answered += 1;
                let close = head
                    .to_ascii_lowercase()
                    .contains("\r\nconnection: close\r\n");
                if after_shutdown && !close {
                    seen.kept_alive_after_shutdown += 1;
                }
                if close {
                    let mut rest = [0u8; 1];
                    let closed =
                        tokio::time::timeout(Duration::from_secs(1), stream.read(&mut rest)).await;
                    if !matches!(closed, Ok(Ok(0) | Err(_))) {
                        seen.not_closed += 1;
                    }
                    continue 'connections;
                }
            }
        }
        seen
    })
}

/// HTTP/1.1 keep-alive clients send continuously through most of the shutdown delay, as the
/// apiserver does until the endpoints drop the pod, then stop. Counted as failures: any request
/// written that got no complete answer, and any connection that could not be opened (none
/// should be refused: the port accepts until the delay ends). Every answer to a request sent
/// after shutdown began carries `Connection: close` and the server then closes the connection,
/// so that no idle keep-alive connection is left for a client to reuse when accepting stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn http1_keep_alive_clients_lose_no_request_across_shutdown() {
    let delay = Duration::from_millis(1500);
    let server = support::TestServer::start_with(|config| {
        config.shutdown_delay = delay;
    })
    .await;
    let stop = Arc::new(AtomicBool::new(false));
    let shutdown_begun = Arc::new(AtomicBool::new(false));
    let raw: Vec<_> = (0..4)
        .map(|_| {
            raw_keep_alive_client(
                server.addr,
                server.certs.ca_cert_pem.clone(),
                stop.clone(),
                shutdown_begun.clone(),
            )
        })
        .collect();
    // Pooled hyper clients, as Go's transport pools connections.
    let sent = Arc::new(AtomicUsize::new(0));
    let pooled: Vec<_> = (0..2)
        .map(|_| {
            keep_sending(
                server.client(HttpVersion::Http1),
                stop.clone(),
                sent.clone(),
            )
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;

    server.shutdown.shutdown();
    shutdown_begun.store(true, Ordering::SeqCst);
    let before = sent.load(Ordering::SeqCst);
    tokio::time::sleep(delay.mul_f64(0.8)).await;
    stop.store(true, Ordering::SeqCst);

    let mut answered = 0;
    for client in raw {
        let seen = client.await.unwrap();
        assert!(seen.failures.is_empty(), "{seen:?}");
        assert_eq!(seen.kept_alive_after_shutdown, 0, "{seen:?}");
        assert_eq!(seen.not_closed, 0, "{seen:?}");
        answered += seen.answered;
    }
    for client in pooled {
        let failures = client.await.unwrap();
        assert!(failures.is_empty(), "failed requests: {failures:?}");
    }
    assert!(
        answered > 20,
        "too few raw requests to mean anything: {answered}"
    );
    assert!(
        sent.load(Ordering::SeqCst) > before + 10,
        "too few pooled requests during the delay"
    );

    // A connection opened just before accepting stops, whose request is sent just after: it is
    // answered, not cut off.
    let mut tls = support::client_tls(&server.certs.ca_cert_pem, None);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut late = support::tls_connect(server.addr, tls).await.unwrap();
    tokio::time::sleep(delay.mul_f64(0.4)).await;
    assert!(
        tokio::net::TcpStream::connect(server.addr).await.is_err(),
        "still accepting"
    );
    let body = serde_json::to_vec(&delete_review()).unwrap();
    late.write_all(support::http1_post_head("/validate?timeout=10s", body.len()).as_bytes())
        .await
        .unwrap();
    late.write_all(&body).await.unwrap();
    let head = read_http1_answer(&mut late)
        .await
        .expect("the request sent after accepting stopped got no answer");
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(head.contains("connection: close\r\n"), "{head}");
    server.stop().await;
}
