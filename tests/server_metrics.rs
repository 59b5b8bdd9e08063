//! The operations port: /metrics series with their labels and counts, /healthz, /readyz.

mod support;

use hyper::StatusCode;
use serde_json::{Value, json};
use support::{HttpVersion, TestServer, peer, review};

fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn series_have_the_documented_names_labels_and_counts() {
    let server = TestServer::start().await;
    let client = server.client(HttpVersion::Http2);
    let valid = peer(
        "crd.projectcalico.org/v1",
        "valid",
        json!({"peerIP": "10.0.0.1", "asNumber": 64512}),
    );
    for _ in 0..2 {
        let create = review(
            "crd.projectcalico.org/v1",
            "CREATE",
            valid.clone(),
            Value::Null,
            false,
        );
        assert_eq!(
            client.review("/validate", &create).await.status,
            StatusCode::OK
        );
    }
    let delete = review(
        "projectcalico.org/v3",
        "DELETE",
        Value::Null,
        valid.clone(),
        true,
    );
    assert_eq!(
        client.review("/validate", &delete).await.status,
        StatusCode::OK
    );
    let update = review(
        "crd.projectcalico.org/v1",
        "UPDATE",
        valid.clone(),
        valid.clone(),
        false,
    );
    assert_eq!(
        client.review("/mutate", &update).await.status,
        StatusCode::OK
    );
    let malformed = client
        .post("/validate", Some("application/json"), "{")
        .await
        .unwrap();
    assert_eq!(malformed.status, StatusCode::BAD_REQUEST);
    let wrong_type = client
        .post("/mutate", Some("text/yaml"), "{}")
        .await
        .unwrap();
    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let (status, text) = server.ops_get("/metrics").await;
    assert_eq!(status, StatusCode::OK);
    let expectations = [
        (
            "controller_runtime_webhook_requests_total{webhook=\"/validate\",code=\"200\"}",
            3.0,
        ),
        (
            "controller_runtime_webhook_requests_total{webhook=\"/validate\",code=\"400\"}",
            1.0,
        ),
        (
            "controller_runtime_webhook_requests_total{webhook=\"/mutate\",code=\"200\"}",
            1.0,
        ),
        (
            "controller_runtime_webhook_requests_total{webhook=\"/mutate\",code=\"415\"}",
            1.0,
        ),
        (
            "controller_runtime_webhook_latency_seconds_count{webhook=\"/validate\"}",
            4.0,
        ),
        (
            "controller_runtime_webhook_latency_seconds_count{webhook=\"/mutate\"}",
            2.0,
        ),
        (
            "controller_runtime_webhook_latency_seconds_bucket{le=\"+Inf\",webhook=\"/validate\"}",
            4.0,
        ),
        (
            "controller_runtime_webhook_requests_in_flight{webhook=\"/validate\"}",
            0.0,
        ),
        (
            "controller_runtime_webhook_requests_in_flight{webhook=\"/mutate\"}",
            0.0,
        ),
        (
            "bgppeer_webhook_admission_decisions_total{webhook=\"/validate\",operation=\"CREATE\",allowed=\"true\",dry_run=\"false\"}",
            2.0,
        ),
        (
            "bgppeer_webhook_admission_decisions_total{webhook=\"/validate\",operation=\"DELETE\",allowed=\"true\",dry_run=\"true\"}",
            1.0,
        ),
        (
            "bgppeer_webhook_admission_decisions_total{webhook=\"/mutate\",operation=\"UPDATE\",allowed=\"true\",dry_run=\"false\"}",
            1.0,
        ),
        ("bgppeer_webhook_tls_reloads_total{result=\"success\"}", 0.0),
        ("bgppeer_webhook_tls_reloads_total{result=\"failure\"}", 0.0),
    ];
    for (series, expected) in expectations {
        assert_eq!(sample(&text, series), Some(expected), "{series} in\n{text}");
    }
    for kind in [
        "# TYPE controller_runtime_webhook_requests counter",
        "# TYPE controller_runtime_webhook_latency_seconds histogram",
        "# TYPE controller_runtime_webhook_requests_in_flight gauge",
        "# TYPE bgppeer_webhook_admission_decisions counter",
        "# TYPE bgppeer_webhook_tls_cert_not_after_seconds gauge",
        "# TYPE bgppeer_webhook_tls_reloads counter",
    ] {
        assert!(text.contains(kind), "{kind} missing in\n{text}");
    }
    // Malformed requests make no decision.
    assert_eq!(
        text.matches("bgppeer_webhook_admission_decisions_total{")
            .count(),
        3,
        "{text}"
    );

    let (_, pem) = x509_parser::pem::parse_x509_pem(server.certs.tls_cert_pem.as_bytes()).unwrap();
    let not_after = pem.parse_x509().unwrap().validity().not_after.timestamp();
    assert_eq!(
        sample(&text, "bgppeer_webhook_tls_cert_not_after_seconds"),
        Some(not_after as f64)
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_readiness_and_unknown_paths() {
    let server = TestServer::start().await;
    assert_eq!(
        server.ops_get("/healthz").await,
        (StatusCode::OK, "ok\n".to_owned())
    );
    assert_eq!(
        server.ops_get("/readyz").await,
        (StatusCode::OK, "ok\n".to_owned())
    );
    let (status, body) = server.ops_get("/validate").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        body,
        "not found: this port serves /healthz, /readyz and /metrics\n"
    );
    server.stop().await;
}
