//! Cross-field rules R4.19–R4.22: one error per violated rule, with Calico's CEL messages.

use bgppeer_core::bgppeer::{self, ApiGroup};
use bgppeer_core::field::ErrorType;
use serde_json::{Value, json};

fn errors(spec: Value) -> Vec<String> {
    let object = json!({"metadata": {"name": "p"}, "spec": spec});
    bgppeer::validate(ApiGroup::CrdV1, &object)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn node_and_node_selector() {
    assert_eq!(
        errors(json!({"node": "my-node", "nodeSelector": "has(mylabel)"})),
        ["spec.node: Forbidden: node and nodeSelector cannot both be set"]
    );
    assert!(errors(json!({"node": "my-node", "nodeSelector": ""})).is_empty());
}

#[test]
fn peer_ip_and_as_number_against_peer_selector() {
    assert_eq!(
        errors(json!({"peerIP": "1.2.3.4", "peerSelector": "has(mylabel)"})),
        ["spec.peerIP: Forbidden: peerIP and peerSelector cannot both be set"]
    );
    assert_eq!(
        errors(json!({"asNumber": 61234, "peerSelector": "has(mylabel)"})),
        ["spec.asNumber: Forbidden: asNumber must be empty when peerSelector is set"]
    );
    assert!(errors(json!({"asNumber": 0, "peerSelector": "has(mylabel)"})).is_empty());
    assert!(errors(json!({"nodeSelector": "has(a)", "peerSelector": "has(a)"})).is_empty());
    assert!(errors(json!({"node": "n", "peerSelector": "has(a)"})).is_empty());
}

#[test]
fn local_workload_selector() {
    assert_eq!(
        errors(json!({"localWorkloadSelector": "has(labelone)"})),
        ["spec.asNumber: Invalid value: 0: asNumber is required when localWorkloadSelector is set"]
    );
    assert_eq!(
        errors(json!({"localWorkloadSelector": "has(a)", "peerIP": "1.2.3.4", "asNumber": 61234})),
        ["spec.peerIP: Forbidden: peerIP must be empty when localWorkloadSelector is set"]
    );
    assert_eq!(
        errors(
            json!({"localWorkloadSelector": "has(a)", "peerSelector": "has(b)", "asNumber": 61234})
        ),
        [
            "spec.asNumber: Forbidden: asNumber must be empty when peerSelector is set",
            "spec.peerSelector: Forbidden: peerSelector must be empty when localWorkloadSelector is set",
        ]
    );
    assert!(
        errors(json!({"localWorkloadSelector": "color == 'red'", "asNumber": 65401})).is_empty()
    );
    let rule = bgppeer::validate(
        ApiGroup::V3,
        &json!({"metadata": {"name": "p"}, "spec": {"localWorkloadSelector": "all()", "asNumber": "0.0"}}),
    );
    assert_eq!(
        rule.errors.iter().next().unwrap().error_type,
        ErrorType::Invalid
    );
}

#[test]
fn reachable_by() {
    assert_eq!(
        errors(json!({"reachableBy": "100.200.0.0"})),
        ["spec.reachableBy: Forbidden: reachableBy must be empty when peerIP is empty"]
    );
    assert_eq!(
        errors(json!({"peerIP": "9.9.9.9:4444", "asNumber": 1, "reachableBy": "aabb:aabb::ffff"})),
        [
            r#"spec.reachableBy: Invalid value: "aabb:aabb::ffff": must be the same address family as peerIP (IPv4), not IPv6"#
        ]
    );
    assert_eq!(
        errors(json!({"peerIP": "aabb:aabb::ffff", "asNumber": 1, "reachableBy": "1.2.3.4"})).len(),
        1
    );
    assert!(
        errors(
            json!({"peerIP": "[aabb::ffff]:4444", "asNumber": 1, "reachableBy": "aabb:aabb::ffff"})
        )
        .is_empty()
    );
    assert!(
        errors(json!({"peerIP": "10.0.0.1", "asNumber": 1, "reachableBy": "::ffff:10.0.0.254"}))
            .is_empty(),
        "an IPv4-mapped address is IPv4, as Go's To4() says"
    );
    assert_eq!(
        errors(json!({"peerIP": "10.0.0.1:0", "reachableBy": "2001:db8::1"})),
        [
            r#"spec.peerIP: Invalid value: "10.0.0.1:0": port must be between 1 and 65535"#,
            r#"spec.reachableBy: Invalid value: "2001:db8::1": must be the same address family as peerIP (IPv4), not IPv6"#
        ],
        "a bad port does not hide the family mismatch (Calico reports reachableBy here too)"
    );
    assert_eq!(
        errors(json!({"peerIP": "not-an-ip", "reachableBy": "2001:db8::1"})).len(),
        1,
        "no family to compare when peerIP has no address"
    );
}

#[test]
fn keep_original_next_hop_and_next_hop_mode() {
    assert_eq!(
        errors(json!({"keepOriginalNextHop": true, "nextHopMode": "Auto"})),
        [
            "spec.keepOriginalNextHop: Forbidden: keepOriginalNextHop and nextHopMode cannot both be set; keepOriginalNextHop is deprecated, use nextHopMode instead"
        ]
    );
    assert!(errors(json!({"keepOriginalNextHop": false, "nextHopMode": "Keep"})).is_empty());
    assert!(
        errors(json!({"keepOriginalNextHop": true, "peerIP": "10.0.0.1", "asNumber": 1}))
            .is_empty()
    );
}

#[test]
fn each_rule_is_reported_once_after_field_errors() {
    let errs = errors(json!({
        "node": "rack1-host1", "nodeSelector": "a ==", "peerIP": "10.0.0.1:0",
        "reachableBy": "2001:db8::1", "sourceAddress": "Bogus"
    }));
    assert_eq!(
        errs,
        [
            r#"spec.peerIP: Invalid value: "10.0.0.1:0": port must be between 1 and 65535"#,
            r#"spec.nodeSelector: Invalid value: "a ==": expected a string literal after '==' at offset 4"#,
            r#"spec.sourceAddress: Unsupported value: "Bogus": supported values: "UseNodeIP", "None""#,
            "spec.node: Forbidden: node and nodeSelector cannot both be set",
            r#"spec.reachableBy: Invalid value: "2001:db8::1": must be the same address family as peerIP (IPv4), not IPv6"#,
        ]
    );
}
