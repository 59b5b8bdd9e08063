//! The operations port: /metrics series with their labels and counts, /healthz, /readyz.

use crate::support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bgppeer_webhook::server::webhook::DecisionHook;
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

/// A review whose uid tells the test hook how to behave.
fn review_with_uid(uid: &str) -> Value {
    let mut review = review(
        "crd.projectcalico.org/v1",
        "CREATE",
        peer(
            "crd.projectcalico.org/v1",
            "burst",
            json!({"peerIP": "10.0.0.1", "asNumber": 64512}),
        ),
        Value::Null,
        false,
    );
    review["request"]["uid"] = json!(uid);
    review
}

/// A decision hook that makes every decision take `delay` (a stand-in for a big object), so that
/// waiting for a slot is observable.
fn slow_decisions(delay: Duration) -> DecisionHook {
    DecisionHook::new(move |request| {
        if request.uid.starts_with("slow") {
            std::thread::sleep(delay);
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_requests_than_max_concurrent_reviews_wait_their_turn_and_are_all_answered() {
    let server = TestServer::start_with(|config| {
        config.max_concurrent_reviews = 1;
        config.before_decision = Some(slow_decisions(Duration::from_millis(100)));
    })
    .await;
    let (_, text) = server.ops_get("/metrics").await;
    assert_eq!(
        sample(&text, "bgppeer_webhook_max_concurrent_reviews"),
        Some(1.0)
    );
    let mut burst = tokio::task::JoinSet::new();
    for n in 0..16 {
        let client = server.client(if n % 2 == 0 {
            HttpVersion::Http1
        } else {
            HttpVersion::Http2
        });
        burst.spawn(async move {
            let answer = client
                .review("/validate", &review_with_uid(&format!("slow-{n}")))
                .await;
            (n, answer)
        });
    }
    // 16 decisions of 100 ms, one at a time: the queue is visible for well over a second.
    let mut most_waiting = 0.0f64;
    let mut most_running = 0.0f64;
    let watching = Instant::now();
    while !burst.is_empty() && watching.elapsed() < Duration::from_secs(8) {
        let (_, text) = server.ops_get("/metrics").await;
        let waiting = sample(&text, "bgppeer_webhook_reviews_waiting").unwrap();
        let running = sample(&text, "bgppeer_webhook_reviews_running").unwrap();
        assert!(running <= 1.0, "more decisions than the limit:\n{text}");
        most_waiting = most_waiting.max(waiting);
        most_running = most_running.max(running);
        if most_waiting > 0.0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(most_waiting > 0.0, "the waiting gauge never rose");
    let mut answered = 0;
    while let Some(joined) = burst.join_next().await {
        let (n, answer) = joined.unwrap();
        assert_eq!(answer.status, StatusCode::OK, "request {n}");
        assert_eq!(answer.json()["response"]["uid"], format!("slow-{n}"));
        answered += 1;
    }
    assert_eq!(answered, 16);
    let (_, text) = server.ops_get("/metrics").await;
    for (series, expected) in [
        ("bgppeer_webhook_reviews_waiting", 0.0),
        ("bgppeer_webhook_reviews_running", 0.0),
        (
            "bgppeer_webhook_reviews_rejected_total{limit=\"max_concurrent_reviews\"}",
            0.0,
        ),
        (
            "controller_runtime_webhook_requests_total{webhook=\"/validate\",code=\"200\"}",
            16.0,
        ),
    ] {
        assert_eq!(sample(&text, series), Some(expected), "{series} in\n{text}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_whose_budget_runs_out_waiting_for_a_slot_gets_503_in_time() {
    let server = TestServer::start_with(|config| {
        config.max_concurrent_reviews = 1;
        config.before_decision = Some(slow_decisions(Duration::from_millis(2500)));
    })
    .await;
    let client = server.client(HttpVersion::Http2);
    let slow = {
        let client = client.clone();
        tokio::spawn(async move { client.review("/validate", &review_with_uid("slow")).await })
    };
    // Wait until the slow decision holds the only slot.
    let holding = Instant::now();
    loop {
        let (_, text) = server.ops_get("/metrics").await;
        if sample(&text, "bgppeer_webhook_reviews_running") == Some(1.0) {
            break;
        }
        assert!(holding.elapsed() < Duration::from_secs(5), "{text}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // ?timeout=1s: a budget of 800 ms, all of it spent waiting.
    let started = Instant::now();
    let answer = client
        .post(
            "/validate?timeout=1s",
            Some("application/json"),
            serde_json::to_vec(&review_with_uid("quick")).unwrap(),
        )
        .await
        .unwrap();
    let elapsed = started.elapsed();
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["retry-after"], "1");
    let body = answer.json();
    assert_eq!(body["code"], 503);
    let message = body["error"].as_str().unwrap();
    assert!(
        message.starts_with("the webhook is at its concurrency limit: all 1 decision slots stayed busy for this request's whole time budget of 800 ms")
            && message.contains("--max-concurrent-reviews"),
        "{message}"
    );
    assert!(
        elapsed >= Duration::from_millis(700) && elapsed < Duration::from_millis(1000),
        "answered after {elapsed:?}, not within the 1 s timeout"
    );
    // The slow one still gets its decision.
    let slow = slow.await.unwrap();
    assert_eq!(slow.status, StatusCode::OK);
    let (_, text) = server.ops_get("/metrics").await;
    for (series, expected) in [
        (
            "bgppeer_webhook_reviews_rejected_total{limit=\"max_concurrent_reviews\"}",
            1.0,
        ),
        ("bgppeer_webhook_reviews_waiting", 0.0),
        (
            "controller_runtime_webhook_requests_total{webhook=\"/validate\",code=\"503\"}",
            1.0,
        ),
    ] {
        assert_eq!(sample(&text, series), Some(expected), "{series} in\n{text}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_that_outlives_its_request_keeps_its_slot_and_late_work_is_not_started() {
    let started_decisions = Arc::new(AtomicUsize::new(0));
    let counter = started_decisions.clone();
    let server = TestServer::start_with(move |config| {
        config.max_concurrent_reviews = 1;
        config.before_decision = Some(DecisionHook::new(move |request| {
            counter.fetch_add(1, Ordering::SeqCst);
            if request.uid.starts_with("slow") {
                std::thread::sleep(Duration::from_millis(3000));
            }
        }));
    })
    .await;
    let client = server.client(HttpVersion::Http2);
    // Budget 800 ms, decision 3 s: answered 503 at the deadline, the work keeps running.
    let answer = client
        .post(
            "/validate?timeout=1s",
            Some("application/json"),
            serde_json::to_vec(&review_with_uid("slow")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        answer.json()["error"]
            .as_str()
            .unwrap()
            .starts_with("no decision within 800 ms"),
        "{:?}",
        answer.body
    );
    let (_, text) = server.ops_get("/metrics").await;
    assert_eq!(
        sample(&text, "bgppeer_webhook_reviews_running"),
        Some(1.0),
        "the abandoned decision still holds its slot:\n{text}"
    );
    // This one waits its whole budget behind the abandoned decision and is never started.
    let answer = client
        .post(
            "/validate?timeout=1s",
            Some("application/json"),
            serde_json::to_vec(&review_with_uid("quick")).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["retry-after"], "1");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(started_decisions.load(Ordering::SeqCst), 1);
    // Once the slot is free again, decisions run.
    let answer = client.review("/validate", &review_with_uid("after")).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(started_decisions.load(Ordering::SeqCst), 2);
    server.stop().await;
}
