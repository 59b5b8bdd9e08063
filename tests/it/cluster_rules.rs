//! The cluster rules, pure over a cluster view (the index as the watches feed it): every rule and
//! every degraded path.

use std::collections::BTreeMap;

use bgppeer_core::admission::cluster::NoCluster;
use bgppeer_core::admission::cluster::rules::{self as check, FilterMiss};
use bgppeer_core::admission::cluster::{
    Address, Availability, ClusterView, Findings, NodeMatch, ScopeKey, SelectorRef, SkipReason,
};
use bgppeer_core::bgppeer::{self, ApiGroup};
use bgppeer_core::field::ErrorType;
use bgppeer_webhook::cluster::index::{BgpConfiguration, Index, Item, Source, StoredPeer};
use bgppeer_webhook::cluster::status::SourceStatus;
use serde_json::{Value, json};

fn node(name: &str, labels: &[(&str, &str)]) -> Item {
    node_at(name, labels, &[])
}

/// A node with BGP addresses (calico-node's address annotations, as the watch reads them).
fn node_at(name: &str, labels: &[(&str, &str)], addresses: &[&str]) -> Item {
    Item::Node(
        name.to_owned(),
        labels
            .iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect(),
        addresses.iter().map(|ip| ip.parse().unwrap()).collect(),
    )
}

/// Sets BGPConfiguration "default" (in the crd.projectcalico.org group), or removes it.
fn set_default_configuration(index: &mut Index, spec: Option<Value>) {
    let source = Source::BgpConfigurations(ApiGroup::CrdV1);
    match spec {
        Some(spec) => index.apply(
            source,
            Item::BgpConfiguration("default".into(), BgpConfiguration::from_spec(&spec)),
        ),
        None => index.replace(source, Vec::new()),
    }
}

fn peer(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
           "metadata": {"name": name}, "spec": spec})
}

/// The cluster of these tests, its index fed as the watches feed it, password checks on.
fn cluster() -> Index {
    cluster_with(Some("calico-system"))
}

fn cluster_with(password_namespace: Option<&str>) -> Index {
    let mut index = Index::new(password_namespace);
    for source in index.sources() {
        index.set_status(source, SourceStatus::Synced);
    }
    index.replace(
        Source::Nodes,
        vec![
            node_at(
                "n1",
                &[("rack", "a"), ("rr", "true")],
                &["10.1.0.1", "fd00::1"],
            ),
            node("n2", &[("rack", "a")]),
            node("n3", &[("rack", "b")]),
            node("n4", &[("rack", "b")]),
            node("n5", &[("rack", "b")]),
            node("n6", &[("rack", "b")]),
        ],
    );
    for object in [
        peer(
            "tor-a",
            json!({"peerIP": "10.0.0.1", "nodeSelector": "rack == 'a'"}),
        ),
        peer("global-1", json!({"peerIP": "192.0.2.1:179"})),
        peer("n1-only", json!({"peerIP": "192.0.2.9", "node": "n1"})),
    ] {
        let name = object["metadata"]["name"].as_str().unwrap().to_owned();
        index.apply(
            Source::Peers(ApiGroup::CrdV1),
            Item::Peer(StoredPeer::from_spec(
                ApiGroup::CrdV1,
                name,
                &object["spec"],
            )),
        );
    }
    for filter in ["export-only", "import-all"] {
        index.apply(
            Source::Filters(ApiGroup::CrdV1),
            Item::Filter(filter.to_owned()),
        );
    }
    let mut keys = BTreeMap::new();
    keys.insert("password".to_owned(), 12);
    keys.insert("long".to_owned(), 81);
    keys.insert("exact".to_owned(), 80);
    index.apply(Source::Secrets, Item::Secret("bgp".to_owned(), keys));
    // The cluster of these tests peers nodes through BGPPeers: the mesh is off. The mesh tests
    // turn it on.
    set_default_configuration(&mut index, Some(json!({"nodeToNodeMeshEnabled": false})));
    index
}

/// Validates the object into its typed peer and runs the rules on it.
fn run_rules(object: &Value, view: &dyn ClusterView) -> check::Checked {
    let peer = bgppeer::validate(ApiGroup::CrdV1, object).peer;
    check::check(&peer, object, view)
}

/// Runs the rules and resolves every miss as confirmed (the live lookup found nothing).
fn findings(object: &Value, view: &dyn ClusterView) -> Findings {
    let checked = run_rules(object, view);
    let missing = checked.unconfirmed.clone();
    check::resolve(checked.findings, &missing)
}

/// The duplicate-peer warnings only.
fn duplicates(object: &Value, view: &dyn ClusterView) -> Vec<String> {
    findings(object, view)
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
    let checked = run_rules(&object, &cluster());
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
    let index = cluster_with(None);
    let object = peer(
        "p",
        json!({"peerIP": "10.9.9.9", "password": {"secretKeyRef": {"name": "other", "key": "k"}}}),
    );
    assert_eq!(findings(&object, &index), Findings::default());
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
        let checked = run_rules(&object, &Unavailable(reason.clone()));
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

/// A view that cannot be trusted, for the given reason.
struct Unavailable(SkipReason);

impl ClusterView for Unavailable {
    fn availability(&self) -> Availability<'_> {
        Availability::Skipped(&self.0)
    }
    fn filter_exists(&self, _: &str) -> bool {
        false
    }
    fn password_namespace(&self) -> Option<&str> {
        Some("calico-system")
    }
    fn secret_key_lengths(&self, _: &str) -> Option<&BTreeMap<String, usize>> {
        None
    }
    fn node_exists(&self, _: &str) -> bool {
        false
    }
    fn nodes_matching(&self, _: SelectorRef<'_>) -> NodeMatch {
        NodeMatch::default()
    }
    fn peers_at(&self, _: &ScopeKey, _: Address) -> Vec<&str> {
        Vec::new()
    }
}

#[test]
fn an_index_whose_watch_failed_skips_with_its_reason() {
    let mut index = cluster();
    index.set_status(Source::Nodes, SourceStatus::Pending);
    index.set_status(
        Source::Filters(ApiGroup::V3),
        SourceStatus::Unreachable("connection refused".into()),
    );
    let object = peer("p", json!({"peerIP": "10.0.0.1", "filters": ["nope"]}));
    let checked = run_rules(&object, &index);
    assert!(checked.unconfirmed.is_empty());
    assert_eq!(
        checked.findings,
        Findings::skipped(SkipReason::Unreachable {
            detail: "connection refused".into()
        })
    );
    index.set_status(Source::Filters(ApiGroup::V3), SourceStatus::Absent);
    assert_eq!(
        run_rules(&object, &index).findings,
        Findings::skipped(SkipReason::NotSynced {
            sources: vec!["nodes".into()]
        })
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

/// The mesh warnings only.
fn mesh_warnings(object: &Value, view: &dyn ClusterView) -> Vec<String> {
    findings(object, view)
        .warnings
        .into_iter()
        .filter(|warning| warning.contains("mesh"))
        .collect()
}

#[test]
fn peering_nodes_while_the_mesh_is_on_is_a_warning_naming_the_field() {
    let selects_nodes = peer("rr", json!({"peerSelector": "rack == 'a'", "node": "n3"}));
    let node_address = peer("to-n1", json!({"peerIP": "10.1.0.1", "asNumber": 64512}));
    let node_v6_address = peer("to-n1-v6", json!({"peerIP": "[fd00::1]:179"}));
    let external = peer("tor", json!({"peerIP": "10.9.9.9", "asNumber": 65000}));
    let selects_none = peer("none", json!({"peerSelector": "rack == 'z'"}));
    let mut index = cluster();

    // The fixture's mesh is off: nothing to say.
    for object in [&selects_nodes, &node_address, &external] {
        assert!(mesh_warnings(object, &index).is_empty(), "{object}");
    }

    // nodeToNodeMeshEnabled unset: on.
    set_default_configuration(&mut index, Some(json!({"asNumber": 64512})));
    let warnings = findings(&selects_nodes, &index).warnings;
    assert_eq!(
        warnings,
        [
            "spec.peerSelector matches only 2 of the 6 Nodes: n1, n2",
            "spec.peerSelector: node-to-node mesh is on (unset in BGPConfiguration default); set \
             nodeToNodeMeshEnabled: false"
        ]
    );
    assert_eq!(
        mesh_warnings(&node_address, &index),
        [
            "spec.peerIP is node \"n1\": mesh is on (unset in BGPConfiguration default); set \
          nodeToNodeMeshEnabled: false"
        ]
    );
    assert_eq!(mesh_warnings(&node_v6_address, &index).len(), 1);
    // A router outside the cluster, or a selector that selects no node: no mesh warning.
    assert!(mesh_warnings(&external, &index).is_empty());
    assert!(mesh_warnings(&selects_none, &index).is_empty());
    // A warning, never a denial.
    assert!(findings(&selects_nodes, &index).errors.is_empty());

    // nodeToNodeMeshEnabled: true, and no BGPConfiguration "default" at all (Calico's default).
    set_default_configuration(&mut index, Some(json!({"nodeToNodeMeshEnabled": true})));
    assert_eq!(
        mesh_warnings(&selects_nodes, &index),
        [
            "spec.peerSelector: node-to-node mesh is on (set in BGPConfiguration default); set \
          nodeToNodeMeshEnabled: false"
        ]
    );
    set_default_configuration(&mut index, None);
    assert_eq!(
        mesh_warnings(&selects_nodes, &index),
        [
            "spec.peerSelector: node-to-node mesh is on (no BGPConfiguration default); set \
          nodeToNodeMeshEnabled: false"
        ]
    );

    // The node's address goes with the node's annotations: changed, then removed.
    index.apply(
        Source::Nodes,
        node_at("n1", &[("rack", "a")], &["10.1.0.99"]),
    );
    assert!(mesh_warnings(&node_address, &index).is_empty());
    assert_eq!(
        mesh_warnings(&peer("p", json!({"peerIP": "10.1.0.99"})), &index).len(),
        1
    );
    index.apply(Source::Nodes, node_at("n1", &[("rack", "a")], &[]));
    assert!(mesh_warnings(&peer("p", json!({"peerIP": "10.1.0.99"})), &index).is_empty());

    // BGPConfigurations not served in either group: the mesh is unknown, no warning.
    index.set_status(
        Source::BgpConfigurations(ApiGroup::CrdV1),
        SourceStatus::Absent,
    );
    index.set_status(
        Source::BgpConfigurations(ApiGroup::V3),
        SourceStatus::Absent,
    );
    assert_eq!(
        index.node_to_node_mesh(),
        bgppeer_core::bgpconfig::Mesh::Unknown
    );
    assert!(mesh_warnings(&selects_nodes, &index).is_empty());
    // Served by one group only: known again.
    index.set_status(
        Source::BgpConfigurations(ApiGroup::V3),
        SourceStatus::Synced,
    );
    assert!(index.node_to_node_mesh().is_on());

    // Cluster checks off: nothing.
    assert_eq!(
        NoCluster.node_to_node_mesh(),
        bgppeer_core::bgpconfig::Mesh::Unknown
    );
    assert!(findings(&selects_nodes, &NoCluster).warnings.is_empty());
}
