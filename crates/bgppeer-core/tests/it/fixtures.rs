//! Every vector from Calico's own tests (`tests/fixtures/calico/{bgppeers,asnumbers,metadata}.json`)
//! must get the same valid/invalid verdict from `bgppeer::validate`, on both API groups.

use bgppeer_core::bgppeer::{self, ApiGroup, asnumber};
use bgppeer_core::field::ErrorType;
use serde_json::{Value, json};

fn load(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/../../tests/fixtures/calico/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Expands `{"repeat": "x", "count": N}` into the repeated string, recursively.
fn expand(value: &Value) -> Value {
    match value {
        Value::Object(map) if map.contains_key("repeat") && map.contains_key("count") => {
            let unit = map["repeat"].as_str().unwrap();
            Value::from(unit.repeat(map["count"].as_u64().unwrap() as usize))
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), expand(v))).collect())
        }
        other => other.clone(),
    }
}

/// The BGPPeer object a `bgppeers.json` vector describes.
fn peer_object(vector: &Value, api_version: &str) -> Value {
    let mut metadata = vector
        .get("metadata")
        .cloned()
        .unwrap_or_else(|| json!({"name": "test-peer"}));
    // `bgppeer-<n> (uniqueName)` stands for a generated unique name in the upstream test.
    if metadata["name"]
        .as_str()
        .is_some_and(|n| n.contains("(uniqueName)"))
    {
        metadata["name"] = json!("bgppeer-1");
    }
    json!({
        "apiVersion": vector.get("apiVersion").and_then(Value::as_str).unwrap_or(api_version),
        "kind": "BGPPeer",
        "metadata": metadata,
        "spec": vector["spec"],
    })
}

/// Vectors whose verdict depends on which BGPFilters exist in the cluster: the webhook sees one
/// object only, so they are valid in isolation.
fn needs_cluster_state(vector: &Value) -> bool {
    vector.get("existingBGPFilters").is_some()
}

#[test]
fn bgppeer_vectors_agree_with_calico() {
    let vectors = load("bgppeers.json");
    assert_eq!(vectors.len(), 59);
    let mut failures = Vec::new();
    for vector in &vectors {
        let name = vector["name"].as_str().unwrap();
        let expected_valid = vector["valid"].as_bool().unwrap() || needs_cluster_state(vector);
        for api_version in ApiGroup::API_VERSIONS {
            let report = bgppeer::validate_document(&peer_object(vector, api_version));
            if report.is_valid() != expected_valid {
                failures.push(format!(
                    "{name} ({api_version}): expected valid={expected_valid}, got {}",
                    report.errors
                ));
                continue;
            }
            if let Some(expected) = vector.get("expectedError").and_then(Value::as_str)
                && !needs_cluster_state(vector)
                && let Some(problem) = explain_mismatch(expected, &report)
            {
                failures.push(format!("{name} ({api_version}): {problem}"));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Checks that the report carries the error Calico's test expects. CEL messages are ours word
/// for word; Go's `error with field X = 'v'` becomes a field error at `spec.x` with value `v`.
fn explain_mismatch(expected: &str, report: &bgppeer::Report) -> Option<String> {
    let joined = report.errors.joined();
    if let Some(rest) = expected.strip_prefix("error with field ") {
        let (field, value) = rest.split_once(" = '").unwrap();
        let value = value.trim_end_matches('\'');
        let mut chars = field.chars();
        let first = chars.next().unwrap().to_ascii_lowercase();
        let path = format!("spec.{first}{}", chars.as_str());
        let found = report
            .errors
            .iter()
            .any(|e| e.path.as_str() == path && e.value == json!(value));
        return (!found).then(|| format!("no error at {path} with value {value:?}: {joined}"));
    }
    if expected.starts_with("field in document is not recognized") {
        let found = report
            .errors
            .iter()
            .any(|e| e.error_type == ErrorType::UnknownField && e.path.as_str() == "spec.unknown");
        return (!found).then(|| format!("no unknown-field error: {joined}"));
    }
    if expected.starts_with("Unknown resource type") {
        let found = report
            .errors
            .iter()
            .any(|e| e.path.as_str() == "apiVersion");
        return (!found).then(|| format!("no apiVersion error: {joined}"));
    }
    (!joined.contains(expected)).then(|| format!("{expected:?} not in {joined:?}"))
}

#[test]
fn cluster_state_vectors_are_listed() {
    let names: Vec<String> = load("bgppeers.json")
        .iter()
        .filter(|v| needs_cluster_state(v))
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        names,
        [
            "specWithFilter1 before the BGPFilter exists",
            "update to filters [bgp-filter-1, bgp-filter-2] while only bgp-filter-1 exists",
        ]
    );
}

#[test]
fn asnumber_vectors_agree_with_calico() {
    for vector in load("asnumbers.json") {
        if vector.get("direction").is_some() {
            // Encoding: AS numbers are always written as plain integers.
            let value = vector["value"].as_u64().unwrap();
            let text = vector
                .get("marshalled")
                .or_else(|| vector.get("string"))
                .and_then(Value::as_str)
                .unwrap();
            let model = bgppeer::model::AsNumber(u32::try_from(value).unwrap());
            assert_eq!(serde_json::to_string(&model).unwrap(), text);
            assert_eq!(model.to_string(), text);
            continue;
        }
        let input = &vector["input"];
        let test = vector["test"].as_str().unwrap();
        let valid = vector["valid"].as_bool().unwrap();
        let decoded = asnumber::from_json(input);
        assert_eq!(decoded.is_ok(), valid, "{test}");
        if let Some(value) = vector.get("value") {
            assert_eq!(
                u64::from(decoded.unwrap().value()),
                value.as_u64().unwrap(),
                "{test}"
            );
        }
        // The same verdict through full validation of a peer on the v3 group, where strings are
        // accepted, and on the v1 group, where the mutating webhook converts valid strings.
        for group in [ApiGroup::V3, ApiGroup::CrdV1] {
            let peer = json!({
                "metadata": {"name": "p"},
                "spec": {"peerIP": "10.0.0.1", "asNumber": input}
            });
            let report = bgppeer::validate(group, &peer);
            assert_eq!(
                report.is_valid(),
                valid,
                "{test} ({group:?}): {}",
                report.errors
            );
        }
    }
}

#[test]
fn metadata_vectors_agree_with_calico() {
    for vector in load("metadata.json") {
        let test = vector["test"].as_str().unwrap();
        let valid = vector["valid"].as_bool().unwrap();
        let metadata = match vector.get("metadata") {
            Some(metadata) => expand(metadata),
            // `labelsToApply` vectors: the same label rules, applied here to metadata.labels.
            None => json!({"name": "p", "labels": expand(&vector["labels"])}),
        };
        let peer = json!({"metadata": metadata, "spec": {"peerIP": "10.0.0.1", "asNumber": 64512}});
        for group in [ApiGroup::V3, ApiGroup::CrdV1] {
            let report = bgppeer::validate(group, &peer);
            assert_eq!(report.is_valid(), valid, "{test}: {}", report.errors);
            assert!(
                report.errors.iter().all(|e| e.path.is_under("metadata")),
                "{test}"
            );
        }
    }
}
