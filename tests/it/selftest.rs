//! `bgppeer-webhook selftest` as a process, against a stand-in Kubernetes API server.
//!
//! No kube-apiserver is available to the test suite, so a small HTTP server answers the two
//! requests the way a real one does (the denial text is the shape recorded from kube-apiserver in
//! tests/fixtures/admission/denial-as-returned-to-client.json). The tests prove what happens on the
//! wire (a POST to the BGPPeer collection with `dryRun=All`, so nothing is ever stored; the probe
//! labels), the exit codes and the printed verdicts. In a cluster the same binary runs as the
//! chart's `helm test` Pod.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::Output;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::net::TcpListener;

const VALIDATING: &str = "validate.bgppeers.fake-release";
const MUTATING: &str = "mutate.bgppeers.fake-release";

/// One request the stand-in API server received.
#[derive(Debug, Clone)]
struct Received {
    method: String,
    path: String,
    query: String,
    body: Value,
}

/// How the stand-in API server answers a create: (status code, response body).
type Answer = fn(&Value) -> (u16, Value);

fn status(code: u16, reason: &str, message: String) -> Value {
    json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
           "message": message, "reason": reason, "code": code})
}

/// A cluster where the webhook works: the port-0 peer is denied by the validating webhook, the
/// other is admitted with the mutating webhook's default.
fn webhook_installed(object: &Value) -> (u16, Value) {
    if object["spec"]["peerIP"] == "10.0.0.1:0" {
        let message = format!(
            "admission webhook \"{VALIDATING}\" denied the request: BGPPeer.crd.projectcalico.org \
             \"{}x\" is invalid: spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between \
             1 and 65535",
            object["metadata"]["generateName"]
                .as_str()
                .unwrap_or_default()
        );
        return (422, status(422, "Invalid", message));
    }
    let mut stored = object.clone();
    stored["metadata"]["name"] = json!("bgppeer-webhook-selftest-abcde");
    stored["spec"]["sourceAddress"] = json!("UseNodeIP");
    (201, stored)
}

/// A cluster without the webhook: everything is admitted unchanged.
fn no_webhook(object: &Value) -> (u16, Value) {
    let mut stored = object.clone();
    stored["metadata"]["name"] = json!("bgppeer-webhook-selftest-abcde");
    (201, stored)
}

/// A cluster without Calico's CRD.
fn no_calico(_: &Value) -> (u16, Value) {
    (
        404,
        status(
            404,
            "NotFound",
            "the server could not find the requested resource".to_owned(),
        ),
    )
}

/// Starts the stand-in API server; returns its address and the log of received requests.
async fn start_api_server(answer: Answer) -> (SocketAddr, Arc<Mutex<Vec<Received>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let server_log = log.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let log = server_log.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                    let log = log.clone();
                    async move {
                        let method = request.method().to_string();
                        let path = request.uri().path().to_owned();
                        let query = request.uri().query().unwrap_or_default().to_owned();
                        let bytes = request.into_body().collect().await.unwrap().to_bytes();
                        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                        let (code, reply) = answer(&body);
                        log.lock().unwrap().push(Received {
                            method,
                            path,
                            query,
                            body,
                        });
                        let response = Response::builder()
                            .status(StatusCode::from_u16(code).unwrap())
                            .header("content-type", "application/json")
                            .body(Full::new(Bytes::from(reply.to_string())))
                            .unwrap();
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (address, log)
}

/// Runs the real binary with a kubeconfig pointing at `server`.
async fn run_selftest(server: &str, extra_args: &[&str]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let config = json!({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server}}],
        "users": [{"name": "fake", "user": {}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
    });
    std::fs::write(&kubeconfig, config.to_string()).unwrap();
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"));
    command
        .args([
            "selftest",
            "--validating-webhook",
            VALIDATING,
            "--mutating-webhook",
            MUTATING,
            "--timeout-seconds",
            "10",
        ])
        .args(extra_args)
        .env("KUBECONFIG", &kubeconfig)
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT");
    for proxy in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(proxy);
    }
    let output = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
    drop(dir);
    output
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passes_when_the_webhook_denies_the_invalid_peer_and_defaults_the_valid_one() {
    let (address, log) = start_api_server(webhook_installed).await;
    let output = run_selftest(&format!("http://{address}"), &["--label", "team=network"]).await;
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains(&format!(
            "PASS invalid BGPPeer: the invalid BGPPeer was denied by \"{VALIDATING}\""
        )),
        "{text}"
    );
    assert!(text.contains("port must be between 1 and 65535"), "{text}");
    assert!(text.contains(&format!("PASS valid BGPPeer: the valid BGPPeer was admitted, and \"{MUTATING}\" set spec.sourceAddress to UseNodeIP")), "{text}");
    assert!(text.contains("selftest passed"), "{text}");

    let received = log.lock().unwrap().clone();
    assert_eq!(received.len(), 2, "{received:?}");
    for request in &received {
        assert_eq!(request.method, "POST");
        assert_eq!(request.path, "/apis/crd.projectcalico.org/v1/bgppeers");
        // Never stored: every create is a server-side dry run.
        assert!(
            request.query.split('&').any(|pair| pair == "dryRun=All"),
            "{}",
            request.query
        );
        assert_eq!(request.body["apiVersion"], "crd.projectcalico.org/v1");
        assert_eq!(request.body["kind"], "BGPPeer");
        assert_eq!(
            request.body["metadata"]["generateName"],
            "bgppeer-webhook-selftest-"
        );
        assert_eq!(
            request.body["metadata"]["labels"],
            json!({"team": "network"})
        );
    }
    assert_eq!(received[0].body["spec"]["peerIP"], "10.0.0.1:0");
    assert_eq!(received[1].body["spec"]["peerIP"], "192.0.2.1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fails_with_exit_1_when_nothing_guards_bgppeers() {
    let (address, _) = start_api_server(no_webhook).await;
    let output = run_selftest(&format!("http://{address}"), &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "FAIL invalid BGPPeer: the invalid BGPPeer (spec.peerIP: \"10.0.0.1:0\") was admitted"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "FAIL valid BGPPeer: the valid BGPPeer was admitted, but spec.sourceAddress is missing"
        ),
        "{text}"
    );
    assert!(text.trim_end().ends_with("selftest failed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explains_a_cluster_without_calico() {
    let (address, _) = start_api_server(no_calico).await;
    let output = run_selftest(&format!("http://{address}"), &[]).await;
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "does not serve bgppeers.crd.projectcalico.org/v1 (404 NotFound): is Calico installed?"
        ),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exits_2_when_the_api_server_cannot_be_reached() {
    // A port that was just free: nothing listens there.
    let address = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let output = run_selftest(&format!("http://{address}"), &[]).await;
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with(
            "error: probing with the invalid BGPPeer: cannot send a dry-run create of a BGPPeer to the API server"
        ),
        "{stderr}"
    );
    assert!(stdout(&output).is_empty());
}
