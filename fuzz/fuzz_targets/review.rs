//! The whole admission decision from raw bytes: what `/validate` and `/mutate` do with a request
//! body, and the response they would send.
//!
//! Beyond "never panics", it checks what every decision must satisfy: the response serialises,
//! echoes the request's uid, keeps each warning within what the apiserver keeps; `/validate`
//! never patches; `/mutate` never denies a decodable review, and its patch applies to the
//! request's object with the `json-patch` crate (as the apiserver would apply it).

#![no_main]

use bgppeer_core::admission::{self, Webhook};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// The longest warning the apiserver keeps whole (longer ones it truncates).
const WARNING_MAX_CHARS: usize = 120;

fuzz_target!(|data: &[u8]| {
    for webhook in Webhook::ALL {
        let Ok(request) = admission::decode::request(data) else {
            continue;
        };
        let decision = admission::decide(webhook, &request, &admission::NoCluster)
            .decided()
            .expect("without a cluster view every decision is final");
        let response = &decision.response;
        assert_eq!(response.uid, decision.summary.uid);
        assert_eq!(response.allowed, decision.summary.allowed);
        for warning in response.warnings.iter().flatten() {
            assert!(
                warning.chars().count() <= WARNING_MAX_CHARS,
                "warning over {WARNING_MAX_CHARS} characters: {warning:?}"
            );
        }
        match webhook {
            Webhook::Validate => {
                assert!(response.patch.is_none(), "/validate returned a patch");
                assert_eq!(decision.summary.patch_operations, 0);
            }
            Webhook::Mutate => {
                assert!(response.allowed, "/mutate denied a decodable review");
                if let Some(patch) = &response.patch {
                    check_patch_applies(data, patch, decision.summary.patch_operations);
                }
            }
        }
        let uid = decision.summary.uid.clone();
        let bytes = decision.encode().expect("the response serialises");
        let review: Value = serde_json::from_slice(&bytes).expect("the answer is JSON");
        assert_eq!(review["response"]["uid"], Value::String(uid));
    }
});

/// The patch is a JSON Patch with as many operations as the summary says, and applies to the
/// request's object as the apiserver sees it.
fn check_patch_applies(data: &[u8], patch: &[u8], operations: usize) {
    let patch: json_patch::Patch =
        serde_json::from_slice(patch).expect("the patch is a JSON Patch");
    assert_eq!(
        patch.0.len(),
        operations,
        "patch_operations disagrees with the patch"
    );
    let mut object = match serde_json::from_slice::<Value>(data) {
        Ok(body) => body["request"]["object"].clone(),
        // serde_json does not check the UTF-8 of fields it skips, so a body with invalid UTF-8
        // in a field the review does not have decodes but is not a JSON value; the apiserver
        // never sends one. Apply the patch to the object as decoded.
        Err(_) => {
            let request = admission::decode::request(data).expect("decodable");
            serde_json::to_value(request.object).expect("the object serialises")
        }
    };
    if let Err(err) = json_patch::patch(&mut object, &patch) {
        panic!("the patch does not apply to the object: {err}");
    }
}
