//! The HTTP protocol of the admission endpoints over a real TLS socket: HTTP/1.1 and HTTP/2,
//! echoing, and every way a request can be malformed.

use crate::support;

use std::time::Duration;

use hyper::StatusCode;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use serde_json::{Value, json};
use support::{HttpVersion, TestServer, peer, review};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const BOTH: [HttpVersion; 2] = [HttpVersion::Http1, HttpVersion::Http2];

fn delete_review() -> Value {
    review(
        "crd.projectcalico.org/v1",
        "DELETE",
        Value::Null,
        peer(
            "crd.projectcalico.org/v1",
            "gone",
            json!({"asNumber": 64512}),
        ),
        false,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_over_http1_and_http2_echoing_uid_and_api_version() {
    let server = TestServer::start().await;
    for version in BOTH {
        let client = server.client(version);
        for path in ["/validate", "/mutate"] {
            let answer = client.review(path, &delete_review()).await;
            assert_eq!(answer.status, StatusCode::OK, "{version:?} {path}");
            let expected_version = match version {
                HttpVersion::Http1 => hyper::Version::HTTP_11,
                HttpVersion::Http2 => hyper::Version::HTTP_2,
            };
            assert_eq!(answer.version, expected_version);
            assert_eq!(
                answer.headers["content-type"], "application/json",
                "{version:?} {path}"
            );
            let body = answer.json();
            assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
            assert_eq!(body["kind"], "AdmissionReview");
            assert_eq!(body["response"]["uid"], "uid-DELETE-gone");
            assert_eq!(body["response"]["allowed"], true);
            assert!(
                body["response"].get("patch").is_none(),
                "DELETE is never patched"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unexpected_kind_is_allowed_with_a_warning() {
    let server = TestServer::start().await;
    let mut configmap = delete_review();
    configmap["request"]["operation"] = json!("CREATE");
    configmap["request"]["kind"] = json!({"group": "", "version": "v1", "kind": "ConfigMap"});
    configmap["request"]["resource"] =
        json!({"group": "", "version": "v1", "resource": "configmaps"});
    configmap["request"]["object"] =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}});
    for path in ["/validate", "/mutate"] {
        let body = server
            .client(HttpVersion::Http2)
            .review(path, &configmap)
            .await
            .json();
        assert_eq!(body["response"]["allowed"], true);
        let warnings = body["response"]["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 1);
        let warning = warnings[0].as_str().unwrap();
        assert!(
            warning.contains("was sent ConfigMap v1 (resource configmaps)"),
            "{warning}"
        );
        assert!(body["response"].get("patch").is_none());
    }
    server.stop().await;
}

/// Path, Content-Type, body, expected status, expected part of the error message.
type MalformedCase = (
    &'static str,
    Option<&'static str>,
    Vec<u8>,
    StatusCode,
    &'static str,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_requests_get_json_errors() {
    let server = TestServer::start_with(|config| config.max_body_bytes = 64 * 1024).await;
    for version in BOTH {
        let client = server.client(version);
        let cases: Vec<MalformedCase> = vec![
            (
                "/validate",
                Some("application/json"),
                b"{\"apiVersion\": ".to_vec(),
                StatusCode::BAD_REQUEST,
                "the body is not a valid admission.k8s.io/v1 AdmissionReview: EOF while parsing a value at line 1 column 15",
            ),
            (
                "/mutate",
                Some("application/json"),
                b"\xff\x00garbage".to_vec(),
                StatusCode::BAD_REQUEST,
                "the body is not a valid admission.k8s.io/v1 AdmissionReview",
            ),
            (
                "/validate",
                Some("application/json"),
                br#"{"apiVersion":"v1","kind":"Pod"}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "expected kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1\", got kind \"Pod\" and apiVersion \"v1\"",
            ),
            (
                "/validate",
                Some("application/json"),
                br#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.to_vec(),
                StatusCode::BAD_REQUEST,
                "the AdmissionReview has no request",
            ),
            (
                "/validate",
                Some("text/plain"),
                b"{}".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type \"text/plain\" is not supported; admission reviews must be sent as application/json",
            ),
            (
                "/mutate",
                None,
                b"{}".to_vec(),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Content-Type is missing",
            ),
            (
                "/validate",
                Some("application/json"),
                vec![b' '; 64 * 1024 + 1],
                StatusCode::PAYLOAD_TOO_LARGE,
                "is larger than the limit of 65536 bytes (--max-body-bytes)",
            ),
            (
                "/nope",
                Some("application/json"),
                b"{}".to_vec(),
                StatusCode::NOT_FOUND,
                "no such endpoint /nope: the admission endpoints are POST /validate and POST /mutate",
            ),
        ];
        for (path, content_type, body, status, message) in cases {
            let answer = client.post(path, content_type, body).await.unwrap();
            assert_eq!(answer.status, status, "{version:?} {path} {message}");
            let json = answer.json();
            assert_eq!(json["code"], status.as_u16());
            let error = json["error"].as_str().unwrap();
            assert!(
                error.contains(message),
                "{version:?}: {error:?} does not contain {message:?}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_body_without_content_length_is_refused() {
    // A chunked (HTTP/1.1) or length-less (HTTP/2) body is counted while it is read.
    let server = TestServer::start_with(|config| config.max_body_bytes = 1024).await;
    for version in BOTH {
        let client = server.client(version);
        let stream = futures_body(vec![vec![b' '; 800], vec![b' '; 800]]);
        let request = hyper::Request::post(format!("https://{}/validate", server.addr))
            .header("content-type", "application/json")
            .body(stream)
            .unwrap();
        let (status, body) = client.send_stream(request).await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{version:?}");
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body["error"],
            "the request body is larger than the limit of 1024 bytes (--max-body-bytes)"
        );
    }
    server.stop().await;
}

/// A streaming body of the given chunks, without a Content-Length.
fn futures_body(
    chunks: Vec<Vec<u8>>,
) -> futures_like::Iter<hyper::body::Frame<hyper::body::Bytes>> {
    futures_like::Iter(
        chunks
            .into_iter()
            .map(|chunk| hyper::body::Frame::data(hyper::body::Bytes::from(chunk)))
            .collect::<Vec<_>>()
            .into_iter(),
    )
}

mod futures_like {
    //! A minimal `Stream` over an iterator, to send a body in chunks without extra crates.
    use std::convert::Infallible;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct Iter<T>(pub std::vec::IntoIter<T>);

    impl<T: Unpin> hyper::body::Body for Iter<T>
    where
        T: Into<hyper::body::Frame<hyper::body::Bytes>>,
    {
        type Data = hyper::body::Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _cx: &mut Context<'_>,
        ) -> Poll<Option<Result<hyper::body::Frame<Self::Data>, Self::Error>>> {
            Poll::Ready(self.0.next().map(|frame| Ok(frame.into())))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_methods_get_405() {
    let server = TestServer::start().await;
    let client = server.client(HttpVersion::Http1);
    let request = hyper::Request::get(format!("https://{}/validate", server.addr))
        .body(http_body_util::Full::new(hyper::body::Bytes::new()))
        .unwrap();
    let answer = client.send(request).await.unwrap();
    assert_eq!(answer.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(answer.headers["allow"], "POST");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_slower_than_the_timeout_query_gets_an_answer_inside_it() {
    let server = TestServer::start().await;
    let mut tls = support::tls_connect(
        server.addr,
        support::client_tls(&server.certs.ca_cert_pem, None),
    )
    .await
    .unwrap();
    // Headers announce 100 bytes; only 10 arrive. With ?timeout=1s the answer must come well
    // before the apiserver would give up.
    let started = std::time::Instant::now();
    tls.write_all(
        b"POST /validate?timeout=1s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"kind\":  ",
    )
    .await
    .unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 1024];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(3), tls.read(&mut buffer))
            .await
            .expect("no answer within 3 s")
            .unwrap();
        answer.extend_from_slice(&buffer[..read]);
        if read == 0 || answer.windows(4).any(|w| w == b"\r\n\r\n") && answer.ends_with(b"}") {
            break;
        }
    }
    let elapsed = started.elapsed();
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(
        text.contains("the request body did not arrive within 800 ms"),
        "{text}"
    );
    assert!(elapsed < Duration::from_millis(1000), "{elapsed:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plaintext_http_to_the_tls_port_is_answered_and_closed() {
    let server = TestServer::start().await;
    let mut tcp = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    tcp.write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), tcp.read_to_string(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 400 Bad Request\r\n"),
        "{answer}"
    );
    assert!(answer.ends_with("Client sent an HTTP request to an HTTPS server.\n"));
    // The server is unharmed.
    let answer = server
        .client(HttpVersion::Http2)
        .review("/validate", &delete_review())
        .await;
    assert_eq!(answer.status, StatusCode::OK);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_handshakes_and_slow_headers_are_cut_off() {
    let server = TestServer::start_with(|config| {
        config.timeouts.handshake = Duration::from_millis(300);
        config.timeouts.header_read = Duration::from_millis(300);
        config.timeouts.idle = Duration::from_millis(400);
    })
    .await;
    // A client that connects and says nothing is disconnected after the handshake timeout.
    let mut silent = tokio::net::TcpStream::connect(server.addr).await.unwrap();
    let mut buffer = [0u8; 16];
    let read = tokio::time::timeout(Duration::from_secs(3), silent.read(&mut buffer))
        .await
        .expect("the silent connection was not closed");
    assert!(matches!(read, Ok(0) | Err(_)));

    // A client that completes the handshake but never finishes its headers is disconnected too.
    let mut slow = support::tls_connect(
        server.addr,
        support::client_tls(&server.certs.ca_cert_pem, None),
    )
    .await
    .unwrap();
    slow.write_all(b"POST /validate HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let read = tokio::time::timeout(Duration::from_secs(3), slow.read(&mut buffer))
        .await
        .expect("the slow connection was not closed");
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");

    // An idle HTTP/2 connection is closed after the idle timeout; the client reconnects.
    let client = server.client(HttpVersion::Http2);
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(900)).await;
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_versions_and_alpn() {
    let server = TestServer::start().await;
    for (version, name) in [
        (&rustls::version::TLS12, "TLSv1_2"),
        (&rustls::version::TLS13, "TLSv1_3"),
    ] {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(rustls::pki_types::CertificateDer::from(support::leaf_der(
                &server.certs.ca_cert_pem,
            )))
            .unwrap();
        let mut config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let stream = support::tls_connect(server.addr, config).await.unwrap();
        let connection = stream.get_ref().1;
        assert_eq!(
            format!("{:?}", connection.protocol_version().unwrap()),
            name
        );
        assert_eq!(connection.alpn_protocol(), Some(&b"h2"[..]));
        assert_eq!(
            support::peer_leaf(&stream),
            support::leaf_der(&server.certs.tls_cert_pem)
        );
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn arbitrary_bytes_never_hurt_the_server() {
    let server = TestServer::start().await;
    let client = server.client(HttpVersion::Http2);
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    for length in [0usize, 1, 7, 100, 4096] {
        for _ in 0..10 {
            let body: Vec<u8> = (0..length)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed & 0xff) as u8
                })
                .collect();
            let answer = client
                .post("/validate", Some("application/json"), body)
                .await
                .unwrap();
            assert_eq!(answer.status, StatusCode::BAD_REQUEST);
        }
    }
    // Valid JSON of every wrong shape.
    for body in [
        "null",
        "[]",
        "1",
        "\"x\"",
        "{}",
        r#"{"request":null}"#,
        r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":1}}"#,
        r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{},"resource":{},"operation":"EXPLODE","userInfo":{}}}"#,
    ] {
        let answer = client
            .post("/mutate", Some("application/json"), body)
            .await
            .unwrap();
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{body}");
    }
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    server.stop().await;
}

/// Reads until the server closes `stream`, or fails after `within`; returns how long it took.
async fn closed_within<S: tokio::io::AsyncRead + Unpin>(
    stream: &mut S,
    within: Duration,
) -> Duration {
    let started = std::time::Instant::now();
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("the connection was still open after {within:?}"));
    started.elapsed()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_handshaken_connection_is_closed_after_the_header_read_timeout() {
    let server = TestServer::start_with(|config| {
        config.timeouts.header_read = Duration::from_millis(400);
        config.timeouts.idle = Duration::from_secs(30);
    })
    .await;
    // Whatever ALPN says, a connection that asks nothing is closed after --header-read-timeout,
    // not after --idle-timeout.
    for alpn in [vec![], vec![b"h2".to_vec()], vec![b"http/1.1".to_vec()]] {
        let mut tls = support::client_tls(&server.certs.ca_cert_pem, None);
        tls.alpn_protocols = alpn.clone();
        let mut silent = support::tls_connect(server.addr, tls).await.unwrap();
        let took = closed_within(&mut silent, Duration::from_secs(5)).await;
        assert!(took >= Duration::from_millis(300), "{alpn:?}: {took:?}");
    }
    // An HTTP/1.1 keep-alive connection waiting for its next request is closed after it too.
    let mut tls = support::client_tls(&server.certs.ca_cert_pem, None);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut kept = support::tls_connect(server.addr, tls).await.unwrap();
    let body = serde_json::to_vec(&delete_review()).unwrap();
    kept.write_all(support::http1_post_head("/validate", body.len()).as_bytes())
        .await
        .unwrap();
    kept.write_all(&body).await.unwrap();
    let took = closed_within(&mut kept, Duration::from_secs(5)).await;
    assert!(took >= Duration::from_millis(300), "{took:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operations_port_closes_silent_and_idle_connections() {
    let server = TestServer::start_with(|config| {
        config.timeouts.header_read = Duration::from_millis(400);
        config.timeouts.idle = Duration::from_millis(600);
    })
    .await;
    let mut silent = tokio::net::TcpStream::connect(server.metrics_addr)
        .await
        .unwrap();
    closed_within(&mut silent, Duration::from_secs(5)).await;

    let mut kept = tokio::net::TcpStream::connect(server.metrics_addr)
        .await
        .unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = [0u8; 17];
    kept.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 200 OK\r\n");
    closed_within(&mut kept, Duration::from_secs(5)).await;

    // An HTTP/2 (prior knowledge) client that sends nothing after its preface is closed too.
    let mut h2 = tokio::net::TcpStream::connect(server.metrics_addr)
        .await
        .unwrap();
    h2.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    closed_within(&mut h2, Duration::from_secs(5)).await;
    server.stop().await;
}

/// With a file-descriptor limit far below what idle clients open, idle connections to either
/// port take at most that port's cap: the other port keeps accepting, and new clients of the
/// crowded port are served in the place of silent connections.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_on_one_port_do_not_starve_the_other() {
    let server = support::BinaryServer::start(
        "-n 128",
        &[
            "--max-connections",
            "16",
            "--metrics-max-connections",
            "8",
            "--header-read-timeout",
            "30s",
            "--handshake-timeout",
            "30s",
        ],
    );
    let client =
        support::WebhookClient::new(server.addr, &server.certs.ca_cert_pem, HttpVersion::Http1);
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(
            tokio::net::TcpStream::connect(server.metrics_addr)
                .await
                .unwrap(),
        );
    }
    // Give the server time to accept them all (and run out of descriptors if it is unbounded).
    tokio::time::sleep(Duration::from_millis(300)).await;
    let answered = tokio::time::timeout(
        Duration::from_secs(3),
        client.review("/validate", &delete_review()),
    )
    .await
    .expect("/validate did not answer while the metrics port was crowded");
    assert_eq!(answered.status, StatusCode::OK);
    let (status, _) = tokio::time::timeout(
        Duration::from_secs(3),
        support::ops_get(server.metrics_addr, "/healthz"),
    )
    .await
    .expect("/healthz did not answer while the metrics port was crowded");
    assert_eq!(status, StatusCode::OK);

    // The other way round: silent connections to the TLS port.
    for _ in 0..200 {
        idle.push(tokio::net::TcpStream::connect(server.addr).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (status, _) = tokio::time::timeout(
        Duration::from_secs(3),
        support::ops_get(server.metrics_addr, "/readyz"),
    )
    .await
    .expect("/readyz did not answer while the TLS port was crowded");
    assert_eq!(status, StatusCode::OK);
    let fresh =
        support::WebhookClient::new(server.addr, &server.certs.ca_cert_pem, HttpVersion::Http2);
    let answered = tokio::time::timeout(
        Duration::from_secs(3),
        fresh.review("/validate", &delete_review()),
    )
    .await
    .expect("/validate did not answer a new client while the TLS port was crowded");
    assert_eq!(answered.status, StatusCode::OK);
    // The kept-alive client from before is still served.
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );

    // The caps held, and /metrics says how often they were hit.
    let (_, metrics) = support::ops_get(server.metrics_addr, "/metrics").await;
    let value = |series: &str| -> u64 {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in {metrics}"))
    };
    // (One more than the cap while an evicted connection is still closing.)
    assert!(value("bgppeer_webhook_open_connections{port=\"operations\"}") <= 8 + 1);
    assert!(value("bgppeer_webhook_open_connections{port=\"webhook\"}") <= 16 + 1);
    for port in ["operations", "webhook"] {
        let evicted = value(&format!(
            "bgppeer_webhook_connections_over_limit_total{{port=\"{port}\",action=\"evicted\"}}"
        ));
        assert!(evicted >= 150, "{port}: {evicted}");
    }

    let logs: Vec<String> = server.lines.try_iter().collect();
    assert!(
        !logs
            .iter()
            .any(|line| line.contains("\"WARN\"") || line.contains("\"ERROR\"")),
        "{logs:#?}"
    );
    drop(idle);
}

/// Sends `request` on a fresh HTTP/1.1 TLS connection and reads the answer to the end.
async fn raw_http1(server: &TestServer, request: &[u8]) -> String {
    let mut tls = support::client_tls(&server.certs.ca_cert_pem, None);
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut stream = support::tls_connect(server.addr, tls).await.unwrap();
    // The server may answer and close before it has read everything.
    let _ = stream.write_all(request).await;
    let _ = stream.flush().await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .expect("no answer");
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_hyper_rejects_get_json_errors_too() {
    let server = TestServer::start().await;
    let long_uri = format!(
        "POST /validate?{} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "a".repeat(70_000)
    );
    let many_headers = format!(
        "POST /validate HTTP/1.1\r\nHost: x\r\n{}Content-Length: 0\r\n\r\n",
        (0..120)
            .map(|i| format!("x-h{i}: v\r\n"))
            .collect::<String>()
    );
    let huge_header = format!(
        "POST /validate HTTP/1.1\r\nHost: x\r\nx-big: {}\r\nContent-Length: 0\r\n\r\n",
        "v".repeat(500_000)
    );
    let bad_length = "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 12abc\r\n\r\n{}".to_owned();
    let two_lengths = "POST /validate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}".to_owned();
    for (request, status, message) in [
        (long_uri, 414, "the request URI is longer than 65534 bytes"),
        (many_headers, 431, "the request headers are too large"),
        (huge_header, 431, "the request headers are too large"),
        (bad_length, 400, "Content-Length is malformed"),
        (two_lengths, 400, "Content-Length is malformed"),
    ] {
        let answer = raw_http1(&server, request.as_bytes()).await;
        let (head, body) = answer
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("{answer:?}"));
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status} ")),
            "{status}: {head}"
        );
        assert!(
            head.contains("content-type: application/json"),
            "{status}: {head}"
        );
        let json: Value =
            serde_json::from_str(body).unwrap_or_else(|err| panic!("{status}: {err}: {body:?}"));
        assert_eq!(json["code"], status);
        assert!(
            json["error"].as_str().unwrap().contains(message),
            "{status}: {json}"
        );
    }
    // The server is unharmed.
    assert_eq!(
        server
            .client(HttpVersion::Http1)
            .review("/validate", &delete_review())
            .await
            .status,
        StatusCode::OK
    );
    server.stop().await;
}

/// The open-files limit of a running process, `(soft, hard)`, from /proc.
fn open_files_limit(pid: u32) -> (String, String) {
    let limits = std::fs::read_to_string(format!("/proc/{pid}/limits")).unwrap();
    let line = limits
        .lines()
        .find(|line| line.starts_with("Max open files"))
        .unwrap();
    let mut fields = line["Max open files".len()..].split_whitespace();
    (
        fields.next().unwrap().to_owned(),
        fields.next().unwrap().to_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_open_files_limit_is_raised_and_checked_against_the_caps() {
    // A soft limit below the hard one is raised to it, as Go programs do.
    let raised = support::BinaryServer::start("-S -n 100", &[]);
    let (soft, hard) = open_files_limit(raised.child.id());
    assert_eq!(soft, hard);
    assert_ne!(soft, "100");
    assert!(
        !raised.startup.iter().any(|line| line.contains("\"WARN\"")),
        "{:#?}",
        raised.startup
    );

    // A hard limit the caps do not fit in is warned about, once, at start-up.
    let low = support::BinaryServer::start("-n 200", &[]);
    assert_eq!(
        open_files_limit(low.child.id()),
        ("200".to_owned(), "200".to_owned())
    );
    let warnings: Vec<&String> = low
        .startup
        .iter()
        .filter(|line| line.contains("\"WARN\""))
        .collect();
    assert_eq!(warnings.len(), 1, "{:#?}", low.startup);
    let warning: Value = serde_json::from_str(warnings[0]).unwrap();
    assert_eq!(warning["limit"], 200);
    assert_eq!(warning["needed"], 1024 + 64 + 64);
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .contains("--max-connections plus --metrics-max-connections"),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeouts_the_apiserver_cannot_send_fall_back_to_the_default() {
    let server = TestServer::start().await;
    let body = serde_json::to_vec(&delete_review()).unwrap();
    for version in BOTH {
        let client = server.client(version);
        for timeout in [
            "4000000000000000h",
            "2562047h",
            "99999999999999999999h",
            "1e400s",
            &"9".repeat(10_000),
            "0",
            "-5s",
            "500ms",
            "31s",
            "NaN",
        ] {
            let answer = client
                .post(
                    &format!("/validate?timeout={timeout}"),
                    Some("application/json"),
                    body.clone(),
                )
                .await
                .unwrap_or_else(|err| panic!("{version:?} timeout={timeout:.40}: {err}"));
            assert_eq!(answer.status, StatusCode::OK, "{version:?} {timeout:.40}");
            assert_eq!(answer.json()["response"]["allowed"], true);
        }
    }
    let (_, metrics) = server.ops_get("/metrics").await;
    assert!(
        metrics.contains("bgppeer_webhook_panics_total 0"),
        "{metrics}"
    );
    server.stop().await;
}

/// JSON text of any shape, with the names of AdmissionReview and BGPPeer fields among the keys
/// so that values of every type reach every level of the decoder.
fn any_json() -> impl Strategy<Value = String> {
    let number = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>()
            .prop_filter("finite", |n| n.is_finite())
            .prop_map(|n| n.to_string()),
        "-?(0|[1-9][0-9]{0,59})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,5})?",
    ];
    let string = prop_oneof![
        any::<String>(),
        "[a-z0-9.:/-]{0,40}",
        Just("\u{0}\n\u{1b}[31m\u{202e}".to_owned()),
        Just("x".repeat(70_000)),
    ]
    .prop_map(|text| serde_json::to_string(&text).unwrap());
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("false".to_owned()),
        number,
        string,
    ];
    let key = prop_oneof![
        Just("apiVersion"),
        Just("kind"),
        Just("metadata"),
        Just("name"),
        Just("labels"),
        Just("annotations"),
        Just("deletionTimestamp"),
        Just("spec"),
        Just("peerIP"),
        Just("asNumber"),
        Just("node"),
        Just("nodeSelector"),
        Just("peerSelector"),
        Just("filters"),
        Just("keepOriginalNextHop"),
        Just("password"),
        Just("sourceAddress"),
        Just("maxRestartTime"),
        Just("x"),
    ];
    leaf.prop_recursive(6, 64, 8, move |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..8)
                .prop_map(|items| format!("[{}]", items.join(","))),
            proptest::collection::vec((key.clone(), inner), 0..8).prop_map(|fields| {
                let fields: Vec<String> = fields
                    .into_iter()
                    .map(|(key, value)| format!("{key:?}:{value}"))
                    .collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

/// An AdmissionReview whose parts are each either what the apiserver sends or arbitrary JSON.
fn any_review() -> impl Strategy<Value = String> {
    let part = |valid: &'static str| prop_oneof![12 => Just(valid.to_owned()), 1 => any_json()];
    let object = prop_oneof![
        1 => Just(r#"{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer","metadata":{"name":"p"},"spec":{"peerIP":"10.0.0.1","asNumber":64512}}"#.to_owned()),
        1 => any_json(),
        3 => any_json().prop_map(|spec| format!(
            r#"{{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer","metadata":{{"name":"p"}},"spec":{spec}}}"#
        )),
        1 => any_json().prop_map(|metadata| format!(
            r#"{{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer","metadata":{metadata},"spec":{{}}}}"#
        )),
    ];
    (
        (
            part(r#""admission.k8s.io/v1""#),
            part(r#""AdmissionReview""#),
            part(r#""u-1""#),
            part(r#"{"group":"crd.projectcalico.org","version":"v1","kind":"BGPPeer"}"#),
            part(r#"{"group":"crd.projectcalico.org","version":"v1","resource":"bgppeers"}"#),
        ),
        (
            part(r#""CREATE""#),
            part(r#""UPDATE""#),
            part(r#"{"username":"test"}"#),
            object.clone(),
            prop_oneof![Just("null".to_owned()), object],
            part("false"),
        ),
    )
        .prop_map(
            |(
                (api_version, kind, uid, request_kind, resource),
                (operation, update, user_info, object, old_object, dry_run),
            )| {
                let operation = if old_object == "null" { operation } else { update };
                format!(
                    r#"{{"apiVersion":{api_version},"kind":{kind},"request":{{"uid":{uid},"kind":{request_kind},"resource":{resource},"name":"p","operation":{operation},"userInfo":{user_info},"object":{object},"oldObject":{old_object},"dryRun":{dry_run}}}}}"#
                )
            },
        )
}

/// Arbitrary bytes and arbitrary JSON reviews, to both endpoints over TLS: every one gets an
/// HTTP answer with a JSON body, none makes the server panic, and it keeps serving.
#[test]
fn arbitrary_bytes_and_reviews_always_get_a_json_answer() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = runtime.block_on(TestServer::start());
    let client = server.client(HttpVersion::Http2);
    let send = |body: Vec<u8>| -> Result<(), TestCaseError> {
        for path in ["/validate", "/mutate"] {
            let answer = runtime
                .block_on(client.post(path, Some("application/json"), body.clone()))
                .map_err(|err| TestCaseError::fail(format!("{path}: no answer: {err}")))?;
            let json: Result<Value, _> = serde_json::from_slice(&answer.body);
            prop_assert!(
                json.is_ok(),
                "{path} {}: not JSON: {:?}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            );
            prop_assert_ne!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
        }
        Ok(())
    };
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    TestRunner::new(config.clone())
        .run(&proptest::collection::vec(any::<u8>(), 0..4096), |bytes| {
            send(bytes)
        })
        .unwrap();
    TestRunner::new(config.clone())
        .run(&any_json(), |json| send(json.into_bytes()))
        .unwrap();
    TestRunner::new(ProptestConfig {
        cases: 128,
        ..config
    })
    .run(&any_review(), |review| send(review.into_bytes()))
    .unwrap();
    // Nesting deeper than the decoder allows, and at its limit.
    for depth in [100, 127, 128, 129, 10_000, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        send(nested.clone().into_bytes()).unwrap();
        let review = format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{{"uid":"u","kind":{{"group":"crd.projectcalico.org","version":"v1","kind":"BGPPeer"}},"resource":{{"group":"crd.projectcalico.org","version":"v1","resource":"bgppeers"}},"operation":"CREATE","userInfo":{{}},"object":{{"apiVersion":"crd.projectcalico.org/v1","kind":"BGPPeer","metadata":{{"name":"p"}},"spec":{{"filters":{nested}}}}}}}}}"#
        );
        send(review.into_bytes()).unwrap();
    }

    runtime.block_on(async {
        for path in ["/validate", "/mutate"] {
            let answer = client.review(path, &delete_review()).await;
            assert_eq!(answer.status, StatusCode::OK, "{path}");
        }
        assert_eq!(
            server.ops_get("/healthz").await,
            (StatusCode::OK, "ok\n".to_owned())
        );
        let (_, metrics) = server.ops_get("/metrics").await;
        assert!(
            metrics.contains("bgppeer_webhook_panics_total 0"),
            "{metrics}"
        );
    });
    runtime.block_on(server.stop());
}

/// The real binary serving with text logs on ephemeral ports; its log lines arrive on a channel.
struct Served {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
    addr: std::net::SocketAddr,
    certs: bgppeer_webhook::certs::DevCerts,
    _dir: tempfile::TempDir,
}

impl Served {
    fn start(extra_args: &[&str]) -> Self {
        use std::io::BufRead;
        let certs = support::generate_certs();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tls.crt"), &certs.tls_cert_pem).unwrap();
        std::fs::write(dir.path().join("tls.key"), &certs.tls_key_pem).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--metrics-listen",
                "127.0.0.1:0",
            ])
            .args(["--shutdown-delay", "0", "--log-format", "text"])
            .args(extra_args)
            .arg("--tls-cert-file")
            .arg(dir.path().join("tls.crt"))
            .arg("--tls-key-file")
            .arg(dir.path().join("tls.key"))
            .env_remove("BGPPEER_WEBHOOK_LOG_LEVEL")
            .env_remove("BGPPEER_WEBHOOK_LOG_FORMAT")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                if sender
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        let addr = loop {
            let line = lines
                .recv_timeout(Duration::from_secs(10))
                .expect("the server did not start");
            if line.contains("serving admission webhooks") {
                let addr = line
                    .split(' ')
                    .find_map(|word| word.strip_prefix("addr="))
                    .unwrap_or_else(|| panic!("no addr in {line:?}"));
                break addr.parse().unwrap();
            }
        };
        Self {
            child,
            lines,
            addr,
            certs,
            _dir: dir,
        }
    }

    /// Stops the server with SIGTERM and returns every log line it wrote after starting.
    fn stop(mut self) -> Vec<String> {
        let terminated = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(terminated.success());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{status}");
        self.lines.iter().collect()
    }
}

/// A TLS 1.3 ClientHello whose server_name extension carries `name` as a host name.
fn client_hello_with_sni(name: &[u8]) -> Vec<u8> {
    fn u16_len(bytes: &[u8]) -> [u8; 2] {
        u16::try_from(bytes.len()).unwrap().to_be_bytes()
    }
    let mut entry = vec![0u8]; // host_name
    entry.extend_from_slice(&u16_len(name));
    entry.extend_from_slice(name);
    let mut server_name = u16_len(&entry).to_vec();
    server_name.extend_from_slice(&entry);
    let mut extensions = vec![0x00, 0x00]; // server_name
    extensions.extend_from_slice(&u16_len(&server_name));
    extensions.extend_from_slice(&server_name);
    extensions.extend_from_slice(&[0x00, 0x2b, 0x00, 0x03, 0x02, 0x03, 0x04]); // TLS 1.3
    let mut hello = vec![0x03, 0x03];
    hello.extend_from_slice(&[7u8; 32]); // random
    hello.push(0); // no session id
    hello.extend_from_slice(&[0x00, 0x02, 0x13, 0x01]); // TLS_AES_128_GCM_SHA256
    hello.extend_from_slice(&[0x01, 0x00]); // no compression
    hello.extend_from_slice(&u16_len(&extensions));
    hello.extend_from_slice(&extensions);
    let mut handshake = vec![0x01]; // ClientHello
    handshake.extend_from_slice(&u32::try_from(hello.len()).unwrap().to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&u16_len(&handshake));
    record.extend_from_slice(&handshake);
    record
}

/// Sends a ClientHello with `sni` and reads until the server answers or closes.
async fn hello_with_sni(addr: std::net::SocketAddr, sni: &[u8]) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(&client_hello_with_sni(sni)).await.unwrap();
    let mut buffer = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buffer)).await;
}

/// Whether a log line starts the way every line the text format writes does: a timestamp.
fn is_log_line(line: &str) -> bool {
    let bytes = line.as_bytes();
    bytes.len() > 20 && bytes[..4].iter().all(u8::is_ascii_digit) && bytes[4] == b'-'
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_text_cannot_forge_log_lines_and_bad_sni_adds_no_warning() {
    let served = Served::start(&[]);
    let forged = "evil\n2026-12-02T00:00:00.000000Z  INFO bgppeer_webhook::server::webhook: admission decision allowed=true\0\u{1b}[31mred";
    let object = peer(
        "crd.projectcalico.org/v1",
        forged,
        json!({"peerIP": "10.0.0.1", "asNumber": 64512}),
    );
    let mut forging = review(
        "crd.projectcalico.org/v1",
        "CREATE",
        object,
        Value::Null,
        false,
    );
    forging["request"]["uid"] = json!("uid\nforged");
    let client =
        support::WebhookClient::new(served.addr, &served.certs.ca_cert_pem, HttpVersion::Http2);
    assert_eq!(
        client.review("/validate", &forging).await.status,
        StatusCode::OK
    );
    // A misrouted kind is logged with its (client-controlled) kind too.
    forging["request"]["kind"]["kind"] = json!("Evil\nKind");
    assert_eq!(
        client.review("/mutate", &forging).await.status,
        StatusCode::OK
    );
    for sni in [&b"127.0.0.1"[..], b"::1", b"bad name\n\x1b[31m"] {
        hello_with_sni(served.addr, sni).await;
    }
    let lines = served.stop();
    let text = lines.join("\n");
    for line in &lines {
        assert!(
            is_log_line(line),
            "a line that is not a log line: {line:?} in\n{text}"
        );
        assert!(
            !line.contains(" WARN ") || line.contains("bgppeer_webhook::server::webhook"),
            "a client's handshake added a warning: {line:?}"
        );
        assert!(
            !line.contains(['\0', '\u{1b}', '\r']),
            "unescaped control characters in {line:?}"
        );
    }
    let decision = lines
        .iter()
        .find(|line| line.contains("admission decision") && line.contains("webhook=/validate"))
        .unwrap_or_else(|| panic!("no decision line in\n{text}"));
    assert!(
        decision.contains(r"name=evil\n2026-12-02T00:00:00.000000Z  INFO bgppeer_webhook::server::webhook: admission decision allowed=true\0\u{1b}[31mred")
            && decision.contains(r"uid=uid\nforged"),
        "{decision}"
    );
    assert!(text.contains(r"Evil\nKind"), "{text}");
    assert!(!text.contains("Illegal SNI"), "{text}");

    // The same handshake does log a rustls warning when rustls is asked for warnings: the
    // default filter is what keeps it out.
    let served = Served::start(&["--log-level", "info,rustls=warn"]);
    hello_with_sni(served.addr, b"127.0.0.1").await;
    let lines = served.stop();
    assert!(
        lines
            .iter()
            .any(|line| line.contains(" WARN ") && line.contains("Illegal SNI")),
        "{lines:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_beyond_max_body_bytes_in_flight_wait_within_their_budget() {
    let server = TestServer::start_with(|config| config.max_body_bytes_in_flight = 10_000).await;
    // A client announces 8,000 bytes and sends 10: its reservation is held while it dawdles.
    let mut holder = support::tls_connect(
        server.addr,
        support::client_tls(&server.certs.ca_cert_pem, None),
    )
    .await
    .unwrap();
    holder
        .write_all(
            b"POST /validate?timeout=10s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 8000\r\n\r\n{\"kind\":  ",
        )
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let client = server.client(HttpVersion::Http2);
    // A small review still fits in the remaining 2,000 bytes.
    assert_eq!(
        client.review("/validate", &delete_review()).await.status,
        StatusCode::OK
    );
    // 5,000 bytes do not, and the room does not free up within a 1 s timeout.
    let mut padded = serde_json::to_vec(&delete_review()).unwrap();
    padded.resize(5_000, b' ');
    let started = std::time::Instant::now();
    let answer = client
        .post(
            "/validate?timeout=1s",
            Some("application/json"),
            padded.clone(),
        )
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["retry-after"], "1");
    let message = answer.json()["error"].as_str().unwrap().to_owned();
    assert!(
        message.starts_with(
            "the webhook is at its limit of request body bytes held at once (10000 bytes)"
        ) && message.contains("--max-body-bytes-in-flight"),
        "{message}"
    );
    let (_, metrics) = server.ops_get("/metrics").await;
    assert!(
        metrics.contains(
            "bgppeer_webhook_reviews_rejected_total{limit=\"max_body_bytes_in_flight\"} 1"
        ),
        "{metrics}"
    );
    // Once the slow body is complete (and refused as malformed), its room is free again.
    holder.write_all(&[b' '; 7990]).await.unwrap();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    while !answer.ends_with(b"}") {
        let read = tokio::time::timeout(Duration::from_secs(5), holder.read(&mut buffer))
            .await
            .expect("the slow body got no answer")
            .unwrap();
        assert_ne!(read, 0, "{}", String::from_utf8_lossy(&answer));
        answer.extend_from_slice(&buffer[..read]);
    }
    assert!(
        answer.starts_with(b"HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&answer)
    );
    let answer = client
        .post("/validate?timeout=1s", Some("application/json"), padded)
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::OK);
    server.stop().await;
}
