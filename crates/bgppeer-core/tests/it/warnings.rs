//! Warnings: valid but risky settings, each at most 120 characters, none on an ordinary peer.

use bgppeer_core::bgppeer::{self, ApiGroup};
use serde_json::{Value, json};

fn warnings_for(group: ApiGroup, spec: Value) -> Vec<String> {
    let report = bgppeer::validate(group, &json!({"metadata": {"name": "p"}, "spec": spec}));
    for warning in &report.warnings {
        assert!(warning.chars().count() <= 120, "too long: {warning}");
    }
    report.warnings
}

fn warnings(spec: Value) -> Vec<String> {
    warnings_for(ApiGroup::CrdV1, spec)
}

#[test]
fn ordinary_peers_have_no_warnings() {
    assert!(warnings(json!({"peerIP": "10.0.0.1", "asNumber": 64512})).is_empty());
    assert!(warnings(json!({"node": "n1", "peerIP": "[2001:db8::1]:179", "asNumber": 64512, "sourceAddress": "UseNodeIP"})).is_empty());
    assert!(warnings(json!({"nodeSelector": "!has(rr)", "peerSelector": "has(rr)"})).is_empty());
    assert!(warnings(json!({"localWorkloadSelector": "has(bgp)", "asNumber": 64512})).is_empty());
    assert!(warnings(json!({"peerIP": "10.0.0.1", "asNumber": 1, "keepaliveTime": "30s", "ttlSecurity": 1, "filters": ["f"]})).is_empty());
}

#[test]
fn peer_ip_without_as_number() {
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.1"})),
        ["peerIP set without asNumber: works only if the peer is a Calico node"]
    );
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.1:0"})),
        ["peerIP set without asNumber: works only if the peer is a Calico node"],
        "also when the peerIP is invalid, as the denial shows both"
    );
    assert!(
        warnings(json!({"peerIP": "10.0.0.1", "asNumber": -5})).is_empty(),
        "an invalid asNumber is an error, not a missing one"
    );
}

#[test]
fn nothing_to_peer_with() {
    assert_eq!(
        warnings(json!({"asNumber": 1})),
        [
            "neither peerIP nor peerSelector (nor localWorkloadSelector) is set: this BGPPeer creates no session"
        ]
    );
    assert_eq!(warnings(json!({})).len(), 1);
    assert!(
        warnings(json!({"peerIP": 5, "asNumber": 1})).is_empty(),
        "an invalid peerIP is still given"
    );
}

#[test]
fn unusual_peer_addresses() {
    assert_eq!(
        warnings(json!({"peerIP": "127.0.0.1:179", "asNumber": 1})),
        [
            "peerIP 127.0.0.1 is a loopback address: BGP cannot peer with it; use the peer's unicast address"
        ]
    );
    for (ip, kind) in [
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::2", "multicast"),
        ("169.254.0.1", "link-local"),
        ("[fe80::1]:179", "link-local"),
        ("::1", "loopback"),
    ] {
        let w = warnings(json!({"peerIP": ip, "asNumber": 1}));
        assert_eq!(w.len(), 1, "{ip}");
        assert!(
            w[0].contains(&format!("is a {kind} address")),
            "{ip}: {w:?}"
        );
    }
}

#[test]
fn large_as_numbers() {
    assert_eq!(
        warnings_for(
            ApiGroup::V3,
            json!({"peerIP": "10.0.0.8", "asNumber": "64512.1"})
        ),
        [
            "asNumber 4227858433 is above 2147483647: the CRDs' int32 format rejects it on Kubernetes 1.36 and later"
        ]
    );
    assert_eq!(
        warnings(
            json!({"peerIP": "10.0.0.8", "asNumber": 2147483647, "localASNumber": 2147483648_u64})
        ),
        [
            "localASNumber 2147483648 is above 2147483647: the CRDs' int32 format rejects it on Kubernetes 1.36 and later"
        ]
    );
}

#[test]
fn string_as_number_on_the_crd() {
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.8", "asNumber": "1.10"})),
        [
            "asNumber is a string: crd.projectcalico.org/v1 stores it only after this webhook's mutation; write 65546"
        ]
    );
    assert!(
        warnings_for(
            ApiGroup::V3,
            json!({"peerIP": "10.0.0.8", "asNumber": "1.10"})
        )
        .is_empty()
    );
}

#[test]
fn risky_settings() {
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.1", "asNumber": 1, "maxRestartTime": "2m"})),
        [
            "maxRestartTime is set: a wrong value can break networking in the cluster (BIRD's default is 120s)"
        ]
    );
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.1", "asNumber": 1, "numAllowedLocalASNumbers": 2})),
        [
            "numAllowedLocalASNumbers is 2: this disables BGP loop prevention for the peering; set it only if needed"
        ]
    );
    assert!(
        warnings(json!({"peerIP": "10.0.0.1", "asNumber": 1, "numAllowedLocalASNumbers": 0}))
            .is_empty()
    );
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.1", "asNumber": 1, "keepOriginalNextHop": true})),
        ["keepOriginalNextHop is deprecated since Calico v3.30: use nextHopMode: Keep instead"]
    );
}

#[test]
fn passwords() {
    assert_eq!(
        warnings(
            json!({"peerIP": "10.0.0.1", "asNumber": 1, "password": {"secretKeyRef": {"name": "s", "key": "k"}}})
        ),
        [
            "password: the Secret must be in calico-node's namespace, readable by calico-node, and the password at most 80 characters"
        ]
    );
    assert_eq!(
        warnings(json!({"peerIP": "10.0.0.1", "asNumber": 1, "password": {}})),
        ["password has no secretKeyRef: the peering is configured without a password"]
    );
    // An invalid secretKeyRef is an error, not a missing one: no contradictory warning.
    let report = bgppeer_core::bgppeer::validate(
        ApiGroup::CrdV1,
        &json!({"metadata": {"name": "p"},
                "spec": {"peerIP": "10.0.0.1", "asNumber": 1, "password": {"secretKeyRef": {"name": "s"}}}}),
    );
    assert_eq!(report.errors.len(), 1, "{}", report.errors);
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
}

#[test]
fn long_selectors() {
    let selector = format!("a == '{}'", "x".repeat(1100));
    let w = warnings(json!({"nodeSelector": selector, "peerSelector": "has(rr)"}));
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].starts_with("nodeSelector: "), "{w:?}");
    assert!(w[0].contains("1024"), "{w:?}");
}

#[test]
fn namespace_on_a_cluster_scoped_resource() {
    let report = bgppeer::validate(
        ApiGroup::CrdV1,
        &json!({"metadata": {"name": "p", "namespace": "default"}, "spec": {"peerIP": "10.0.0.1", "asNumber": 1}}),
    );
    assert_eq!(
        report.warnings,
        ["metadata.namespace is ignored: BGPPeer is cluster-scoped (remove the namespace)"]
    );
}

/// The YAML trap of Calico's reference page: `nodeSelector: !has(route-reflector)` unquoted is a
/// tag on an empty value, and kubectl sends `nodeSelector: ""` (recorded request 046). Calico
/// reads `""` as unset, so the peer silently applies to every node.
#[test]
fn an_empty_selector_says_what_it_does_and_how_to_quote_a_leading_bang() {
    let trap = warnings(json!({"nodeSelector": "", "peerSelector": "route-reflector == 'true'"}));
    assert_eq!(
        trap,
        [
            "nodeSelector is empty, so this peer applies to every node: in YAML, quote a selector that starts with !"
        ]
    );
    assert_eq!(
        warnings(json!({"peerSelector": "", "peerIP": "10.0.0.1", "asNumber": 1})),
        [
            "peerSelector is empty, so it selects no node to peer with: in YAML, quote a selector that starts with !"
        ]
    );
    assert_eq!(
        warnings(json!({"localWorkloadSelector": "", "peerIP": "10.0.0.1", "asNumber": 1})),
        [
            "localWorkloadSelector is empty, so it selects no workload: in YAML, quote a selector that starts with !"
        ]
    );
    // With `node`, an empty nodeSelector widens nothing: the peer stays on that node.
    assert!(
        warnings(json!({"node": "n1", "nodeSelector": "", "peerIP": "10.0.0.1", "asNumber": 1}))
            .is_empty()
    );
    // Absent, null, or quoted: no such warning.
    assert!(
        warnings(json!({"nodeSelector": null, "peerIP": "10.0.0.1", "asNumber": 1})).is_empty()
    );
    assert!(warnings(json!({"nodeSelector": "!has(route-reflector)", "peerSelector": "route-reflector == 'true'"})).is_empty());
}
