//! Property tests: no input makes validation or defaulting panic, warnings stay short, and the
//! defaults patch always applies and is idempotent.

use bgppeer_core::admission::{self, Decision, NoCluster, Webhook};
use bgppeer_core::bgppeer::{self, ApiGroup, peer::SPEC_FIELDS};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Strings that are near the edge of some rule.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        Just("10.0.0.1:0".to_owned()),
        Just("[::1]:179".to_owned()),
        Just("::ffff:1.2.3.4".to_owned()),
        Just("1.10".to_owned()),
        Just("64512.1".to_owned()),
        Just("has(a) && b == 'c'".to_owned()),
        Just("a ==".to_owned()),
        Just("1h30m".to_owned()),
        Just("UseNodeIP".to_owned()),
        Just("Keep".to_owned()),
        Just("é\u{0}\n\"'".to_owned()),
        "[ -~]{0,40}",
        any::<String>(),
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e12f64..1e12).prop_map(Value::from),
        (0u32..70000).prop_map(Value::from),
        interesting_string().prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::btree_map(interesting_string(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A spec whose keys are mostly real field names with arbitrary values.
fn spec() -> impl Strategy<Value = Value> {
    let key = prop_oneof![
        4 => prop::sample::select(SPEC_FIELDS.to_vec()).prop_map(str::to_owned),
        1 => interesting_string(),
    ];
    prop_oneof![
        4 => prop::collection::btree_map(key, json_value(), 0..8)
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        1 => json_value(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics(spec in spec(), metadata in json_value(), v3 in any::<bool>()) {
        let group = if v3 { ApiGroup::V3 } else { ApiGroup::CrdV1 };
        let object = json!({"metadata": metadata, "spec": spec});
        let report = bgppeer::validate(group, &object);
        for warning in &report.warnings {
            prop_assert!(warning.chars().count() <= 120, "{}", warning);
        }
        for error in &report.errors {
            let text = error.to_string();
            prop_assert!(text.starts_with(error.path.as_str()));
        }
        let _ = bgppeer::validate_document(&object);

        let ops = bgppeer::defaults(group, &object);
        let mut patched = object.clone();
        prop_assert!(json_patch::patch(&mut patched, &ops).is_ok());
        prop_assert!(bgppeer::defaults(group, &patched).is_empty(), "not idempotent: {:?}", ops);
    }

    #[test]
    fn valid_specs_decode_into_the_typed_model(spec in spec()) {
        let object = json!({"metadata": {"name": "p"}, "spec": spec});
        let report = bgppeer::validate(ApiGroup::V3, &object);
        if report.is_valid() && object["spec"].is_object() {
            // A valid spec is complete in the typed peer: no field invalid, scope and remote known.
            let peer = &report.peer;
            prop_assert!(!peer.spec.has_invalid_field(), "{:?}: {:?}", object["spec"], peer);
            prop_assert!(peer.scope().is_some() && peer.remote().is_some(), "{:?}", object["spec"]);
        }
    }
}

/// A BGPPeer whose `spec.filters` holds `count` copies of `"A"` (each one invalid, each one
/// accepted by the CRD schema): 760,000 of them fit in the apiserver's 3 MiB request limit.
fn many_invalid_filters(count: usize) -> Value {
    json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
        "metadata": {"name": "huge"},
        "spec": {"peerIP": "10.0.0.1:0", "asNumber": 64512,
                 "filters": vec![Value::from("A"); count]}
    })
}

#[test]
fn huge_objects_give_bounded_reports() {
    use bgppeer_core::field::MAX_ERRORS;
    use std::time::Instant;

    let object = many_invalid_filters(760_000);
    let started = Instant::now();
    let report = bgppeer::validate(ApiGroup::CrdV1, &object);
    let validated = started.elapsed();
    assert_eq!(report.errors.len(), 760_001, "every error is counted");
    assert_eq!(report.errors.iter().count(), MAX_ERRORS);
    let more = report.errors.more_errors().unwrap();
    assert_eq!(
        more.to_string(),
        "spec.filters: Too many: 759,901 more errors not shown"
    );

    // The whole /validate decision from the raw bytes, for a CREATE and for an UPDATE that
    // only adds a label (ratcheting validates the old object too).
    let review = |operation: &str, old: Value| {
        let mut new = object.clone();
        if !old.is_null() {
            new["metadata"]["labels"] = json!({"env": "prod"});
        }
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u", "name": "huge", "operation": operation, "userInfo": {},
                "kind": {"group": "crd.projectcalico.org", "version": "v1", "kind": "BGPPeer"},
                "resource": {"group": "crd.projectcalico.org", "version": "v1",
                             "resource": "bgppeers"},
                "object": new, "oldObject": old
            }
        }))
        .unwrap()
    };
    let create = review("CREATE", Value::Null);
    assert!(create.len() < 3 * 1024 * 1024, "{} bytes", create.len());
    let started = Instant::now();
    let decision = review_body(Webhook::Validate, &create).unwrap();
    let answer = decision.encode().unwrap();
    let create_time = started.elapsed();
    let denial_bytes = answer.len();
    assert!(denial_bytes < 64 * 1024, "{denial_bytes} bytes");

    let update = review("UPDATE", object.clone());
    let started = Instant::now();
    let decision = review_body(Webhook::Validate, &update).unwrap();
    let update_time = started.elapsed();
    assert!(decision.response.allowed, "only a label was added");
    let warnings = decision.response.warnings.clone().unwrap_or_default();
    assert!(warnings.len() <= bgppeer::warnings::MAX_WARNINGS);
    assert!(
        warnings
            .iter()
            .all(|w| w.chars().count() <= bgppeer::warnings::MAX_LEN)
    );
    let answer = decision.encode().unwrap();
    assert!(answer.len() < 64 * 1024, "{} bytes", answer.len());
    eprintln!(
        "760,000 invalid filters: validate {validated:?}, /validate CREATE {create_time:?}, \
         /validate UPDATE {update_time:?}; denial {denial_bytes} bytes, UPDATE answer {} bytes",
        answer.len()
    );
}

proptest! {
    #[test]
    fn reports_stay_bounded(spec in spec()) {
        let object = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
                            "metadata": {"name": "p"}, "spec": spec});
        let report = bgppeer::validate(ApiGroup::CrdV1, &object);
        let shown: Vec<_> = report.errors.shown().collect();
        prop_assert!(shown.len() <= bgppeer_core::field::MAX_ERRORS + 1);
        prop_assert!(report.warnings.len() <= bgppeer::warnings::MAX_WARNINGS);
        for error in &shown {
            prop_assert!(error.to_string().len() < 2048, "{}", error);
        }
    }
}

/// Every review the `review` fuzz target once failed on, decided by both webhooks: each warning
/// fits in the 120 characters the apiserver keeps, and /mutate allows.
#[test]
fn fuzz_regressions_decide_within_limits() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/fixtures/fuzz-regressions/review");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    files.sort();
    assert_eq!(files.len(), 3, "{files:?}");
    for file in files {
        let body = std::fs::read(&file).unwrap();
        for webhook in Webhook::ALL {
            let decision = review_body(webhook, &body).unwrap();
            let warnings = decision.response.warnings.clone().unwrap_or_default();
            for warning in &warnings {
                assert!(
                    warning.chars().count() <= 120,
                    "{} {webhook}: {warning}",
                    file.display()
                );
            }
            if webhook == Webhook::Mutate {
                assert!(decision.response.allowed, "{}", file.display());
            }
            decision.encode().unwrap();
        }
    }
}

/// Decodes a review body and decides it without cluster checks (every such decision is final).
fn review_body(webhook: Webhook, body: &[u8]) -> Result<Decision, admission::DecodeError> {
    let request = admission::decode::request(body)?;
    Ok(admission::decide(webhook, &request, &NoCluster)
        .decided()
        .expect("without a cluster view every decision is final"))
}
