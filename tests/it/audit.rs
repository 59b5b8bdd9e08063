//! `bgppeer-webhook audit` end to end: the real binary against the in-test API server of
//! `cluster_api` (lists in both Calico groups, paging, refusals), asserting stdout, stderr, the
//! exit code, and the JSON report against `docs/schemas/audit.schema.json`.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::binary::{self, stderr, stdout};
use crate::cluster_api::{
    self, Cluster, FILTERS_V1, NODES, PEERS_V1, calico_cluster, closed_port, object, start_api,
};
use crate::support::TestServer;
use bgppeer_webhook::server::audit::{AuditSettings, EventSettings};

pub(crate) const PEERS_V3: &str = "/apis/projectcalico.org/v3/bgppeers";

/// Runs `audit ARGS --kubeconfig` (a kubeconfig for `addr` written in `dir`) off the runtime,
/// so that the in-test API server keeps answering.
async fn audit(addr: SocketAddr, dir: &Path, args: &[&str]) -> Output {
    let kubeconfig = cluster_api::kubeconfig(dir, addr);
    let mut args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    args.push("--kubeconfig".to_owned());
    args.push(kubeconfig.to_str().unwrap().to_owned());
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        binary::run("audit", &args, b"")
    })
    .await
    .unwrap()
}

fn bgppeer(api_version: &str, name: &str, spec: Value) -> Value {
    object(api_version, "BGPPeer", name, json!({ "spec": spec }))
}

/// The Calico cluster of `cluster_api` with peers stored without the webhook: each served by
/// both API groups (the same name and uid), one invalid, one naming a filter that does not
/// exist, two that are the same session.
fn stored_peers() -> Cluster {
    let mut cluster = calico_cluster();
    let specs = [
        (
            "tor-a",
            json!({"peerIP": "10.0.0.1", "asNumber": 64512, "nodeSelector": "rack == 'a'"}),
        ),
        (
            "bad-port",
            json!({"peerIP": "10.0.0.2:0", "asNumber": 64512}),
        ),
        (
            "lost-filter",
            json!({"peerIP": "10.0.0.3", "asNumber": 64512,
                   "filters": ["export-only", "deleted-since"]}),
        ),
        ("same-a", json!({"peerIP": "10.0.0.4", "asNumber": 64512})),
        (
            "same-b",
            json!({"peerIP": "10.0.0.4:179", "asNumber": 64512}),
        ),
    ];
    for (path, api_version) in [
        (PEERS_V1, "crd.projectcalico.org/v1"),
        (PEERS_V3, "projectcalico.org/v3"),
    ] {
        cluster.lists.insert(
            path.to_owned(),
            specs
                .iter()
                .map(|(name, spec)| bgppeer(api_version, name, spec.clone()))
                .collect(),
        );
    }
    cluster
}

#[tokio::test]
async fn stored_peers_are_audited_once_each_with_every_rule() {
    let (addr, cluster) = start_api(stored_peers()).await;
    let dir = tempfile::tempdir().unwrap();
    let output = audit(addr, dir.path(), &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    assert_eq!(
        stdout(&output),
        format!(
            "BGPPeer \"bad-port\": spec.peerIP: Invalid value: \"10.0.0.2:0\": port must be between 1 and 65535\n\
             BGPPeer \"lost-filter\": spec.filters[1]: Not found: \"deleted-since\": no BGPFilter of this name exists; create it first or remove it from spec.filters\n\
             BGPPeer \"same-a\": warning: spec.peerIP: BGPPeer \"same-b\" already peers with 10.0.0.4 port 179 in the same scope: the same BGP session twice\n\
             BGPPeer \"same-b\": warning: spec.peerIP: BGPPeer \"same-a\" already peers with 10.0.0.4 port 179 in the same scope: the same BGP session twice\n\
             BGPPeer \"tor-a\": warning: spec.nodeSelector matches only 2 of the 5 Nodes: n1, n2\n\
             5 stored BGPPeers audited in http://{addr}/: 3 valid, 2 invalid (2 errors), 3 warnings\n"
        )
    );
    // Both groups were read; without --password-checks, no Secret was.
    let requests = cluster.lock().unwrap().requests.clone();
    for path in [PEERS_V1, PEERS_V3, FILTERS_V1, NODES] {
        assert!(
            requests
                .iter()
                .any(|r| r.starts_with(&format!("GET {path}?"))),
            "{path} in {requests:?}"
        );
    }
    assert!(
        !requests.iter().any(|r| r.contains("secrets")),
        "{requests:?}"
    );
}

#[tokio::test]
async fn the_json_report_follows_its_schema() {
    let mut cluster = stored_peers();
    cluster.lists.get_mut(PEERS_V1).unwrap().push(bgppeer(
        "crd.projectcalico.org/v1",
        "long-password",
        json!({"peerIP": "10.0.0.9", "asNumber": 64512,
               "password": {"secretKeyRef": {"name": "bgp", "key": "long"}}}),
    ));
    let (addr, _cluster) = start_api(cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let output = audit(addr, dir.path(), &["-o", "json", "--password-checks"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let report: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_valid(&report);
    assert_eq!(report["exitCode"], 1);
    assert_eq!(report["cluster"], format!("http://{addr}/"));
    assert_eq!(
        report["summary"],
        json!({"bgpPeers": 6, "valid": 3, "invalid": 3, "errors": 3, "warnings": 4, "failures": 0})
    );
    let long = &report["results"][1];
    assert_eq!(long["name"], "long-password");
    assert_eq!(long["apiVersion"], "crd.projectcalico.org/v1");
    assert_eq!(long["uid"], "uid-long-password");
    assert_eq!(long["errors"][0]["field"], "spec.password.secretKeyRef");
    assert_eq!(
        long["errors"][0]["message"],
        "Invalid value: {\"key\":\"long\",\"name\":\"bgp\"}: password is 81 characters, BGP allows at most 80"
    );
    assert_eq!(report["notes"], json!([]));

    // The schema is not trivially true: a wrong report fails it.
    let mut wrong = report.clone();
    wrong["results"][0]["errors"][0]["reason"] = json!("Invalid");
    assert!(!jsonschema::is_valid(&schema(), &wrong));
}

fn schema() -> Value {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schemas/audit.schema.json"),
    )
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn assert_valid(report: &Value) {
    let validator = jsonschema::draft202012::new(&schema()).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(report)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{report:#}");
}

#[tokio::test]
async fn all_valid_is_exit_0_and_large_lists_are_paged() {
    let mut cluster = calico_cluster();
    cluster.lists.insert(
        PEERS_V1.to_owned(),
        vec![bgppeer(
            "crd.projectcalico.org/v1",
            "tor-a",
            json!({"peerIP": "10.0.0.1", "asNumber": 64512, "nodeSelector": "rack == 'a'"}),
        )],
    );
    let nodes: Vec<Value> = (0..1201)
        .map(|n| {
            json!({"apiVersion": "meta.k8s.io/v1", "kind": "PartialObjectMetadata",
                   "metadata": {"name": format!("node-{n:04}"), "labels": {"rack": "a"}}})
        })
        .collect();
    cluster.lists.insert(NODES.to_owned(), nodes);
    let (addr, shared) = start_api(cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let output = audit(addr, dir.path(), &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    // tor-a selects every node now: no warning at all.
    assert_eq!(
        stdout(&output),
        format!(
            "1 stored BGPPeer audited in http://{addr}/: 1 valid, 0 invalid (0 errors), 0 warnings\n"
        )
    );
    let pages: Vec<String> = shared
        .lock()
        .unwrap()
        .requests
        .iter()
        .filter(|r| r.starts_with(&format!("GET {NODES}?")))
        .cloned()
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[2].contains("continue=1000"), "{pages:?}");
}

#[tokio::test]
async fn an_unreachable_api_server_is_exit_2_naming_it() {
    let addr = closed_port().await;
    let dir = tempfile::tempdir().unwrap();
    let output = audit(addr, dir.path(), &[]).await;
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(
        message.starts_with(&format!(
            "error: cannot reach the API server at http://{addr}/ to list \
             bgppeers.crd.projectcalico.org: Connection refused"
        )),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "{message}");
    assert!(
        !message.contains("Status {") && !message.contains("Error {"),
        "{message}"
    );

    let output = audit(addr, dir.path(), &["-o", "json"]).await;
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_valid(&report);
    assert_eq!(report["exitCode"], 2);
    assert!(
        report["failures"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("http://{addr}/"))
    );
}

#[tokio::test]
async fn refused_lists_are_skipped_with_a_note() {
    // The Calico API server's group is refused but the CRDs are read: nothing is lost.
    let mut cluster = stored_peers();
    cluster.forbidden.push(PEERS_V3.to_owned());
    let (addr, _cluster) = start_api(cluster).await;
    let dir = tempfile::tempdir().unwrap();
    let output = audit(addr, dir.path(), &[]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.contains(&format!(
            "note: http://{addr}/ refused to list bgppeers.projectcalico.org (403 Forbidden: "
        )),
        "{text}"
    );
    assert!(
        text.contains("the other Calico API group was read and serves the same objects"),
        "{text}"
    );
    assert!(text.contains("5 stored BGPPeers audited"), "{text}");

    // Nodes refused: the cluster rules are skipped (said once), the static ones still run.
    let mut cluster = stored_peers();
    cluster.forbidden.push(NODES.to_owned());
    let (addr, _cluster) = start_api(cluster).await;
    let output = audit(addr, dir.path(), &["--password-checks"]).await;
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let text = stdout(&output);
    let notes: Vec<&str> = text.lines().filter(|l| l.starts_with("note: ")).collect();
    assert_eq!(notes.len(), 1, "{text}");
    assert!(
        notes[0].starts_with(&format!(
            "note: cluster checks skipped (the API server answered: nodes: http://{addr}/ refused \
             to list nodes (403 Forbidden: "
        )),
        "{text}"
    );
    assert!(
        notes[0].contains("the account needs the RBAC verb \"list\" on nodes"),
        "{text}"
    );
    assert!(text.contains("BGPPeer \"bad-port\": spec.peerIP"), "{text}");
    assert!(!text.contains("deleted-since"), "{text}");

    // No Calico CRDs at all: nothing stored, said once per resource; exit 0.
    let mut cluster = Cluster::default();
    cluster.lists.insert(NODES.to_owned(), Vec::new());
    let (addr, _cluster) = start_api(cluster).await;
    let output = audit(addr, dir.path(), &[]).await;
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        format!(
            "note: http://{addr}/ serves no bgppeers in either Calico API group (crd.projectcalico.org, projectcalico.org): none are stored\n\
             note: http://{addr}/ serves no bgpfilters in either Calico API group (crd.projectcalico.org, projectcalico.org): none are stored\n\
             note: http://{addr}/ serves no bgpconfigurations in either Calico API group (crd.projectcalico.org, projectcalico.org): none are stored\n\
             0 stored BGPPeers audited in http://{addr}/: 0 valid, 0 invalid (0 errors), 0 warnings\n"
        )
    );

    // Every BGPPeer list refused: nothing to audit, exit 2.
    let mut cluster = stored_peers();
    cluster.forbidden.push(PEERS_V1.to_owned());
    cluster.forbidden.push(PEERS_V3.to_owned());
    let (addr, _cluster) = start_api(cluster).await;
    let output = audit(addr, dir.path(), &[]).await;
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with(&format!(
            "error: http://{addr}/ refused to list bgppeers.crd.projectcalico.org (403 Forbidden"
        )),
        "{}",
        stderr(&output)
    );
}

const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/default/events";
const LEASE: &str =
    "/apis/coordination.k8s.io/v1/namespaces/bgppeer-system/leases/bgppeer-webhook-audit";

/// The Events POSTed to the in-test API server so far.
fn events(cluster: &cluster_api::Shared) -> Vec<Value> {
    cluster
        .lock()
        .unwrap()
        .writes
        .iter()
        .filter(|(request, _)| request.starts_with("POST ") && request.ends_with(EVENTS))
        .map(|(_, body)| body.clone())
        .collect()
}

/// A log sink for the tracing subscriber of one test thread.
#[derive(Clone, Default)]
struct Log(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Log {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Log {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn metric(text: &str, name: &str) -> i64 {
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"))
        .parse()
        .unwrap()
}

/// Two replicas audit on an interval: both export the gauges; the one holding the Lease records
/// each problem once as an Event on its BGPPeer, across several intervals; the other records
/// nothing; each new problem is logged once.
// Current-thread: the test's log subscriber sees the server's background tasks.
#[tokio::test]
async fn the_periodic_audit_exports_gauges_and_only_the_leader_records_each_problem_once() {
    let log = Log::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .finish();
    let _logging = tracing::subscriber::set_default(subscriber);

    let (addr, cluster) = start_api(stored_peers()).await;
    let dir = tempfile::tempdir().unwrap();
    let interval = std::time::Duration::from_millis(300);
    let settings = |identity: &str| AuditSettings {
        interval,
        events: Some(EventSettings {
            lease_namespace: "bgppeer-system".to_owned(),
            lease_name: "bgppeer-webhook-audit".to_owned(),
            identity: identity.to_owned(),
        }),
    };
    let (checker, _) = cluster_api::connected(addr, dir.path()).await;
    let leader = TestServer::start_with(|config| {
        config.cluster = Some(checker);
        config.audit = Some(settings("replica-a"));
    })
    .await;
    let limit = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while events(&cluster).len() < 5 {
        assert!(
            tokio::time::Instant::now() < limit,
            "events: {:?}\nlog:\n{}",
            events(&cluster),
            log.text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (checker, _) = cluster_api::connected(addr, dir.path()).await;
    let other = TestServer::start_with(|config| {
        config.cluster = Some(checker);
        config.audit = Some(settings("replica-b"));
    })
    .await;
    // Several more intervals for both.
    tokio::time::sleep(interval * 6).await;

    for server in [&leader, &other] {
        let (_, text) = server.ops_get("/metrics").await;
        assert_eq!(
            metric(&text, "bgppeer_webhook_audit_invalid_peers"),
            2,
            "{text}"
        );
        assert_eq!(metric(&text, "bgppeer_webhook_audit_warnings"), 3, "{text}");
        let last = metric(
            &text,
            "bgppeer_webhook_audit_last_success_timestamp_seconds",
        );
        assert!(last > 1_700_000_000, "{text}");
    }

    let events = events(&cluster);
    assert_eq!(events.len(), 5, "{events:#?}");
    let mut seen: Vec<(String, String, String)> = events
        .iter()
        .map(|event| {
            assert_eq!(event["type"], "Warning", "{event}");
            assert_eq!(event["reportingController"], "bgppeer-webhook", "{event}");
            assert_eq!(event["reportingInstance"], "replica-a", "{event}");
            assert_eq!(event["action"], "Audit", "{event}");
            // Posted to namespace default (the filter on EVENTS): BGPPeers are cluster-scoped.
            let regarding = &event["regarding"];
            assert_eq!(regarding["kind"], "BGPPeer", "{event}");
            assert_eq!(
                regarding["apiVersion"], "crd.projectcalico.org/v1",
                "{event}"
            );
            let name = regarding["name"].as_str().unwrap().to_owned();
            assert_eq!(regarding["uid"], format!("uid-{name}"), "{event}");
            (
                name,
                event["reason"].as_str().unwrap().to_owned(),
                event["note"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen[0],
        (
            "bad-port".to_owned(),
            "InvalidBGPPeer".to_owned(),
            "spec.peerIP: Invalid value: \"10.0.0.2:0\": port must be between 1 and 65535"
                .to_owned()
        )
    );
    assert_eq!(seen[1].0, "lost-filter");
    assert_eq!(seen[1].1, "InvalidBGPPeer");
    assert!(
        seen[1]
            .2
            .starts_with("spec.filters[1]: Not found: \"deleted-since\""),
        "{seen:?}"
    );
    assert_eq!(
        (seen[4].0.as_str(), seen[4].1.as_str()),
        ("tor-a", "BGPPeerWarning")
    );
    // The Lease names the leader.
    let lease = cluster.lock().unwrap().late.get(LEASE).cloned().unwrap();
    assert_eq!(lease["spec"]["holderIdentity"], "replica-a", "{lease}");

    // Logged once per replica, not once per interval.
    let text = log.text();
    let invalid = text
        .lines()
        .filter(|line| {
            line.contains("audit: stored BGPPeer is invalid") && line.contains("bad-port")
        })
        .count();
    assert_eq!(invalid, 2, "{text}");
    leader.stop().await;
    other.stop().await;
}

/// A kubeconfig file with one context, `name`, pointing at `server`.
fn kubeconfig_file(dir: &Path, name: &str, server: &str) -> std::path::PathBuf {
    let path = dir.join(name);
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: {name}\n  cluster:\n    server: {server}\n\
             users:\n- name: {name}\n  user: {{}}\ncontexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n\
             current-context: {name}\n"
        ),
    )
    .unwrap();
    path
}

/// The cluster is found as kubectl finds it: the files listed in KUBECONFIG are merged (the
/// first one's current context wins) and --context picks another of their contexts.
#[tokio::test]
async fn kubeconfig_is_found_in_the_kubeconfig_list_and_context_picks_one() {
    let (addr, _cluster) = start_api(stored_peers()).await;
    let closed = closed_port().await;
    let dir = tempfile::tempdir().unwrap();
    let first = kubeconfig_file(dir.path(), "elsewhere", &format!("http://{closed}"));
    let second = kubeconfig_file(dir.path(), "here", &format!("http://{addr}"));
    let list = std::env::join_paths([&first, &second]).unwrap();
    let run = |args: &'static [&'static str]| {
        let list = list.clone();
        let home = dir.path().to_owned();
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
                .args(args)
                .env("KUBECONFIG", &list)
                .env("HOME", &home)
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .output()
                .unwrap()
        })
    };
    let output = run(&["audit"]).await.unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    assert!(
        stderr(&output).contains(&format!("http://{closed}/")),
        "{}",
        stderr(&output)
    );
    let output = run(&["audit", "--context", "here"]).await.unwrap();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stdout(&output).contains(&format!("5 stored BGPPeers audited in http://{addr}/")),
        "{}",
        stdout(&output)
    );
    let output = run(&["audit", "--context", "nowhere"]).await.unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: reading the kubeconfig files in KUBECONFIG ({}): it has no context named \
             \"nowhere\"; see `kubectl config get-contexts`\n",
            list.to_string_lossy()
        )
    );
    // explain shares the discovery.
    let output = run(&[
        "explain",
        "--context",
        "nowhere",
        "tests/fixtures/explain/peers",
    ])
    .await
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("it has no context named \"nowhere\""),
        "{}",
        stderr(&output)
    );
}

#[test]
fn serve_refuses_an_audit_without_cluster_checks() {
    for (args, expected) in [
        (
            vec!["--audit-interval", "5m"],
            "error: --audit-interval needs --cluster-checks: the audit reads the cluster checks' caches\n",
        ),
        (
            vec!["--audit-events"],
            "error: --audit-events needs --audit-interval: the Events come from the audit\n",
        ),
        (
            vec![
                "--cluster-checks",
                "--audit-interval",
                "5m",
                "--audit-events",
            ],
            "error: --audit-events needs --lease-namespace (the webhook's namespace): only the \
             replica holding the Lease there records Events\n",
        ),
    ] {
        let mut all = vec!["--tls-cert-file", "no.crt", "--tls-key-file", "no.key"];
        all.extend(args);
        let output = binary::run("serve", &all, b"");
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        assert_eq!(stderr(&output), expected, "{all:?}");
    }
}
