//! The scope and session logic of `explain` on the fixture node list
//! (`tests/fixtures/explain/nodes/nodes.json`, `kubectl get nodes -o json` output):
//!
//! | node        | labels                            | BGP address                     | AS    |
//! |-------------|-----------------------------------|---------------------------------|-------|
//! | rack1-host1 | rack=r1, role=worker              | 10.1.0.11, fd00:1::11 (Calico)  | 64601 |
//! | rack1-host2 | rack=r1, role=worker              | 10.1.0.12 (Calico)              | -     |
//! | rack2-host1 | rack=r2, role=worker              | 192.168.2.11 (InternalIP)       | -     |
//! | rr1         | rack=r1, route-reflector=true     | 10.1.0.2 (Calico)               | -     |

use std::path::PathBuf;

use bgppeer_core::bgppeer::ScopeKey;
use bgppeer_core::explain::nodes::{self, AddressSource, NodeList};
use bgppeer_core::explain::{self, Explanation, PeerOutcome, Plan, Remote, Scope, Target};
use bgppeer_webhook::manifests::{self, Source};
use serde_json::{Value, json};

fn fixture_nodes() -> NodeList {
    let source = Source::File(PathBuf::from("tests/fixtures/explain/nodes/nodes.json"));
    let mut documents = Vec::new();
    manifests::read_documents(&source, manifests::Limits::default(), &mut |doc| {
        documents.push(doc)
    })
    .unwrap();
    nodes::from_objects(documents.iter().map(|d| &d.value)).unwrap()
}

fn peer(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
           "metadata": {"name": name}, "spec": spec})
}

fn explain_one(spec: Value) -> Plan {
    let object = peer("p", spec);
    let explanation = explain::explain([("test".to_owned(), &object)], &fixture_nodes());
    match &explanation.peers[0].outcome {
        PeerOutcome::Explained(plan) => plan.clone(),
        PeerOutcome::Invalid(report) => panic!("invalid: {:?}", report.errors),
    }
}

/// `node -> remote` for every session, remote being an address, `node:NAME` or `workloads`.
fn session_pairs(plan: &Plan) -> Vec<String> {
    plan.sessions
        .iter()
        .map(|s| {
            let remote = match &s.target {
                Target::Address { ip, port, .. } => match port {
                    Some(port) => format!("{ip}:{port}"),
                    None => ip.to_string(),
                },
                Target::Node { name, .. } => format!("node:{name}"),
                Target::LocalWorkloads { .. } => "workloads".to_owned(),
            };
            format!("{} -> {remote}", s.node)
        })
        .collect()
}

const ALL: [&str; 4] = ["rack1-host1", "rack1-host2", "rack2-host1", "rr1"];

#[test]
fn the_fixture_node_list_is_read_completely() {
    let list = fixture_nodes();
    let names: Vec<&str> = list.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ALL);
    assert!(list.warnings.is_empty());
    let rack2 = &list.nodes[2];
    assert_eq!(rack2.labels["rack"], "r2");
    assert_eq!(rack2.addresses.len(), 1);
    assert_eq!(rack2.addresses[0].ip.to_string(), "192.168.2.11");
    assert_eq!(rack2.addresses[0].source, AddressSource::InternalIp);
    assert_eq!(list.nodes[0].as_number, Some(64601));
}

#[test]
fn a_single_yaml_node_is_a_node_list() {
    let source = Source::File(PathBuf::from("tests/fixtures/explain/nodes/node.yaml"));
    let mut documents = Vec::new();
    manifests::read_documents(&source, manifests::Limits::default(), &mut |doc| {
        documents.push(doc)
    })
    .unwrap();
    let list = nodes::from_objects(documents.iter().map(|d| &d.value)).unwrap();
    assert_eq!(list.nodes.len(), 1);
    assert_eq!(list.nodes[0].name, "rack1-host1");
    assert_eq!(list.nodes[0].addresses[0].source, AddressSource::InternalIp);
}

#[test]
fn global_peer_applies_to_every_node() {
    let plan = explain_one(json!({"peerIP": "192.0.2.1", "asNumber": 64500}));
    assert_eq!(plan.scope, Scope::Global);
    assert_eq!(plan.applies_to, ALL);
    assert_eq!(
        session_pairs(&plan),
        ALL.map(|n| format!("{n} -> 192.0.2.1"))
    );
    assert!(matches!(
        plan.sessions[0].target,
        Target::Address {
            as_number: Some(64500),
            port: None,
            ..
        }
    ));
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn node_scoped_peer_applies_to_that_node_only() {
    let plan = explain_one(
        json!({"node": "rack1-host2", "peerIP": "[2001:db8::1]:1179", "asNumber": 64512}),
    );
    assert_eq!(plan.scope, Scope::Node("rack1-host2".into()));
    assert_eq!(plan.applies_to, ["rack1-host2"]);
    assert_eq!(session_pairs(&plan), ["rack1-host2 -> 2001:db8::1:1179"]);
    assert!(matches!(
        plan.sessions[0].target,
        Target::Address {
            port: Some(1179),
            ..
        }
    ));
}

#[test]
fn node_selector_picks_the_matching_nodes() {
    let plan = explain_one(json!({
        "nodeSelector": "rack == 'r1' && !has(route-reflector)",
        "peerIP": "10.1.0.1", "asNumber": 64512
    }));
    assert_eq!(
        plan.scope.key(),
        ScopeKey::NodeSelector("(rack == \"r1\" && !has(route-reflector))".into())
    );
    assert_eq!(plan.applies_to, ["rack1-host1", "rack1-host2"]);
    assert_eq!(
        session_pairs(&plan),
        ["rack1-host1 -> 10.1.0.1", "rack1-host2 -> 10.1.0.1"]
    );
}

#[test]
fn blank_node_selector_is_all_nodes() {
    let plan = explain_one(json!({"nodeSelector": "  ", "peerIP": "10.1.0.1", "asNumber": 1}));
    assert_eq!(plan.scope.key(), ScopeKey::NodeSelector("all()".into()));
    assert_eq!(plan.applies_to, ALL);
}

#[test]
fn global_peer_selector_is_a_full_mesh_without_self_sessions() {
    let plan = explain_one(json!({"peerSelector": "rack == 'r1'"}));
    assert_eq!(plan.scope, Scope::Global);
    assert_eq!(plan.applies_to, ALL);
    let pairs = session_pairs(&plan);
    // Every node peers with every r1 node except itself: 4 nodes x 3 r1 nodes - 3 self pairs.
    assert_eq!(pairs.len(), 9);
    assert!(pairs.contains(&"rack2-host1 -> node:rack1-host1".to_owned()));
    assert!(pairs.contains(&"rack1-host1 -> node:rr1".to_owned()));
    for pair in &pairs {
        let (from, to) = pair.split_once(" -> node:").unwrap();
        assert_ne!(from, to, "a node never peers with itself");
    }
    let Remote::PeerSelector {
        matches,
        manual_reverse,
        ..
    } = &plan.remote
    else {
        panic!("{:?}", plan.remote)
    };
    assert_eq!(matches, &["rack1-host1", "rack1-host2", "rr1"]);
    assert!(!manual_reverse);
}

#[test]
fn peer_selector_sessions_go_to_the_nodes_bgp_addresses() {
    let plan = explain_one(json!({"node": "rr1", "peerSelector": "has(rack)"}));
    let targets: Vec<(String, Vec<String>, Option<u32>)> = plan
        .sessions
        .iter()
        .map(|s| match &s.target {
            Target::Node {
                name,
                addresses,
                as_number,
            } => (
                name.clone(),
                addresses.iter().map(|a| a.ip.to_string()).collect(),
                *as_number,
            ),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(
        targets,
        [
            (
                "rack1-host1".to_owned(),
                vec!["10.1.0.11".to_owned(), "fd00:1::11".to_owned()],
                Some(64601)
            ),
            ("rack1-host2".to_owned(), vec!["10.1.0.12".to_owned()], None),
            (
                "rack2-host1".to_owned(),
                vec!["192.168.2.11".to_owned()],
                None
            ),
        ]
    );
}

#[test]
fn node_selector_with_peer_selector() {
    let plan = explain_one(json!({
        "nodeSelector": "!has(route-reflector)",
        "peerSelector": "route-reflector == 'true'"
    }));
    assert_eq!(
        plan.applies_to,
        ["rack1-host1", "rack1-host2", "rack2-host1"]
    );
    assert_eq!(
        session_pairs(&plan),
        [
            "rack1-host1 -> node:rr1",
            "rack1-host2 -> node:rr1",
            "rack2-host1 -> node:rr1"
        ]
    );
    assert!(plan.warnings.is_empty(), "{:?}", plan.warnings);
}

#[test]
fn node_with_peer_selector() {
    let plan = explain_one(json!({"node": "rack2-host1", "peerSelector": "role == 'worker'"}));
    assert_eq!(plan.scope, Scope::Node("rack2-host1".into()));
    assert_eq!(
        session_pairs(&plan),
        [
            "rack2-host1 -> node:rack1-host1",
            "rack2-host1 -> node:rack1-host2"
        ]
    );
}

#[test]
fn peer_selector_matching_only_the_local_node_opens_nothing() {
    let plan = explain_one(json!({"node": "rr1", "peerSelector": "has(route-reflector)"}));
    assert!(plan.sessions.is_empty());
    assert_eq!(
        plan.warnings,
        [
            "peerSelector matches only the node the peer applies to, and a node never peers with \
          itself: no session"
        ]
    );
}

#[test]
fn a_node_that_does_not_exist() {
    let plan = explain_one(json!({"node": "rack9-host1", "peerIP": "10.9.0.1", "asNumber": 1}));
    assert!(plan.applies_to.is_empty());
    assert!(plan.sessions.is_empty());
    assert_eq!(
        plan.warnings,
        [
            "node \"rack9-host1\" is not in the node list",
            "applies to no node: opens no session"
        ]
    );
}

#[test]
fn selectors_matching_nothing() {
    let plan = explain_one(json!({"nodeSelector": "rack == 'r3'", "peerSelector": "has(rack)"}));
    assert!(plan.applies_to.is_empty() && plan.sessions.is_empty());
    assert_eq!(
        plan.warnings,
        [
            "nodeSelector matches no node",
            "applies to no node: opens no session"
        ]
    );

    let plan = explain_one(json!({"peerSelector": "role == 'spine'"}));
    assert_eq!(plan.applies_to, ALL);
    assert!(plan.sessions.is_empty());
    assert_eq!(plan.warnings, ["peerSelector matches no node"]);

    let plan = explain_one(json!({"nodeSelector": "!all()", "peerSelector": "!all()"}));
    assert_eq!(
        plan.warnings,
        [
            "nodeSelector matches no node",
            "applies to no node: opens no session",
            "peerSelector matches no node"
        ]
    );
}

#[test]
fn an_empty_node_list() {
    let object = peer("p", json!({"peerIP": "10.0.0.1", "asNumber": 1}));
    let explanation = explain::explain([("test".to_owned(), &object)], &NodeList::default());
    let PeerOutcome::Explained(plan) = &explanation.peers[0].outcome else {
        panic!()
    };
    assert!(plan.sessions.is_empty());
    assert_eq!(plan.warnings, ["applies to no node: opens no session"]);
}

#[test]
fn local_workload_selector_peers_with_local_workloads() {
    let plan = explain_one(json!({
        "nodeSelector": "rack == 'r2'",
        "localWorkloadSelector": "app == 'speaker'",
        "asNumber": 64700
    }));
    assert_eq!(
        plan.remote,
        Remote::LocalWorkloads {
            selector: "app == \"speaker\"".into(),
            as_number: 64700
        }
    );
    assert_eq!(session_pairs(&plan), ["rack2-host1 -> workloads"]);
}

#[test]
fn a_peer_with_no_remote_opens_nothing() {
    let plan = explain_one(json!({"node": "rr1"}));
    assert_eq!(plan.remote, Remote::Nothing);
    assert!(plan.sessions.is_empty());
    assert_eq!(plan.warnings, [bgppeer_core::bgppeer::warnings::NO_PEER]);
}

#[test]
fn manual_reverse_peering_is_pointed_out() {
    let plan = explain_one(json!({
        "node": "rr1", "peerSelector": "has(rack)", "reversePeering": "Manual"
    }));
    assert!(matches!(
        plan.remote,
        Remote::PeerSelector {
            manual_reverse: true,
            ..
        }
    ));
    assert_eq!(
        plan.warnings,
        [
            "reversePeering: Manual: the matched nodes open the reverse side only if another \
          BGPPeer selects them"
        ]
    );
}

#[test]
fn peer_ip_of_a_node_is_pointed_out_and_validation_warnings_are_kept() {
    let plan = explain_one(json!({"node": "rack1-host1", "peerIP": "10.1.0.2"}));
    assert_eq!(
        plan.warnings,
        [
            "peerIP set without asNumber: works only if the peer is a Calico node",
            "peerIP 10.1.0.2 is the address of node \"rr1\"; use peerSelector to peer with nodes"
        ]
    );
    assert!(matches!(
        plan.sessions[0].target,
        Target::Address {
            as_number: None,
            ..
        }
    ));
}

#[test]
fn nodes_without_an_address_are_pointed_out() {
    let nodes = nodes::from_objects(&[
        json!({"kind": "Node", "metadata": {"name": "a", "labels": {"x": "1"}}}),
        json!({"kind": "Node", "metadata": {"name": "b", "labels": {"x": "1"}}}),
    ])
    .unwrap();
    let object = peer("p", json!({"node": "a", "peerSelector": "has(x)"}));
    let explanation = explain::explain([("test".to_owned(), &object)], &nodes);
    let PeerOutcome::Explained(plan) = &explanation.peers[0].outcome else {
        panic!()
    };
    assert_eq!(
        plan.warnings,
        [
            "node \"b\" has no known BGP address (no projectcalico.org/IPv4Address annotation, no InternalIP)"
        ]
    );
}

#[test]
fn invalid_peers_are_reported_not_explained() {
    let bad = peer(
        "bad",
        json!({"node": "rr1", "nodeSelector": "has(rack)", "peerIP": "10.0.0.1:0"}),
    );
    let broken_selector = peer("sel", json!({"peerSelector": "rack =="}));
    let wrong_version = json!({"apiVersion": "v1", "kind": "BGPPeer", "metadata": {"name": "x"}});
    let good = peer("good", json!({"peerIP": "10.0.0.1", "asNumber": 1}));
    let other = json!({"apiVersion": "v1", "kind": "ConfigMap"});
    let explanation = explain::explain(
        [
            ("a".to_owned(), &bad),
            ("b".to_owned(), &broken_selector),
            ("c".to_owned(), &wrong_version),
            ("d".to_owned(), &good),
            ("e".to_owned(), &other),
        ],
        &fixture_nodes(),
    );
    assert_eq!(explanation.peers.len(), 4);
    let errors: Vec<Vec<String>> = explanation
        .peers
        .iter()
        .map(|p| match &p.outcome {
            PeerOutcome::Invalid(report) => report.errors.iter().map(|e| e.to_string()).collect(),
            PeerOutcome::Explained(_) => Vec::new(),
        })
        .collect();
    assert_eq!(
        errors[0],
        [
            "spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535",
            "spec.node: Forbidden: node and nodeSelector cannot both be set"
        ]
    );
    assert_eq!(errors[1].len(), 1);
    assert!(
        errors[1][0].starts_with("spec.peerSelector: Invalid value: \"rack ==\""),
        "{errors:?}"
    );
    assert!(
        errors[2][0].starts_with("apiVersion: Unsupported value: \"v1\""),
        "{errors:?}"
    );
    assert!(errors[3].is_empty());
    assert_eq!(
        explanation.skipped,
        [("e".to_owned(), Some("ConfigMap".to_owned()))]
    );
    assert_eq!(explanation.exit_code(), 1);
    assert_eq!(explanation.session_count(), 4);
}

#[test]
fn exit_codes() {
    let good = peer("good", json!({"peerIP": "10.0.0.1", "asNumber": 1}));
    let mut explanation: Explanation =
        explain::explain([("a".to_owned(), &good)], &fixture_nodes());
    assert_eq!(explanation.exit_code(), 0);
    explanation.input_errors.push("x.yaml: not found".into());
    assert_eq!(explanation.exit_code(), 2);
}

#[test]
fn text_rendering() {
    let object = peer(
        "to-rr",
        json!({"nodeSelector": "rack == 'r2'", "peerSelector": "has(route-reflector)"}),
    );
    let explanation =
        explain::explain([("peers.yaml:doc 1".to_owned(), &object)], &fixture_nodes());
    assert_eq!(
        explain::text::render(&explanation),
        "BGPPeer \"to-rr\" (peers.yaml:doc 1)\n\
         \x20 scope: nodeSelector rack == \"r2\"\n\
         \x20 applies to: 1 of 4 nodes: rack2-host1\n\
         \x20 peers with: nodes matching peerSelector has(route-reflector): 1 node: rr1\n\
         \x20 sessions: 1\n\
         \x20   rack2-host1 -> node rr1 at 10.1.0.2 (the cluster's default AS)\n\
         \n\
         1 BGPPeer on 4 nodes: 1 explained (1 session), 0 invalid\n"
    );
}

#[test]
fn json_rendering_follows_the_schema() {
    let object = peer(
        "tor",
        json!({"node": "rack1-host1", "peerIP": "10.1.0.1:179", "asNumber": "1.10"}),
    );
    let explanation =
        explain::explain([("peers.yaml:doc 1".to_owned(), &object)], &fixture_nodes());
    let json: Value = serde_json::from_str(&explain::json::render(&explanation)).unwrap();
    assert_eq!(json["schemaVersion"], 1);
    assert_eq!(json["exitCode"], 0);
    assert_eq!(
        json["summary"],
        json!({"nodes": 4, "bgpPeers": 1, "explained": 1, "invalid": 0, "sessions": 1,
               "skipped": 0, "inputErrors": 0})
    );
    assert_eq!(
        json["nodes"][0]["addresses"][1],
        json!({"ip": "fd00:1::11", "source": "calico-annotation"})
    );
    let peer = &json["peers"][0];
    assert_eq!(peer["name"], "tor");
    assert_eq!(peer["valid"], true);
    assert_eq!(
        peer["scope"],
        json!({"type": "node", "node": "rack1-host1"})
    );
    assert_eq!(peer["appliesTo"], json!(["rack1-host1"]));
    assert_eq!(
        peer["remote"],
        json!({"type": "peerIP", "ip": "10.1.0.1", "port": 179, "asNumber": 65546})
    );
    assert_eq!(
        peer["sessions"],
        json!([{"node": "rack1-host1",
                "peer": {"type": "address", "ip": "10.1.0.1", "port": 179, "asNumber": 65546}}])
    );
}

#[test]
fn dot_rendering_quotes_selectors() {
    let object = peer(
        "w-x",
        json!({"nodeSelector": "rack == 'r2'", "localWorkloadSelector": "app == 'a\\\\b'", "asNumber": 7}),
    );
    let explanation = explain::explain([("p".to_owned(), &object)], &fixture_nodes());
    let dot = explain::dot::render(&explanation);
    assert!(dot.starts_with("digraph \"bgp-peerings\" {\n"), "{dot}");
    assert!(
        dot.contains(
            r#""node:rack2-host1" -> "workloads:app == \"a\\\\b\" AS 7" [label="w-x\nAS 7"];"#
        ),
        "{dot}"
    );
}
