//! Defaults as JSON Patch, checked against the requests a real kube-apiserver sent
//! (`tests/fixtures/admission/`) and applied with the `json_patch` crate.

use bgppeer_core::bgppeer::{self, ApiGroup};
use serde_json::{Value, json};

fn admission_object(file: &str) -> (ApiGroup, Value) {
    let path = format!(
        "{}/../../tests/fixtures/admission/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let object = fixture["review"]["request"]["object"].clone();
    let group = ApiGroup::from_api_version(object["apiVersion"].as_str().unwrap()).unwrap();
    (group, object)
}

fn ops(group: ApiGroup, object: &Value) -> Value {
    serde_json::to_value(bgppeer::defaults(group, object)).unwrap()
}

#[test]
fn valid_v1_peer_gets_source_address() {
    let (group, object) = admission_object("001-create-v1-valid.mutate.json");
    assert_eq!(
        ops(group, &object),
        json!([{"op": "add", "path": "/spec/sourceAddress", "value": "UseNodeIP"}])
    );
}

#[test]
fn dotted_as_number_on_v1_is_converted_then_valid() {
    let (group, object) = admission_object("014-create-v1-dotted-asn.mutate.json");
    let patch = bgppeer::defaults(group, &object);
    assert_eq!(
        serde_json::to_value(&patch).unwrap(),
        json!([
            {"op": "replace", "path": "/spec/asNumber", "value": 65546},
            {"op": "add", "path": "/spec/sourceAddress", "value": "UseNodeIP"}
        ])
    );
    let mut mutated = object.clone();
    json_patch::patch(&mut mutated, &patch).unwrap();
    assert_eq!(mutated["spec"]["asNumber"], 65546);
    let report = bgppeer::validate(group, &mutated);
    assert!(report.is_valid(), "{}", report.errors);
    assert!(
        bgppeer::defaults(group, &mutated).is_empty(),
        "defaults are idempotent"
    );

    let (group, after) = admission_object("015-create-v1-dotted-asn-after-mutation.validate.json");
    assert!(bgppeer::validate(group, &after).is_valid());
    assert!(bgppeer::defaults(group, &after).is_empty());
}

#[test]
fn dotted_as_number_on_v3_above_int32() {
    let (group, object) = admission_object("016-create-v3-dotted-asn-over-int32.mutate.json");
    assert_eq!(group, ApiGroup::V3);
    assert_eq!(
        ops(group, &object),
        json!([
            {"op": "replace", "path": "/spec/asNumber", "value": 4227858433_u64},
            {"op": "add", "path": "/spec/sourceAddress", "value": "UseNodeIP"}
        ])
    );
    let report = bgppeer::validate(group, &object);
    assert!(report.is_valid());
    assert_eq!(
        report.warnings,
        [
            "asNumber 4227858433 is above 2147483647: the CRDs' int32 format rejects it on Kubernetes 1.36 and later"
        ]
    );
}

#[test]
fn set_source_address_is_left_alone() {
    let (group, object) = admission_object("017-create-v3-bad-enum.mutate.json");
    assert!(bgppeer::defaults(group, &object).is_empty());
    let (group, object) = admission_object("009-create-v1-invalid-many.mutate.json");
    assert!(bgppeer::defaults(group, &object).is_empty());
}

#[test]
fn recorded_objects_validate_as_the_fixture_readme_says() {
    let allowed = [
        "002-create-v1-valid.validate.json",
        "004-update-v1-apply.validate.json",
        "006-create-v1-server-side-apply.validate.json",
        "008-create-v1-dry-run.validate.json",
        "012-create-v1-typo-pruned.validate.json",
        "015-create-v1-dotted-asn-after-mutation.validate.json",
        "027-create-v3-valid-new-fields.validate.json",
        "029-update-v1-merge-patch.validate.json",
        "031-update-v1-json-patch.validate.json",
        "042-update-v1-replace-put.validate.json",
    ];
    for file in allowed {
        let (group, object) = admission_object(file);
        let report = bgppeer::validate(group, &object);
        assert!(report.is_valid(), "{file}: {}", report.errors);
    }
    let (group, object) = admission_object("006-create-v1-server-side-apply.validate.json");
    let warnings = bgppeer::validate(group, &object).warnings;
    assert!(
        warnings.iter().any(|w| w.starts_with("maxRestartTime")),
        "{warnings:?}"
    );
    assert!(
        warnings.iter().any(|w| w.starts_with("password")),
        "{warnings:?}"
    );
    let (group, object) = admission_object("012-create-v1-typo-pruned.validate.json");
    assert_eq!(
        bgppeer::validate(group, &object).warnings,
        [
            "neither peerIP nor peerSelector (nor localWorkloadSelector) is set: this BGPPeer creates no session"
        ]
    );
}

#[test]
fn recorded_denial_has_the_expected_causes() {
    let (group, object) = admission_object("019-create-v1-invalid-two.validate.json");
    let report = bgppeer::validate(group, &object);
    let causes: Vec<(String, &str, String)> = report
        .errors
        .iter()
        .map(|e| (e.path.to_string(), e.error_type.reason(), e.body()))
        .collect();
    let denial: Value = serde_json::from_str(
        &std::fs::read_to_string(format!(
            "{}/../../tests/fixtures/admission/denial-as-returned-to-client.json",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap(),
    )
    .unwrap();
    let expected: Vec<(String, &str, String)> = denial["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["field"].as_str().unwrap().to_owned(),
                c["reason"].as_str().unwrap(),
                c["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(causes, expected);
    assert_eq!(
        report.warnings,
        ["peerIP set without asNumber: works only if the peer is a Calico node"]
    );
}
