//! The node list reader of `explain --nodes`: arbitrary text read as YAML and JSON like a
//! `--nodes` file, turned into nodes (labels, addresses, AS-number annotations), then used to
//! explain a fixed set of BGPPeers, with every output format rendered.

#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use bgppeer_core::explain::{self, nodes};
use bgppeer_webhook::manifests::{self, Source};
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};

/// Peers that exercise every kind of plan: global, per-node, selector-based on both sides.
static PEERS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    let peer = |name: &str, spec: Value| {
        json!({
            "apiVersion": "projectcalico.org/v3",
            "kind": "BGPPeer",
            "metadata": {"name": name},
            "spec": spec,
        })
    };
    vec![
        peer("global", json!({"peerIP": "10.0.0.1", "asNumber": 64512})),
        peer(
            "one-node",
            json!({"node": "node-1", "peerIP": "2001:db8::1", "asNumber": 65000}),
        ),
        peer(
            "selected",
            json!({"nodeSelector": "rack == 'r1' || has(route-reflector)", "peerSelector": "role in {'tor', 'spine'}"}),
        ),
        peer(
            "mesh",
            json!({"nodeSelector": "all()", "peerSelector": "!has(edge)"}),
        ),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for source in [
        Source::File(PathBuf::from("nodes.yaml")),
        Source::File(PathBuf::from("nodes.json")),
    ] {
        let Ok(documents) = manifests::parse_documents(&source, text) else {
            continue;
        };
        let objects: Vec<Value> = documents.into_iter().map(|doc| doc.value).collect();
        let list = match nodes::from_objects(&objects) {
            Ok(list) => list,
            Err(err) => {
                assert!(!err.to_string().is_empty());
                continue;
            }
        };
        assert!(
            list.nodes
                .windows(2)
                .all(|pair| pair[0].name < pair[1].name)
        );
        let explanation = explain::explain(
            PEERS
                .iter()
                .enumerate()
                .map(|(i, peer)| (format!("peers.yaml#{}", i + 1), peer)),
            &list,
        );
        let _ = explanation.exit_code();
        let _ = explanation.session_count();
        let _ = explain::text::render(&explanation);
        let _ = explain::json::render(&explanation);
        let _ = explain::dot::render(&explanation);
    }
});
