//! The cluster checks against a real HTTP API endpoint served by the test itself: the
//! reflectors list and watch it, a live GET confirms a cache miss, an absent API group or an
//! unreachable API server degrades as documented, and a denial for a missing filter reaches a
//! client through the real TLS server.
//!
//! The endpoint answers list, watch and get requests with JSON shaped like the kube-apiserver's
//! (lists with `metadata.resourceVersion`, `Status` objects for 404s, metadata-only node lists);
//! watches are held open without events, as on a quiet cluster.

use crate::support;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use bgppeer_core::admission::cluster::{Availability, ClusterView, SkipReason};
use bgppeer_webhook::cluster::index::BgpConfiguration;
use bgppeer_webhook::cluster::status::SourceStatus;
use bgppeer_webhook::cluster::{Checker, Settings};
use serde_json::{Value, json};
use support::{HttpVersion, TestServer, peer, review};
use tokio::time::Instant;

/// What the fake API server serves, by collection path (`/apis/<group>/<version>/<plural>`).
#[derive(Default)]
pub(crate) struct Cluster {
    /// Collections and the objects their list returns.
    pub(crate) lists: BTreeMap<String, Vec<Value>>,
    /// Objects a GET finds although the list did not return them (created after the list), and
    /// the objects created with POST, by path.
    pub(crate) late: BTreeMap<String, Value>,
    /// Collections whose list never answers (a cache that cannot sync).
    pub(crate) hanging: Vec<String>,
    /// Collections whose list is refused with 403 Forbidden (missing RBAC).
    pub(crate) forbidden: Vec<String>,
    /// Every request received: method, path and query.
    pub(crate) requests: Vec<String>,
    /// Every write received (POST, PATCH, PUT): method and path, and its body.
    pub(crate) writes: Vec<(String, Value)>,
    /// The last resourceVersion given to a written object.
    version: u64,
}

pub(crate) type Shared = Arc<Mutex<Cluster>>;

async fn serve_api(State(cluster): State<Shared>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let method = request.method().clone();
    let hangs = {
        let mut cluster = cluster.lock().unwrap();
        cluster.requests.push(format!("{method} {path}?{query}"));
        cluster.hanging.contains(&path)
    };
    if hangs {
        futures::future::pending::<()>().await;
    }
    if cluster.lock().unwrap().forbidden.contains(&path) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "reason": "Forbidden", "code": 403,
                "message": format!("{path} is forbidden: User \"system:serviceaccount:t:t\" cannot list")})),
        )
            .into_response();
    }
    if method != axum::http::Method::GET {
        let body = axum::body::to_bytes(request.into_body(), 1 << 20)
            .await
            .unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        return write(&cluster, method.as_str(), &path, body);
    }
    let cluster = cluster.lock().unwrap();
    if let Some(items) = cluster.lists.get(&path) {
        if query
            .split('&')
            .any(|pair| pair == "watch=true" || pair == "watch=1")
        {
            // A quiet watch: the stream stays open and nothing happens.
            let quiet = futures::stream::pending::<Result<Bytes, Infallible>>();
            return (
                [("content-type", "application/json")],
                Body::from_stream(quiet),
            )
                .into_response();
        }
        return axum::Json(page(&path, items, &query)).into_response();
    }
    if let Some((collection, name)) = path.rsplit_once('/') {
        let found = cluster
            .lists
            .get(collection)
            .and_then(|items| {
                items
                    .iter()
                    .find(|item| item["metadata"]["name"] == name)
                    .cloned()
            })
            .or_else(|| cluster.late.get(&path).cloned());
        if let Some(object) = found {
            return axum::Json(object).into_response();
        }
        if cluster.lists.contains_key(collection) {
            return not_found(&format!("{collection} {name:?} not found"));
        }
    }
    not_found("the server could not find the requested resource")
}

/// A write: POST creates an object in a collection (409 when it exists), PATCH merges the body
/// into an object (a JSON merge patch, which the lease and event patches are close enough to);
/// both give the object a new resourceVersion.
fn write(cluster: &Shared, method: &str, path: &str, body: Value) -> Response {
    let mut cluster = cluster.lock().unwrap();
    cluster
        .writes
        .push((format!("{method} {path}"), body.clone()));
    cluster.version += 1;
    let version = cluster.version.to_string();
    match method {
        "POST" => {
            let name = body["metadata"]["name"].as_str().unwrap_or_default();
            let at = format!("{path}/{name}");
            if cluster.late.contains_key(&at) {
                return (
                    StatusCode::CONFLICT,
                    axum::Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                        "status": "Failure", "reason": "AlreadyExists", "code": 409,
                        "message": format!("{name} already exists")})),
                )
                    .into_response();
            }
            let mut object = body;
            object["metadata"]["resourceVersion"] = json!(version);
            cluster.late.insert(at, object.clone());
            (StatusCode::CREATED, axum::Json(object)).into_response()
        }
        _ => {
            let Some(object) = cluster.late.get_mut(path) else {
                return not_found(&format!("{path} not found"));
            };
            merge(object, &body);
            object["metadata"]["resourceVersion"] = json!(version);
            axum::Json(object.clone()).into_response()
        }
    }
}

/// RFC 7386 JSON merge patch.
fn merge(target: &mut Value, patch: &Value) {
    let Some(fields) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    for (key, value) in fields {
        if value.is_null() {
            target.as_object_mut().unwrap().remove(key);
        } else {
            merge(&mut target[key.as_str()], value);
        }
    }
}

/// One page of a list: `limit` items from the `continue` offset, with the next offset as the
/// `continue` token when more remain.
fn page(path: &str, items: &[Value], query: &str) -> Value {
    let param = |name: &str| {
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
            .and_then(|value| value.parse::<usize>().ok())
    };
    let start = param("continue").unwrap_or(0).min(items.len());
    let end = param("limit").map_or(items.len(), |limit| (start + limit).min(items.len()));
    let mut list = list(path, &items[start..end]);
    if end < items.len() {
        list["metadata"]["continue"] = json!(end.to_string());
    }
    list
}

fn list(path: &str, items: &[Value]) -> Value {
    let (api_version, kind) = if path == "/api/v1/nodes" {
        ("meta.k8s.io/v1", "PartialObjectMetadataList")
    } else if path.starts_with("/api/v1/") {
        ("v1", "SecretList")
    } else {
        ("crd.projectcalico.org/v1", "List")
    };
    json!({"apiVersion": api_version, "kind": kind,
           "metadata": {"resourceVersion": "100"}, "items": items})
}

fn not_found(message: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": message, "reason": "NotFound", "code": 404})),
    )
        .into_response()
}

pub(crate) const FILTERS_V1: &str = "/apis/crd.projectcalico.org/v1/bgpfilters";
pub(crate) const PEERS_V1: &str = "/apis/crd.projectcalico.org/v1/bgppeers";
pub(crate) const CONFIGS_V1: &str = "/apis/crd.projectcalico.org/v1/bgpconfigurations";
pub(crate) const NODES: &str = "/api/v1/nodes";
pub(crate) const SECRETS: &str = "/api/v1/namespaces/calico-system/secrets";

pub(crate) fn object(api_version: &str, kind: &str, name: &str, rest: Value) -> Value {
    let mut object = json!({"apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "resourceVersion": "90", "uid": format!("uid-{name}")}});
    if let (Some(object), Some(rest)) = (object.as_object_mut(), rest.as_object()) {
        object.extend(rest.clone());
    }
    object
}

/// A cluster with only the `crd.projectcalico.org` group installed (no Calico API server).
pub(crate) fn calico_cluster() -> Cluster {
    let mut cluster = Cluster::default();
    cluster.lists.insert(
        FILTERS_V1.into(),
        vec![object(
            "crd.projectcalico.org/v1",
            "BGPFilter",
            "export-only",
            json!({"spec": {}}),
        )],
    );
    cluster.lists.insert(
        PEERS_V1.into(),
        vec![object(
            "crd.projectcalico.org/v1",
            "BGPPeer",
            "tor-a",
            json!({"spec": {"peerIP": "10.0.0.1", "nodeSelector": "rack == 'a'"}}),
        )],
    );
    cluster.lists.insert(
        CONFIGS_V1.into(),
        vec![object(
            "crd.projectcalico.org/v1",
            "BGPConfiguration",
            "default",
            json!({"spec": {"nodeToNodeMeshEnabled": false, "asNumber": 64512,
                            "listenPort": 1179}}),
        )],
    );
    let node = |name: &str, rack: &str| {
        json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
               "metadata": {"name": name, "resourceVersion": "80", "labels": {"rack": rack}}})
    };
    cluster.lists.insert(
        NODES.into(),
        vec![
            node("n1", "a"),
            node("n2", "a"),
            node("n3", "b"),
            node("n4", "b"),
            node("n5", "b"),
        ],
    );
    let long = "x".repeat(81);
    cluster.lists.insert(
        SECRETS.into(),
        vec![object(
            "v1",
            "Secret",
            "bgp",
            json!({"type": "Opaque", "data": {
                "password": BASE64_STANDARD.encode("s3cret"),
                "long": BASE64_STANDARD.encode(&long),
            }}),
        )],
    );
    cluster.late.insert(
        format!("{FILTERS_V1}/created-just-now"),
        object(
            "crd.projectcalico.org/v1",
            "BGPFilter",
            "created-just-now",
            json!({"spec": {}}),
        ),
    );
    cluster
}

/// Serves `cluster` on a free local port.
pub(crate) async fn start_api(cluster: Cluster) -> (SocketAddr, Shared) {
    let shared = Arc::new(Mutex::new(cluster));
    let router = axum::Router::new()
        .fallback(serve_api)
        .with_state(shared.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (addr, shared)
}

/// A kubeconfig pointing at `addr` over plain HTTP.
pub(crate) fn kubeconfig(dir: &Path, addr: SocketAddr) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: test\n  cluster:\n    server: http://{addr}\n\
             users:\n- name: test\n  user: {{}}\ncontexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n\
             current-context: test\n"
        ),
    )
    .unwrap();
    path
}

fn settings(kubeconfig: PathBuf) -> Settings {
    Settings {
        kubeconfig: Some(kubeconfig),
        password_checks: true,
        calico_namespace: "calico-system".to_owned(),
    }
}

/// Waits until no cache is pending any more, and returns their states.
/// A checker connected to the in-test API server at `addr` (its kubeconfig written in `dir`),
/// not yet synced.
async fn connect(addr: SocketAddr, dir: &Path) -> Checker {
    Checker::connect(&settings(kubeconfig(dir, addr)))
        .await
        .unwrap()
}

/// A checker connected to the in-test API server and settled, with its sources' statuses.
pub(crate) async fn connected(
    addr: SocketAddr,
    dir: &Path,
) -> (Checker, BTreeMap<String, SourceStatus>) {
    let checker = connect(addr, dir).await;
    let statuses = settled(&checker).await;
    (checker, statuses)
}

pub(crate) async fn settled(checker: &Checker) -> BTreeMap<String, SourceStatus> {
    let limit = Instant::now() + Duration::from_secs(5);
    loop {
        let statuses = checker.statuses();
        if statuses
            .iter()
            .all(|(_, status)| *status != SourceStatus::Pending)
        {
            return statuses.into_iter().collect();
        }
        assert!(Instant::now() < limit, "caches still pending: {statuses:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(3)
}

#[tokio::test]
async fn reflectors_sync_and_an_absent_group_is_empty_not_unsynced() {
    let (addr, _cluster) = start_api(calico_cluster()).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, statuses) = connected(addr, dir.path()).await;
    let expected: BTreeMap<String, SourceStatus> = [
        ("bgpfilters.crd.projectcalico.org", SourceStatus::Synced),
        ("bgpfilters.projectcalico.org", SourceStatus::Absent),
        ("bgppeers.crd.projectcalico.org", SourceStatus::Synced),
        ("bgppeers.projectcalico.org", SourceStatus::Absent),
        (
            "bgpconfigurations.crd.projectcalico.org",
            SourceStatus::Synced,
        ),
        ("bgpconfigurations.projectcalico.org", SourceStatus::Absent),
        ("nodes", SourceStatus::Synced),
        ("secrets in calico-system", SourceStatus::Synced),
    ]
    .into_iter()
    .map(|(name, status)| (name.to_owned(), status))
    .collect();
    assert_eq!(statuses, expected);

    let index = checker.view();
    assert_eq!(index.availability(), Availability::Ready);
    assert_eq!(index.filter_names(), vec!["export-only"]);
    let peers = index.peers();
    assert_eq!(peers.len(), 1);
    assert_eq!(peers[0].name, "tor-a");
    assert_eq!(index.node_names(), ["n1", "n2", "n3", "n4", "n5"]);
    let lengths = index.secret_key_lengths("bgp").unwrap();
    assert_eq!(lengths["password"], 6);
    assert_eq!(lengths["long"], 81);
    assert_eq!(
        index.bgp_configuration("default"),
        Some(&BgpConfiguration {
            node_to_node_mesh_enabled: Some(false),
            as_number: Some(64512),
            listen_port: Some(1179),
        })
    );
    // Only lengths are kept: nothing of the values is in the index.
    assert!(!format!("{:?}", *index).contains("s3cret"));
}

#[tokio::test]
async fn a_live_get_confirms_a_miss_before_denying() {
    let (addr, cluster) = start_api(calico_cluster()).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, _) = connected(addr, dir.path()).await;
    let object = peer(
        "crd.projectcalico.org/v1",
        "p",
        json!({"peerIP": "10.0.0.1", "nodeSelector": "rack == 'a'",
               "filters": ["export-only", "created-just-now", "never-created"],
               "password": {"secretKeyRef": {"name": "bgp", "key": "long"}}}),
    );
    let findings = checker.check(&object, soon()).await;
    let errors: Vec<String> = findings.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "spec.password.secretKeyRef: Invalid value: {\"key\":\"long\",\"name\":\"bgp\"}: \
             password is 81 characters, BGP allows at most 80",
            "spec.filters[2]: Not found: \"never-created\": no BGPFilter of this name exists; \
             create it first or remove it from spec.filters",
        ]
    );
    assert_eq!(
        findings.warnings,
        [
            "spec.nodeSelector matches only 2 of the 5 Nodes: n1, n2",
            "spec.peerIP: BGPPeer \"tor-a\" already peers with 10.0.0.1 port 179 in the same \
             scope: the same BGP session twice",
        ]
    );
    assert_eq!(findings.skipped, None);
    let gets: Vec<String> = cluster
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|request| request.contains("/bgpfilters/"))
        .cloned()
        .collect();
    // Both misses were asked of the served group only; the cached filter was not asked.
    assert_eq!(
        gets,
        [
            format!("GET {FILTERS_V1}/created-just-now?"),
            format!("GET {FILTERS_V1}/never-created?"),
        ]
    );
}

#[tokio::test]
async fn caches_that_never_sync_skip_the_checks() {
    let mut cluster = calico_cluster();
    // The node list never answers: that cache never syncs.
    cluster.hanging.push(NODES.to_owned());
    let (addr, _cluster) = start_api(cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let checker = connect(addr, dir.path()).await;
    let object = peer(
        "crd.projectcalico.org/v1",
        "p",
        json!({"filters": ["nope"]}),
    );
    // Wait until every other cache has synced: only the nodes are still pending.
    let limit = Instant::now() + Duration::from_secs(5);
    while checker
        .statuses()
        .iter()
        .any(|(name, status)| name != "nodes" && *status == SourceStatus::Pending)
    {
        assert!(Instant::now() < limit);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let findings = checker.check(&object, soon()).await;
    assert!(findings.errors.is_empty(), "{findings:?}");
    assert_eq!(
        findings.skipped,
        Some(SkipReason::NotSynced {
            sources: vec!["nodes".to_owned()]
        })
    );
    assert_eq!(
        findings.warnings,
        [
            "cluster checks skipped (the caches of nodes are not synced yet); only the static rules \
             were applied"
        ]
    );
}

#[tokio::test]
async fn a_live_get_that_does_not_answer_in_time_skips_the_checks() {
    let mut cluster = calico_cluster();
    cluster.hanging.push(format!("{FILTERS_V1}/slow-to-answer"));
    let (addr, _cluster) = start_api(cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, _) = connected(addr, dir.path()).await;
    let object = peer(
        "crd.projectcalico.org/v1",
        "p",
        json!({"peerIP": "10.9.9.9", "filters": ["slow-to-answer"]}),
    );
    let started = Instant::now();
    let findings = checker
        .check(&object, started + Duration::from_millis(300))
        .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(findings.errors.is_empty());
    assert_eq!(findings.skipped, Some(SkipReason::Timeout));
    assert_eq!(findings.warnings.len(), 1);
}

/// A local address nothing listens on.
pub(crate) async fn closed_port() -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test]
async fn an_unreachable_api_server_skips_the_checks_and_is_counted() {
    let addr = closed_port().await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, statuses) = connected(addr, dir.path()).await;
    assert!(
        statuses
            .values()
            .all(|status| matches!(status, SourceStatus::Unreachable(_))),
        "{statuses:?}"
    );
    let object = peer(
        "crd.projectcalico.org/v1",
        "p",
        json!({"peerIP": "10.0.0.1", "asNumber": 64512, "filters": ["nope"]}),
    );
    let findings = checker.check(&object, soon()).await;
    assert!(findings.errors.is_empty());
    assert!(matches!(
        findings.skipped,
        Some(SkipReason::Unreachable { .. })
    ));

    // Through the webhook: allowed, one warning, and the skip counted.
    let server = TestServer::start_with(|config| config.cluster = Some(checker.clone())).await;
    let client = server.client(HttpVersion::Http1);
    let started = std::time::Instant::now();
    let answer = client
        .review(
            "/validate",
            &review(
                "crd.projectcalico.org/v1",
                "CREATE",
                object,
                Value::Null,
                false,
            ),
        )
        .await;
    assert!(started.elapsed() < Duration::from_secs(2));
    let body = answer.json();
    assert_eq!(body["response"]["allowed"], true, "{body}");
    let warnings = body["response"]["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{body}");
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .starts_with("cluster checks skipped (the API server is unreachable: "),
        "{body}"
    );
    assert!(
        warnings[0].as_str().unwrap().contains("Connection refused"),
        "{body}"
    );
    let (_, metrics) = server.ops_get("/metrics").await;
    assert!(
        metrics.contains("bgppeer_webhook_cluster_checks_skipped_total{reason=\"unreachable\"} 1"),
        "{metrics}"
    );
    let (status, _) = server.ops_get("/readyz").await;
    assert_eq!(
        status,
        hyper::StatusCode::OK,
        "/readyz does not wait for the caches"
    );
    server.stop().await;
}

#[tokio::test]
async fn the_webhook_denies_a_missing_filter_with_the_static_errors() {
    let (addr, _cluster) = start_api(calico_cluster()).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, _) = connected(addr, dir.path()).await;
    let server = TestServer::start_with(|config| config.cluster = Some(checker)).await;
    let client = server.client(HttpVersion::Http2);
    let object = peer(
        "projectcalico.org/v3",
        "p",
        json!({"peerIP": "192.0.2.7:0", "asNumber": 64512, "filters": ["export-only", "no-such-filter"]}),
    );
    let answer = client
        .review(
            "/validate",
            &review(
                "projectcalico.org/v3",
                "CREATE",
                object.clone(),
                Value::Null,
                false,
            ),
        )
        .await;
    let body = answer.json();
    let response = &body["response"];
    assert_eq!(response["allowed"], false, "{body}");
    assert_eq!(response["status"]["code"], 422, "{body}");
    let causes: Vec<(String, String)> = response["status"]["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|cause| {
            (
                cause["field"].as_str().unwrap().to_owned(),
                cause["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        causes,
        [
            ("spec.peerIP".to_owned(), "FieldValueInvalid".to_owned()),
            (
                "spec.filters[1]".to_owned(),
                "FieldValueNotFound".to_owned()
            ),
        ],
        "{body}"
    );
    let message = response["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("spec.filters[1]: Not found: \"no-such-filter\""),
        "{message}"
    );

    // The same peer without its bad filter and port is allowed.
    let fixed = peer(
        "projectcalico.org/v3",
        "p",
        json!({"peerIP": "192.0.2.7", "asNumber": 64512, "filters": ["export-only"]}),
    );
    let answer = client
        .review(
            "/validate",
            &review("projectcalico.org/v3", "CREATE", fixed, Value::Null, false),
        )
        .await;
    assert_eq!(answer.json()["response"]["allowed"], true);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_cluster_checks_panics_are_contained_and_decisions_wait_for_a_slot() {
    let (addr, _cluster) = start_api(calico_cluster()).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, _) = connected(addr, dir.path()).await;
    let server = TestServer::start_with(|config| {
        config.cluster = Some(checker);
        config.max_concurrent_reviews = 1;
        config.before_decision = Some(bgppeer_webhook::server::webhook::DecisionHook::new(
            |request| match request.uid.as_str() {
                "panic-here" => panic!("injected panic"),
                "slow" => std::thread::sleep(Duration::from_millis(2500)),
                _ => {}
            },
        ));
    })
    .await;
    let client = server.client(HttpVersion::Http2);
    let with_uid = |uid: &str| {
        let object = peer(
            "projectcalico.org/v3",
            "p",
            json!({"peerIP": "192.0.2.7", "asNumber": 64512, "filters": ["export-only"]}),
        );
        let mut review = review("projectcalico.org/v3", "CREATE", object, Value::Null, false);
        review["request"]["uid"] = json!(uid);
        serde_json::to_vec(&review).unwrap()
    };
    let answer = client
        .post(
            "/validate?timeout=10s",
            Some("application/json"),
            with_uid("panic-here"),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(answer.json()["code"], 500);

    let slow = {
        let client = client.clone();
        let body = with_uid("slow");
        tokio::spawn(async move {
            client
                .post("/validate?timeout=10s", Some("application/json"), body)
                .await
                .unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let answer = client
        .post(
            "/validate?timeout=1s",
            Some("application/json"),
            with_uid("quick"),
        )
        .await
        .unwrap();
    assert_eq!(answer.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(answer.headers["retry-after"], "1");
    assert_eq!(slow.await.unwrap().status, StatusCode::OK);
    let answer = client
        .post(
            "/validate?timeout=10s",
            Some("application/json"),
            with_uid("fine"),
        )
        .await
        .unwrap();
    assert_eq!(answer.json()["response"]["allowed"], true);
    let (_, metrics) = server.ops_get("/metrics").await;
    for expected in [
        "bgppeer_webhook_panics_total 1",
        "bgppeer_webhook_reviews_rejected_total{limit=\"max_concurrent_reviews\"} 1",
        "bgppeer_webhook_reviews_running 0",
    ] {
        assert!(metrics.contains(expected), "{expected} in\n{metrics}");
    }
    server.stop().await;
}

/// The calico cluster with the mesh on (BGPConfiguration "default" without
/// nodeToNodeMeshEnabled) and calico-node's address annotations on n1.
fn meshed_cluster() -> Cluster {
    let mut cluster = calico_cluster();
    cluster.lists.insert(
        CONFIGS_V1.into(),
        vec![object(
            "crd.projectcalico.org/v1",
            "BGPConfiguration",
            "default",
            json!({"spec": {"asNumber": 64512}}),
        )],
    );
    if let Some(nodes) = cluster.lists.get_mut(NODES) {
        nodes[0]["metadata"]["annotations"] = json!({
            "projectcalico.org/IPv4Address": "10.1.0.1/24",
            "projectcalico.org/IPv6Address": "fd00::1/64",
        });
    }
    cluster
}

#[tokio::test]
async fn peering_nodes_while_the_mesh_is_on_is_warned_from_the_watched_configuration() {
    let (addr, _cluster) = start_api(meshed_cluster()).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, _) = connected(addr, dir.path()).await;
    assert!(checker.view().node_to_node_mesh().is_on());
    assert_eq!(
        checker.view().node_at("fd00::1".parse().unwrap()),
        Some("n1")
    );

    let selects_nodes = peer(
        "crd.projectcalico.org/v1",
        "rr",
        json!({"node": "n3", "peerSelector": "rack == 'a'"}),
    );
    let findings = checker.check(&selects_nodes, soon()).await;
    assert!(findings.errors.is_empty(), "{findings:?}");
    assert_eq!(
        findings.warnings,
        [
            "spec.peerSelector matches only 2 of the 5 Nodes: n1, n2",
            "spec.peerSelector: node-to-node mesh is on (unset in BGPConfiguration default); set \
             nodeToNodeMeshEnabled: false",
        ]
    );
    let to_node = peer(
        "crd.projectcalico.org/v1",
        "to-n1",
        json!({"peerIP": "10.1.0.1", "asNumber": 64512}),
    );
    let findings = checker.check(&to_node, soon()).await;
    assert_eq!(
        findings.warnings,
        [
            "spec.peerIP is node \"n1\": mesh is on (unset in BGPConfiguration default); set \
          nodeToNodeMeshEnabled: false"
        ]
    );
    // A router outside the cluster: nothing.
    let external = peer(
        "crd.projectcalico.org/v1",
        "tor",
        json!({"peerIP": "192.0.2.50", "asNumber": 65000}),
    );
    assert!(checker.check(&external, soon()).await.warnings.is_empty());
}

#[tokio::test]
async fn without_bgpconfigurations_served_the_mesh_is_unknown_and_not_warned() {
    let mut cluster = meshed_cluster();
    cluster.lists.remove(CONFIGS_V1);
    let (addr, _cluster) = start_api(cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let (checker, statuses) = connected(addr, dir.path()).await;
    assert_eq!(
        statuses["bgpconfigurations.crd.projectcalico.org"],
        SourceStatus::Absent
    );
    assert_eq!(checker.view().availability(), Availability::Ready);
    assert_eq!(
        checker.view().node_to_node_mesh(),
        bgppeer_core::bgpconfig::Mesh::Unknown
    );
    let selects_nodes = peer(
        "crd.projectcalico.org/v1",
        "rr",
        json!({"node": "n3", "peerSelector": "rack == 'a'"}),
    );
    let findings = checker.check(&selects_nodes, soon()).await;
    assert_eq!(
        findings.warnings,
        ["spec.peerSelector matches only 2 of the 5 Nodes: n1, n2"]
    );
}
