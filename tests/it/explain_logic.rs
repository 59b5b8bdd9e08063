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

use bgppeer_core::bgpconfig::{AsSource, BgpConfigurations, Mesh, MeshSource, PortSource};
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
        "BGP configuration: unknown\n\
         \x20 node-to-node mesh: unknown (no BGPConfiguration could be read)\n\
         \x20 default AS unknown: no BGPConfiguration given; Calico's built-in default is 64512\n\
         \x20 listen port unknown: no BGPConfiguration given; BGP's default is 179\n\
         \x20 note: no BGPConfiguration given\n\
         \n\
         BGPPeer \"to-rr\" (peers.yaml:doc 1)\n\
         \x20 scope: nodeSelector rack == \"r2\"\n\
         \x20 applies to: 1 of 4 nodes: rack2-host1\n\
         \x20 peers with: nodes matching peerSelector has(route-reflector): 1 node: rr1\n\
         \x20 sessions: 1\n\
         \x20   rack2-host1 -> node rr1 at 10.1.0.2 (the cluster's default AS)\n\
         \x20     iBGP or eBGP unknown: local AS unknown, remote AS unknown; port unknown (the \
         remote node's listenPort; BGP's default is 179)\n\
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
                "peer": {"type": "address", "ip": "10.1.0.1", "port": 179, "asNumber": 65546},
                "localAs": {"asNumber": 64601, "source": "node"},
                "remoteAs": {"asNumber": 65546, "source": "bgpPeer"},
                "bgpType": "eBGP",
                "port": {"port": 179, "source": "peerIP"},
                "warnings": []}])
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
            r#""node:rack2-host1" -> "workloads:app == \"a\\\\b\" AS 7" [label="w-x\nAS 7\nport 179"];"#
        ),
        "{dot}"
    );
}

fn bgp_config(name: &str, spec: Value) -> Value {
    json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
           "metadata": {"name": name}, "spec": spec})
}

/// Explains one peer on the fixture nodes with these BGPConfigurations.
fn explain_with(spec: Value, configurations: &[Value]) -> Plan {
    let bgp = BgpConfigurations::from_objects(configurations).unwrap();
    explain_with_bgp(spec, bgp)
}

fn explain_with_bgp(spec: Value, bgp: BgpConfigurations) -> Plan {
    let object = peer("p", spec);
    let explanation = explain::explain_with([("test".to_owned(), &object)], &fixture_nodes(), bgp);
    match &explanation.peers[0].outcome {
        PeerOutcome::Explained(plan) => plan.clone(),
        PeerOutcome::Invalid(report) => panic!("invalid: {:?}", report.errors),
    }
}

/// `node -> remote: local/remote AS, type, port` for every session.
fn resolved(plan: &Plan) -> Vec<String> {
    let as_text = |value: Option<(u32, AsSource)>| {
        value.map_or("?".to_owned(), |(n, source)| {
            format!("{n}({})", source.as_str())
        })
    };
    session_pairs(plan)
        .into_iter()
        .zip(&plan.sessions)
        .map(|(pair, s)| {
            format!(
                "{pair}: {} {} {} {}",
                as_text(s.local_as),
                as_text(s.remote_as),
                s.bgp_type().unwrap_or("?"),
                s.port.map_or("?".to_owned(), |(p, source)| format!(
                    "{p}({})",
                    source.as_str()
                ))
            )
        })
        .collect()
}

#[test]
fn default_as_node_override_listen_ports_and_bgp_types() {
    let configurations = [
        bgp_config("default", json!({"asNumber": 65000, "listenPort": 1179})),
        bgp_config("node.rr1", json!({"listenPort": 2179})),
    ];
    let plan = explain_with(
        json!({"nodeSelector": "!has(route-reflector)", "peerSelector": "has(route-reflector)"}),
        &configurations,
    );
    assert_eq!(
        resolved(&plan),
        [
            // rack1-host1's own AS (its annotation) overrides the default: eBGP.
            "rack1-host1 -> node:rr1: 64601(node) 65000(bgpConfiguration) eBGP 2179(nodeBgpConfiguration)",
            "rack1-host2 -> node:rr1: 65000(bgpConfiguration) 65000(bgpConfiguration) iBGP 2179(nodeBgpConfiguration)",
            "rack2-host1 -> node:rr1: 65000(bgpConfiguration) 65000(bgpConfiguration) iBGP 2179(nodeBgpConfiguration)",
        ]
    );
    // The other direction goes to the default listen port.
    let plan = explain_with(
        json!({"node": "rr1", "peerSelector": "rack == 'r2'"}),
        &configurations,
    );
    assert_eq!(
        resolved(&plan),
        [
            "rr1 -> node:rack2-host1: 65000(bgpConfiguration) 65000(bgpConfiguration) iBGP 1179(bgpConfiguration)"
        ]
    );
    // An external router: the peer's AS, the peerIP's port or 179.
    let plan = explain_with(
        json!({"node": "rack1-host1", "peerIP": "192.0.2.1:1790", "asNumber": 64601}),
        &configurations,
    );
    assert_eq!(
        resolved(&plan),
        ["rack1-host1 -> 192.0.2.1:1790: 64601(node) 64601(bgpPeer) iBGP 1790(peerIP)"]
    );
    let plan = explain_with(
        json!({"node": "rack1-host2", "peerIP": "192.0.2.1", "asNumber": 64500}),
        &configurations,
    );
    assert_eq!(
        resolved(&plan),
        ["rack1-host2 -> 192.0.2.1: 65000(bgpConfiguration) 64500(bgpPeer) eBGP 179(bgpDefault)"]
    );
    // A peerIP that is rr1 without a port: rr1's listen port, as Calico recognises the node...
    let plan = explain_with(
        json!({"node": "rack2-host1", "peerIP": "10.1.0.2"}),
        &configurations,
    );
    assert_eq!(
        resolved(&plan),
        [
            "rack2-host1 -> 10.1.0.2: 65000(bgpConfiguration) 65000(bgpConfiguration) iBGP 2179(nodeBgpConfiguration)"
        ]
    );
    // ...unless the peer's AS is not rr1's: then it is not that Calico node, and 179.
    let plan = explain_with(
        json!({"node": "rack2-host1", "peerIP": "10.1.0.2", "asNumber": 64999}),
        &configurations,
    );
    assert_eq!(
        resolved(&plan),
        ["rack2-host1 -> 10.1.0.2: 65000(bgpConfiguration) 64999(bgpPeer) eBGP 179(bgpDefault)"]
    );
}

#[test]
fn no_default_configuration_means_calicos_built_in_as_and_port() {
    let plan = explain_with(
        json!({"node": "rack1-host2", "peerSelector": "has(route-reflector)"}),
        &[bgp_config("node.rack1-host2", json!({"listenPort": 1179}))],
    );
    assert_eq!(
        resolved(&plan),
        [
            "rack1-host2 -> node:rr1: 64512(builtInDefault) 64512(builtInDefault) iBGP 179(bgpDefault)"
        ]
    );
}

#[test]
fn without_bgp_configurations_what_depends_on_them_is_unknown() {
    let plan = explain_one(
        json!({"nodeSelector": "rack == 'r1' && !has(route-reflector)",
                                  "peerSelector": "has(route-reflector)"}),
    );
    assert_eq!(
        resolved(&plan),
        [
            // The node's own AS is known; rr1's (the cluster default) and its port are not.
            "rack1-host1 -> node:rr1: 64601(node) ? ? ?",
            "rack1-host2 -> node:rr1: ? ? ? ?",
        ]
    );
    assert!(
        plan.warnings.iter().all(|w| !w.contains("mesh")),
        "{:?}",
        plan.warnings
    );
    // An external router's port is BGP's whatever the configuration.
    let plan = explain_one(json!({"node": "rack1-host2", "peerIP": "192.0.2.1", "asNumber": 1}));
    assert_eq!(
        resolved(&plan),
        ["rack1-host2 -> 192.0.2.1: ? 1(bgpPeer) ? 179(bgpDefault)"]
    );
}

#[test]
fn the_mesh_on_off_unset_absent_or_unknown_decides_the_mesh_warning() {
    let mesh_warnings = |plan: &Plan| -> Vec<String> {
        plan.warnings
            .iter()
            .filter(|w| w.contains("node-to-node mesh"))
            .cloned()
            .collect()
    };
    let selector = json!({"node": "rack1-host2", "peerSelector": "has(route-reflector)"});
    let by_ip = json!({"node": "rack1-host2", "peerIP": "10.1.0.2"});
    let cases: [(&[Value], Mesh, usize); 4] = [
        (
            &[bgp_config(
                "default",
                json!({"nodeToNodeMeshEnabled": true}),
            )],
            Mesh::Known {
                enabled: true,
                source: MeshSource::Set,
            },
            1,
        ),
        (
            &[bgp_config(
                "default",
                json!({"nodeToNodeMeshEnabled": false}),
            )],
            Mesh::Known {
                enabled: false,
                source: MeshSource::Set,
            },
            0,
        ),
        (
            &[bgp_config("default", json!({"asNumber": 64512}))],
            Mesh::Known {
                enabled: true,
                source: MeshSource::Unset,
            },
            1,
        ),
        (
            &[],
            Mesh::Known {
                enabled: true,
                source: MeshSource::NoDefault,
            },
            1,
        ),
    ];
    for (configurations, mesh, expected) in cases {
        assert_eq!(
            BgpConfigurations::from_objects(configurations)
                .unwrap()
                .mesh(),
            mesh
        );
        let plan = explain_with(selector.clone(), configurations);
        let warnings = mesh_warnings(&plan);
        assert_eq!(warnings.len(), expected, "{mesh:?}: {warnings:?}");
        if expected == 1 {
            assert_eq!(
                warnings[0],
                format!(
                    "peerSelector selects cluster nodes while the node-to-node mesh is on ({}): \
                     these nodes already peer through the mesh; set nodeToNodeMeshEnabled: \
                     false to peer them through BGPPeers",
                    mesh.reason()
                )
            );
        }
        let plan = explain_with(by_ip.clone(), configurations);
        let warnings = mesh_warnings(&plan);
        assert_eq!(warnings.len(), expected, "{mesh:?}: {warnings:?}");
        if expected == 1 {
            assert!(warnings[0].starts_with("peerIP is the BGP address of node \"rr1\""));
        }
    }
    // A node's configuration cannot turn the mesh off (only "default" is read).
    let plan = explain_with(
        selector.clone(),
        &[bgp_config(
            "node.rack1-host2",
            json!({"nodeToNodeMeshEnabled": false}),
        )],
    );
    assert_eq!(mesh_warnings(&plan).len(), 1);
    // Unknown: no warning.
    let plan = explain_with_bgp(selector, BgpConfigurations::unknown("forbidden"));
    assert!(mesh_warnings(&plan).is_empty());
}

#[test]
fn sessions_between_address_families_that_do_not_meet_cannot_open() {
    let node = |name: &str, annotation: &str, ip: &str| {
        json!({"kind": "Node", "metadata": {"name": name, "labels": {"peer": "yes"},
               "annotations": {annotation: ip}}})
    };
    let nodes = nodes::from_objects(&[
        node("v4", "projectcalico.org/IPv4Address", "10.0.0.4/24"),
        node("v6", "projectcalico.org/IPv6Address", "fd00::6/64"),
    ])
    .unwrap();
    let explain_on = |spec: Value| -> Plan {
        let object = peer("p", spec);
        let explanation = explain::explain([("t".to_owned(), &object)], &nodes);
        match &explanation.peers[0].outcome {
            PeerOutcome::Explained(plan) => plan.clone(),
            PeerOutcome::Invalid(report) => panic!("invalid: {:?}", report.errors),
        }
    };
    let plan = explain_on(json!({"node": "v4", "peerIP": "2001:db8::1", "asNumber": 65000}));
    assert_eq!(
        plan.sessions[0].warnings,
        ["cannot open: node \"v4\" has only IPv4 BGP addresses and peerIP 2001:db8::1 is IPv6"]
    );
    let plan = explain_on(json!({"node": "v6", "peerIP": "192.0.2.1", "asNumber": 65000}));
    assert_eq!(
        plan.sessions[0].warnings,
        ["cannot open: node \"v6\" has only IPv6 BGP addresses and peerIP 192.0.2.1 is IPv4"]
    );
    let plan = explain_on(json!({"node": "v4", "peerIP": "192.0.2.1", "asNumber": 65000}));
    assert!(plan.sessions[0].warnings.is_empty());
    let plan = explain_on(json!({"peerSelector": "peer == 'yes'"}));
    let warnings: Vec<&Vec<String>> = plan.sessions.iter().map(|s| &s.warnings).collect();
    assert_eq!(
        warnings,
        [
            &vec![
                "cannot open: node \"v4\" has only IPv4 BGP addresses and node \"v6\" has \
                   only IPv6 ones"
                    .to_owned()
            ],
            &vec![
                "cannot open: node \"v6\" has only IPv6 BGP addresses and node \"v4\" has \
                   only IPv4 ones"
                    .to_owned()
            ],
        ]
    );
    // A dual-stack node meets both; a node without a known address is not judged.
    let plan = explain_one(json!({"node": "rack1-host1", "peerIP": "2001:db8::1", "asNumber": 1}));
    assert!(plan.sessions[0].warnings.is_empty());
}

#[test]
fn a_calico_node_resource_gives_the_nodes_own_as() {
    let calico = json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
        "metadata": {"name": "c1", "labels": {"rr": "true"}},
        "spec": {"bgp": {"ipv4Address": "10.0.0.21/24", "asNumber": 65021}}});
    let k8s = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "k1",
        "annotations": {"projectcalico.org/IPv4Address": "10.0.0.22"}}});
    let nodes = nodes::from_objects(&[calico, k8s]).unwrap();
    let object = peer("p", json!({"node": "k1", "peerSelector": "rr == 'true'"}));
    let bgp = BgpConfigurations::from_objects(&[bgp_config("default", json!({"asNumber": 65000}))])
        .unwrap();
    let explanation = explain::explain_with([("t".to_owned(), &object)], &nodes, bgp);
    let PeerOutcome::Explained(plan) = &explanation.peers[0].outcome else {
        panic!("invalid")
    };
    let session = &plan.sessions[0];
    assert_eq!(
        session.local_as,
        Some((65000, AsSource::DefaultConfiguration))
    );
    assert_eq!(session.remote_as, Some((65021, AsSource::Node)));
    assert_eq!(session.bgp_type(), Some("eBGP"));
    assert_eq!(session.port, Some((179, PortSource::BgpDefault)));
}
