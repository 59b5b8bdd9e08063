//! The cluster rules, pure over a snapshot: every rule and every degraded path.

use std::collections::BTreeMap;

use bgppeer_webhook::cluster::check::{self, FilterMiss};
use bgppeer_webhook::cluster::snapshot::{PeerEntry, SecretLengths, Snapshot};
use bgppeer_webhook::cluster::{Findings, SkipReason};
use bgppeer_webhook::explain::nodes::NodeInfo;
use bgppeer_webhook::field::ErrorType;
use serde_json::{Value, json};

fn node(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
    NodeInfo::with_labels(name, labels)
}

fn peer(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
           "metadata": {"name": name}, "spec": spec})
}

fn cluster() -> Snapshot {
    let nodes = vec![
        node("n1", &[("rack", "a"), ("rr", "true")]),
        node("n2", &[("rack", "a")]),
        node("n3", &[("rack", "b")]),
        node("n4", &[("rack", "b")]),
        node("n5", &[("rack", "b")]),
        node("n6", &[("rack", "b")]),
    ];
    let peers = [
        peer(
            "tor-a",
            json!({"peerIP": "10.0.0.1", "nodeSelector": "rack == 'a'"}),
        ),
        peer("global-1", json!({"peerIP": "192.0.2.1:179"})),
        peer("n1-only", json!({"peerIP": "192.0.2.9", "node": "n1"})),
    ]
    .iter()
    .filter_map(PeerEntry::from_object)
    .collect();
    let mut keys = BTreeMap::new();
    keys.insert("password".to_owned(), 12);
    keys.insert("long".to_owned(), 81);
    keys.insert("exact".to_owned(), 80);
    let mut secrets = BTreeMap::new();
    secrets.insert("bgp".to_owned(), keys);
    Snapshot {
        unavailable: None,
        filters: ["export-only".to_owned(), "import-all".to_owned()]
            .into_iter()
            .collect(),
        peers,
        nodes,
        secrets: Some(SecretLengths {
            namespace: "calico-system".to_owned(),
            secrets,
        }),
    }
}

/// Runs the rules and resolves every miss as confirmed (the live lookup found nothing).
fn findings(object: &Value, snapshot: &Snapshot) -> Findings {
    let checked = check::check(object, snapshot);
    let missing = checked.unconfirmed.clone();
    check::resolve(checked.findings, &missing)
}

/// The duplicate-peer warnings only.
fn duplicates(object: &Value, snapshot: &Snapshot) -> Vec<String> {
    findings(object, snapshot)
        .warnings
        .into_iter()
        .filter(|warning| warning.starts_with("spec.peerIP:"))
        .collect()
}

#[test]
fn a_clean_peer_has_no_findings() {
    let object = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "filters": ["export-only", "import-all"],
               "password": {"secretKeyRef": {"name": "bgp", "key": "password"}}}),
    );
    assert_eq!(findings(&object, &cluster()), Findings::default());
}

#[test]
fn missing_filters_are_misses_to_confirm_then_not_found_errors() {
    let object = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "filters": ["export-only", "nope", 7, "gone"]}),
    );
    let checked = check::check(&object, &cluster());
    assert_eq!(
        checked.unconfirmed,
        vec![
            FilterMiss {
                index: 1,
                name: "nope".into()
            },
            FilterMiss {
                index: 3,
                name: "gone".into()
            }
        ]
    );
    assert!(
        checked.findings.errors.is_empty(),
        "nothing denied before confirmation"
    );

    // The live lookup found "gone" after all (the cache lagged): only "nope" is denied.
    let resolved = check::resolve(checked.findings, &checked.unconfirmed[..1]);
    let errors: Vec<_> = resolved.errors.iter().collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_type, ErrorType::NotFound);
    assert_eq!(errors[0].error_type.reason(), "FieldValueNotFound");
    assert_eq!(
        errors[0].to_string(),
        "spec.filters[1]: Not found: \"nope\": no BGPFilter of this name exists; create it first \
         or remove it from spec.filters"
    );
}

#[test]
fn password_secret_missing_or_key_missing_is_a_warning() {
    let missing_secret = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "password": {"secretKeyRef": {"name": "other", "key": "k"}}}),
    );
    let found = findings(&missing_secret, &cluster());
    assert!(found.errors.is_empty());
    assert_eq!(found.warnings.len(), 1);
    assert!(
        found.warnings[0]
            .starts_with("spec.password.secretKeyRef: Secret calico-system/other not found"),
        "{found:?}"
    );

    let missing_key = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "password": {"secretKeyRef": {"name": "bgp", "key": "pw"}}}),
    );
    let found = findings(&missing_key, &cluster());
    assert!(found.errors.is_empty());
    assert_eq!(
        found.warnings,
        vec![
            "spec.password.secretKeyRef: Secret calico-system/bgp has no key \"pw\" (it has exact, \
             long, password)"
                .to_owned()
        ]
    );
}

#[test]
fn password_longer_than_80_bytes_is_denied_and_80_is_allowed() {
    let long = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "password": {"secretKeyRef": {"name": "bgp", "key": "long"}}}),
    );
    let found = findings(&long, &cluster());
    let errors: Vec<String> = found.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec![
            "spec.password.secretKeyRef: Invalid value: {\"key\":\"long\",\"name\":\"bgp\"}: \
             password is 81 characters, BGP allows at most 80"
        ]
    );

    let exact = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "password": {"secretKeyRef": {"name": "bgp", "key": "exact"}}}),
    );
    assert_eq!(findings(&exact, &cluster()), Findings::default());
}

#[test]
fn password_is_not_checked_without_password_checks() {
    let mut snapshot = cluster();
    snapshot.secrets = None;
    let object = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "password": {"secretKeyRef": {"name": "other", "key": "k"}}}),
    );
    assert_eq!(findings(&object, &snapshot), Findings::default());
}

#[test]
fn node_naming_no_node_is_a_warning() {
    let object = peer("p", json!({"peerIP": "10.9.9.9", "node": "n9"}));
    assert_eq!(
        findings(&object, &cluster()).warnings,
        vec!["spec.node: no Node named \"n9\"; this peer applies to no node until one exists"]
    );
    let object = peer("p", json!({"peerIP": "10.9.9.9", "node": "n2"}));
    assert_eq!(findings(&object, &cluster()), Findings::default());
}

#[test]
fn selectors_matching_no_node_or_few_nodes_are_warnings() {
    let object = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "nodeSelector": "rack == 'z'"}),
    );
    assert_eq!(
        findings(&object, &cluster()).warnings,
        vec![
            "spec.nodeSelector matches none of the 6 Nodes: this peer applies to no node until \
             labels change"
        ]
    );
    let object = peer("p", json!({"peerSelector": "rr == 'true'"}));
    assert_eq!(
        findings(&object, &cluster()).warnings,
        vec!["spec.peerSelector matches only 1 of the 6 Nodes: n1"]
    );
    let object = peer("p", json!({"nodeSelector": "rack == 'a'"}));
    assert_eq!(
        findings(&object, &cluster()).warnings,
        vec!["spec.nodeSelector matches only 2 of the 6 Nodes: n1, n2"]
    );
    let object = peer("p", json!({"peerSelector": "missing == 'x'"}));
    assert_eq!(
        findings(&object, &cluster()).warnings,
        vec![
            "spec.peerSelector matches none of the 6 Nodes: it selects no node to peer with until \
             labels change"
        ]
    );
    // Many matches, all nodes, or a selector the static rules reject: nothing to say here.
    for selector in ["rack == 'b'", "all()", "rack ==="] {
        let object = peer("p", json!({"peerIP": "10.9.9.9", "nodeSelector": selector}));
        assert_eq!(
            findings(&object, &cluster()),
            Findings::default(),
            "{selector}"
        );
    }
}

#[test]
fn a_duplicate_peer_in_the_same_scope_is_a_warning_naming_it() {
    let object = peer(
        "tor-a-again",
        json!({"peerIP": "10.0.0.1:179", "nodeSelector": "rack==\"a\""}),
    );
    assert_eq!(
        duplicates(&object, &cluster()),
        vec![
            "spec.peerIP: BGPPeer \"tor-a\" already peers with 10.0.0.1 port 179 in the same \
             scope: the same BGP session twice"
        ]
    );
    let global = peer("another", json!({"peerIP": "192.0.2.1"}));
    assert_eq!(duplicates(&global, &cluster()).len(), 1);
    let unnamed = json!({"metadata": {"generateName": "p-"}, "spec": {"peerIP": "192.0.2.1"}});
    assert_eq!(duplicates(&unnamed, &cluster()).len(), 1);
}

#[test]
fn same_address_in_another_scope_or_port_is_not_a_duplicate() {
    for spec in [
        json!({"peerIP": "10.0.0.1", "nodeSelector": "rack == 'b'"}),
        json!({"peerIP": "10.0.0.1"}),
        json!({"peerIP": "10.0.0.1:1179", "nodeSelector": "rack == 'a'"}),
        json!({"peerIP": "192.0.2.9", "node": "n2"}),
    ] {
        let object = peer("p", spec.clone());
        let found = duplicates(&object, &cluster());
        assert!(found.is_empty(), "{spec}: {found:?}");
    }
}

#[test]
fn an_update_is_not_its_own_duplicate() {
    let object = peer(
        "tor-a",
        json!({"peerIP": "10.0.0.1", "nodeSelector": "rack == 'a'"}),
    );
    assert_eq!(duplicates(&object, &cluster()), Vec::<String>::new());
}

#[test]
fn unsynced_or_unreachable_caches_skip_everything_with_one_warning() {
    let object = peer(
        "p",
        json!({"peerIP": "10.0.0.1", "nodeSelector": "rack == 'a'", "filters": ["nope"],
               "node": "n9", "password": {"secretKeyRef": {"name": "bgp", "key": "long"}}}),
    );
    for (reason, label, text) in [
        (
            SkipReason::NotSynced {
                sources: vec!["nodes".into(), "bgpfilters.crd.projectcalico.org".into()],
            },
            "not_synced",
            "cluster checks skipped (the caches of nodes, bgpfilters.crd.projectcalico.org are not synced yet)",
        ),
        (
            SkipReason::Unreachable {
                detail: "connection refused".into(),
            },
            "unreachable",
            "cluster checks skipped (the API server is unreachable: connection refused)",
        ),
        (
            SkipReason::ApiError {
                detail: "403 Forbidden".into(),
            },
            "api_error",
            "cluster checks skipped (the API server answered: 403 Forbidden)",
        ),
        (
            SkipReason::Timeout,
            "timeout",
            "cluster checks skipped (the API server did not answer in time)",
        ),
    ] {
        let mut snapshot = cluster();
        snapshot.unavailable = Some(reason.clone());
        let checked = check::check(&object, &snapshot);
        assert!(checked.unconfirmed.is_empty());
        assert!(checked.findings.errors.is_empty());
        assert_eq!(checked.findings.warnings.len(), 1);
        assert!(
            checked.findings.warnings[0].starts_with(text),
            "{:?}",
            checked.findings
        );
        assert_eq!(
            checked.findings.skipped.as_ref().map(SkipReason::label),
            Some(label)
        );
        assert_eq!(checked.findings, Findings::skipped(reason));
    }
    assert_eq!(
        SkipReason::LABELS,
        ["not_synced", "unreachable", "api_error", "timeout"]
    );
}

#[test]
fn an_absent_group_is_an_empty_cache_not_a_skip() {
    use bgppeer_webhook::cluster::status::{SourceStatus, availability};
    let sources = vec![
        (
            "bgpfilters.crd.projectcalico.org".to_owned(),
            SourceStatus::Synced,
        ),
        (
            "bgpfilters.projectcalico.org".to_owned(),
            SourceStatus::Absent,
        ),
        (
            "bgppeers.crd.projectcalico.org".to_owned(),
            SourceStatus::Synced,
        ),
        (
            "bgppeers.projectcalico.org".to_owned(),
            SourceStatus::Absent,
        ),
        ("nodes".to_owned(), SourceStatus::Synced),
    ];
    assert_eq!(availability(&sources), None);
}
