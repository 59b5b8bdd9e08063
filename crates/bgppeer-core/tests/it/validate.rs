//! Field rules of `bgppeer::validate`: every field, wrong JSON types, unknown fields, the exact
//! error texts and the error order.

use bgppeer_core::bgppeer::{self, ApiGroup, Report};
use bgppeer_core::field::ErrorType;
use serde_json::{Value, json};

fn peer(spec: Value) -> Value {
    json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer", "metadata": {"name": "p"}, "spec": spec})
}

fn check(group: ApiGroup, spec: Value) -> Report {
    bgppeer::validate(group, &peer(spec))
}

fn errors(spec: Value) -> Vec<String> {
    check(ApiGroup::V3, spec)
        .errors
        .iter()
        .map(ToString::to_string)
        .collect()
}

fn is_valid(spec: Value) -> bool {
    [ApiGroup::V3, ApiGroup::CrdV1]
        .iter()
        .all(|group| check(*group, spec.clone()).is_valid())
}

#[test]
fn minimal_peers_are_valid() {
    assert!(is_valid(json!({})));
    assert!(is_valid(json!({"peerIP": "10.0.0.1", "asNumber": 64512})));
    assert!(bgppeer::validate(ApiGroup::CrdV1, &json!({"metadata": {"name": "p"}})).is_valid());
    assert!(
        bgppeer::validate(
            ApiGroup::CrdV1,
            &json!({"metadata": {"name": "p"}, "spec": null})
        )
        .is_valid()
    );
}

#[test]
fn peer_ip_texts() {
    assert_eq!(
        errors(json!({"peerIP": "10.0.0.1:0"})),
        [r#"spec.peerIP: Invalid value: "10.0.0.1:0": port must be between 1 and 65535"#]
    );
    assert_eq!(
        errors(json!({"peerIP": "01.2.3.4"})),
        [
            r#"spec.peerIP: Invalid value: "01.2.3.4": must be an IP address, optionally with a port as IPv4:port or [IP]:port (e.g. 10.0.0.1, 10.0.0.1:179, [2001:db8::1]:179)"#
        ]
    );
    let long = "1".repeat(65);
    assert_eq!(
        errors(json!({"peerIP": long})),
        ["spec.peerIP: Too long: may not be more than 64 bytes (it is 65)"]
    );
    for ok in [
        "[192.168.0.1]:179",
        "[9000::]:500",
        "10.0.0.1:0179",
        "::ffff:10.0.0.1",
    ] {
        assert!(is_valid(json!({"peerIP": ok, "asNumber": 1})), "{ok}");
    }
    for bad in [
        "192.168.0.0:",
        "[9000::]:",
        ":8552",
        "[]:8552",
        "[9000::]",
        "fe80::1%eth0",
        "10.0.0.0/8",
    ] {
        assert!(!is_valid(json!({"peerIP": bad})), "{bad}");
    }
}

#[test]
fn node_is_a_dns_subdomain() {
    assert!(is_valid(json!({"node": "rack1-host1.example"})));
    let errs = errors(json!({"node": "node 2"}));
    assert_eq!(errs.len(), 1);
    assert!(
        errs[0]
            .starts_with(r#"spec.node: Invalid value: "node 2": a lowercase RFC 1123 subdomain"#)
    );
    assert_eq!(
        errors(json!({"node": "a".repeat(254)})),
        ["spec.node: Too long: may not be more than 253 bytes (it is 254)"]
    );
    assert!(is_valid(json!({"node": ""})), "empty means every node");
}

#[test]
fn selectors_are_length_checked() {
    let long = format!("a == '{}'", "x".repeat(4096));
    let errs = errors(json!({"nodeSelector": long}));
    assert_eq!(
        errs,
        ["spec.nodeSelector: Too long: may not be more than 4096 bytes (it is 4103)"]
    );
    assert!(is_valid(json!({"nodeSelector": ""})), "empty means unset");
}

#[test]
fn as_numbers_by_group() {
    assert!(
        check(
            ApiGroup::V3,
            json!({"peerIP": "10.0.0.1", "asNumber": "1.10"})
        )
        .is_valid()
    );
    assert!(
        check(
            ApiGroup::CrdV1,
            json!({"peerIP": "10.0.0.1", "asNumber": "1.10"})
        )
        .is_valid(),
        "a convertible string is fixed by the mutating webhook before validation"
    );
    let v1 = check(ApiGroup::CrdV1, json!({"asNumber": "1.1.1"}));
    assert_eq!(
        v1.errors.joined(),
        r#"spec.asNumber: Invalid value: "1.1.1": must be an integer between 0 and 4294967295, or a string in that range or in dotted notation "x.y" with x and y between 0 and 65535"#
    );
    assert_eq!(
        errors(json!({"asNumber": -1})),
        ["spec.asNumber: Invalid value: -1: must be an integer between 0 and 4294967295"]
    );
    assert_eq!(
        errors(json!({"localASNumber": 4_294_967_296_u64})),
        [
            "spec.localASNumber: Invalid value: 4294967296: must be an integer between 0 and 4294967295"
        ]
    );
    assert_eq!(
        errors(json!({"asNumber": true})),
        ["spec.asNumber: Invalid value: true: must be an integer or a string, not a boolean"]
    );
    assert_eq!(
        check(ApiGroup::CrdV1, json!({"asNumber": [1]}))
            .errors
            .joined(),
        "spec.asNumber: Invalid value: [1]: must be an integer, not an array"
    );
}

#[test]
fn enums() {
    assert_eq!(
        errors(json!({"sourceAddress": "Bogus"})),
        [
            r#"spec.sourceAddress: Unsupported value: "Bogus": supported values: "UseNodeIP", "None""#
        ]
    );
    assert!(is_valid(json!({"sourceAddress": ""})));
    assert!(is_valid(json!({"sourceAddress": "None"})));
    assert!(
        !is_valid(json!({"sourceAddress": "usenodeip"})),
        "case-sensitive"
    );
    assert_eq!(
        errors(json!({"nextHopMode": "Invalid"})),
        [
            r#"spec.nextHopMode: Unsupported value: "Invalid": supported values: "Auto", "Self", "Keep""#
        ]
    );
    assert_eq!(
        errors(json!({"reversePeering": ""})),
        [r#"spec.reversePeering: Unsupported value: "": supported values: "Auto", "Manual""#]
    );
    assert!(is_valid(
        json!({"peerSelector": "", "reversePeering": "Manual", "nextHopMode": "Keep"})
    ));
}

#[test]
fn durations() {
    for ok in ["10s", "120s", "2m", "1h30m", "1.5h", ".5s", "0", "-1s"] {
        assert!(
            is_valid(json!({"maxRestartTime": ok, "keepaliveTime": ok})),
            "{ok}"
        );
    }
    assert_eq!(
        errors(json!({"keepaliveTime": "10"})),
        [
            r#"spec.keepaliveTime: Invalid value: "10": missing unit; use ns, us, ms, s, m or h (e.g. "120s", "2m")"#
        ]
    );
    assert_eq!(
        errors(json!({"maxRestartTime": "1d"})),
        [
            r#"spec.maxRestartTime: Invalid value: "1d": unknown unit; use ns, us, ms, s, m or h (e.g. "120s", "2m")"#
        ]
    );
    assert_eq!(errors(json!({"maxRestartTime": ""})).len(), 1);
    assert_eq!(
        errors(json!({"maxRestartTime": 120})),
        ["spec.maxRestartTime: Invalid value: 120: must be a string, not a number"]
    );
}

#[test]
fn integers() {
    assert!(is_valid(json!({"ttlSecurity": 0})));
    assert!(is_valid(json!({"ttlSecurity": 255})));
    assert_eq!(
        errors(json!({"ttlSecurity": 256})),
        ["spec.ttlSecurity: Invalid value: 256: must be an integer between 0 and 255"]
    );
    assert_eq!(errors(json!({"ttlSecurity": -1})).len(), 1);
    assert_eq!(errors(json!({"ttlSecurity": 1.5})).len(), 1);
    assert!(
        is_valid(json!({"numAllowedLocalASNumbers": -2147483648_i64})),
        "negatives decode in Go"
    );
    assert_eq!(
        errors(json!({"numAllowedLocalASNumbers": 2147483648_i64})),
        [
            "spec.numAllowedLocalASNumbers: Invalid value: 2147483648: must be an integer between -2147483648 and 2147483647"
        ]
    );
    assert_eq!(
        errors(json!({"ttlSecurity": "1"})),
        [r#"spec.ttlSecurity: Invalid value: "1": must be an integer, not a string"#]
    );
}

#[test]
fn filters() {
    assert!(is_valid(json!({"filters": ["export-only", "a.b"]})));
    assert!(is_valid(json!({"filters": []})));
    let errs = errors(json!({"filters": ["ok", "", "Bad_Name", 5]}));
    assert_eq!(errs.len(), 3);
    assert!(errs[0].starts_with(r#"spec.filters[1]: Invalid value: "": a lowercase RFC 1123"#));
    assert!(errs[1].starts_with(r#"spec.filters[2]: Invalid value: "Bad_Name""#));
    assert_eq!(
        errs[2],
        "spec.filters[3]: Invalid value: 5: must be a string, not a number"
    );
    assert_eq!(
        errors(json!({"filters": "f"})),
        [r#"spec.filters: Invalid value: "f": must be an array of strings, not a string"#]
    );
}

#[test]
fn reachable_by_is_a_plain_ip() {
    assert!(is_valid(
        json!({"peerIP": "10.0.0.1", "reachableBy": "10.0.0.254", "asNumber": 1})
    ));
    assert_eq!(
        errors(json!({"peerIP": "10.0.0.1", "asNumber": 1, "reachableBy": "10.0.0.254:179"})),
        [
            r#"spec.reachableBy: Invalid value: "10.0.0.254:179": must be a plain IP address without a port (e.g. 10.0.0.254 or 2001:db8::1)"#
        ]
    );
}

#[test]
fn password_secret_key_ref() {
    let ok = json!({"password": {"secretKeyRef": {"name": "bgp-secrets", "key": "rr-password"}}});
    assert!(is_valid(ok));
    assert_eq!(
        errors(json!({"password": {"secretKeyRef": {"name": "s"}}})),
        [
            "spec.password.secretKeyRef.key: Required value: the data key in the Secret that holds the password"
        ]
    );
    assert_eq!(
        errors(json!({"password": {"secretKeyRef": {"key": "k"}}})),
        [
            "spec.password.secretKeyRef.name: Required value: the name of a Secret in calico-node's namespace"
        ]
    );
    let errs = errors(
        json!({"password": {"secretKeyRef": {"name": "Bad Name", "key": "a/b", "optional": "no"}}}),
    );
    assert_eq!(errs.len(), 3, "{errs:?}");
    assert!(errs[0].starts_with(r#"spec.password.secretKeyRef.name: Invalid value: "Bad Name""#));
    assert!(errs[1].starts_with(
        r#"spec.password.secretKeyRef.key: Invalid value: "a/b": a valid config key"#
    ));
    assert_eq!(
        errs[2],
        r#"spec.password.secretKeyRef.optional: Invalid value: "no": must be a boolean, not a string"#
    );
    assert_eq!(
        errors(json!({"password": {"secretRef": {}}})),
        ["spec.password.secretRef: Unknown field"]
    );
    assert_eq!(
        errors(json!({"password": "hunter2"})),
        [r#"spec.password: Invalid value: "hunter2": must be an object, not a string"#]
    );
}

#[test]
fn unknown_fields_and_types() {
    assert_eq!(
        errors(json!({"peerIp": "10.0.0.1", "asNumber": 1})),
        ["spec.peerIp: Unknown field"]
    );
    let unknown = check(ApiGroup::V3, json!({"peerIp": "x"}));
    let error = unknown.errors.iter().next().unwrap();
    assert_eq!(error.error_type, ErrorType::UnknownField);
    assert_eq!(error.error_type.reason(), "FieldValueNotSupported");
    assert_eq!(
        errors(json!({"node": 1, "keepOriginalNextHop": "yes"})),
        [
            "spec.node: Invalid value: 1: must be a string, not a number",
            r#"spec.keepOriginalNextHop: Invalid value: "yes": must be a boolean, not a string"#,
        ]
    );
    let report = bgppeer::validate(
        ApiGroup::V3,
        &json!({"metadata": {"name": "p"}, "spec": []}),
    );
    assert_eq!(
        report.errors.joined(),
        "spec: Invalid value: []: must be an object, not an array"
    );
    let report = bgppeer::validate(ApiGroup::V3, &json!("peer"));
    assert_eq!(report.errors.len(), 1);
}

#[test]
fn nulls_mean_unset() {
    assert!(is_valid(
        json!({"peerIP": null, "asNumber": null, "password": null, "filters": null})
    ));
}

#[test]
fn errors_come_in_order_metadata_unknown_fields_then_declaration_order() {
    let object = json!({
        "metadata": {"name": "Bad"},
        "spec": {
            "zzz": 1,
            "reachableBy": "nope",
            "sourceAddress": "Bogus",
            "nodeSelector": "",
            "peerIP": "10.0.0.1:0",
            "node": "a b",
            "peerSelector": "",
            "localWorkloadSelector": "",
            "keepOriginalNextHop": true,
            "nextHopMode": "Self",
        }
    });
    let report = bgppeer::validate(ApiGroup::CrdV1, &object);
    let paths: Vec<&str> = report.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "metadata.name",
            "spec.zzz",
            "spec.node",
            "spec.peerIP",
            "spec.sourceAddress",
            "spec.reachableBy",
            "spec.keepOriginalNextHop",
        ]
    );
}

#[test]
fn api_version_is_checked_for_documents() {
    let report =
        bgppeer::validate_document(&json!({"apiVersion": "v7", "metadata": {"name": "p"}}));
    assert_eq!(
        report.errors.joined(),
        r#"apiVersion: Unsupported value: "v7": supported values: "crd.projectcalico.org/v1", "projectcalico.org/v3""#
    );
    let report = bgppeer::validate_document(
        &json!({"apiVersion": "crd.projectcalico.org/v1", "metadata": {"name": "p"}, "spec": {"asNumber": 1, "peerIP": "10.0.0.1"}}),
    );
    assert!(report.is_valid());
}

#[test]
fn api_group_round_trips() {
    for version in ApiGroup::API_VERSIONS {
        let group = ApiGroup::from_api_version(version).unwrap();
        assert_eq!(group.api_version(), version);
        assert!(version.starts_with(group.group()));
    }
    assert_eq!(ApiGroup::from_api_version("projectcalico.org/v1"), None);
}
