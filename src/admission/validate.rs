//! The `/validate` decision: allow, allow with warnings, or deny with every field error.
//!
//! UPDATE ratcheting keeps objects stored before the webhook existed usable: an object that is
//! being deleted is always allowed (it only waits for its finalizers), and errors that the
//! update does not introduce are returned as warnings instead of a denial. An error is not
//! introduced by the update when it is under `spec` and `spec` is unchanged, or when it is
//! outside `spec` and the old object has exactly the same error.

use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionResponse, Operation};
use serde_json::Value;

use crate::bgppeer::{self, ApiGroup};
use crate::cluster::Findings;
use crate::field::{ErrorList, FieldError};

use super::object::{is_being_deleted, name_of, to_json};
use super::target::{self, Target};
use super::{Decision, status, summary_of};

/// Decides a `/validate` request on the static rules alone.
pub fn decide(request: &AdmissionRequest<DynamicObject>) -> Decision {
    decide_with(request, &Findings::default())
}

/// Decides a `/validate` request with what the cluster checks found about its object.
///
/// The cluster's errors join the static ones before ratcheting, so a denial lists both
/// together, and an UPDATE that leaves `spec` alone is not denied because, say, a filter was
/// deleted after the peer was stored. The cluster's warnings are returned whatever the answer.
pub fn decide_with(request: &AdmissionRequest<DynamicObject>, cluster: &Findings) -> Decision {
    let response = AdmissionResponse::from(request);
    let group = match target::of(request) {
        Target::BgpPeer(group) => group,
        Target::Unexpected(warning) => return allow(request, response, vec![warning]),
    };
    if matches!(request.operation, Operation::Delete | Operation::Connect) {
        return allow(request, response, Vec::new());
    }
    let Some(object) = request.object.as_ref().and_then(to_json) else {
        let status = status::bad_request(format!(
            "the {} request for BGPPeer {:?} carries no object to validate",
            super::operation_name(&request.operation),
            request.name
        ));
        let mut response = response.deny(&status.message);
        response.result = status;
        let summary = summary_of(request, &response);
        return Decision { response, summary };
    };
    let old_object = match request.operation {
        Operation::Update => request.old_object.as_ref().and_then(to_json),
        _ => None,
    };
    if is_being_deleted(&object) || old_object.as_ref().is_some_and(is_being_deleted) {
        return allow(request, response, Vec::new());
    }

    let report = bgppeer::validate(group, &object);
    let mut errors = report.errors;
    errors.extend(cluster.errors.clone());
    let (enforced, tolerated) = match &old_object {
        Some(old) => ratchet(group, &object, old, errors),
        None => (errors, ErrorList::new()),
    };
    let mut warnings = report.warnings;
    warnings.extend(cluster.warnings.iter().cloned());
    warnings.extend(tolerated.iter().map(tolerated_warning));
    if enforced.is_empty() {
        return allow(request, response, warnings);
    }

    let status = status::invalid(group, &name_of(request, &object), &enforced);
    let mut response = response.deny(&status.message);
    response.result = status;
    response.warnings = non_empty(warnings);
    let mut summary = summary_of(request, &response);
    summary.errors = enforced.len();
    Decision { response, summary }
}

/// The warning for an error the old object already had: the error, cut so that the whole stays
/// within the apiserver's [`bgppeer::warnings::MAX_LEN`] characters, and the reason it is allowed.
fn tolerated_warning(error: &FieldError) -> String {
    const ALLOWED: &str = " (already stored; allowed while unchanged)";
    let room = bgppeer::warnings::MAX_LEN - ALLOWED.len();
    let mut text = error.to_string();
    if text.chars().count() > room {
        text = text.chars().take(room - 3).collect();
        text.push_str("...");
    }
    text.push_str(ALLOWED);
    text
}

/// Splits the errors of an UPDATE into those the update introduces (enforced) and those the
/// old object already had (tolerated, returned as warnings).
pub fn ratchet(
    group: ApiGroup,
    object: &Value,
    old_object: &Value,
    errors: ErrorList,
) -> (ErrorList, ErrorList) {
    let spec_unchanged = object.get("spec") == old_object.get("spec");
    let mut old_errors: Option<ErrorList> = None;
    let mut enforced = ErrorList::new();
    let mut tolerated = ErrorList::new();
    for error in errors {
        let pre_existing = if error.path.is_under("spec") {
            spec_unchanged
        } else {
            old_errors
                .get_or_insert_with(|| bgppeer::validate(group, old_object).errors)
                .iter()
                .any(|old| *old == error)
        };
        if pre_existing {
            tolerated.push(error);
        } else {
            enforced.push(error);
        }
    }
    (enforced, tolerated)
}

fn allow(
    request: &AdmissionRequest<DynamicObject>,
    mut response: AdmissionResponse,
    warnings: Vec<String>,
) -> Decision {
    response.warnings = non_empty(warnings);
    let summary = summary_of(request, &response);
    Decision { response, summary }
}

fn non_empty(warnings: Vec<String>) -> Option<Vec<String>> {
    if warnings.is_empty() {
        None
    } else {
        Some(warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{FieldError, Path};
    use serde_json::json;

    fn request(
        operation: &str,
        object: Value,
        old_object: Value,
    ) -> AdmissionRequest<DynamicObject> {
        let review = json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u", "name": "p", "operation": operation, "userInfo": {},
                "kind": {"group": "crd.projectcalico.org", "version": "v1", "kind": "BGPPeer"},
                "resource": {"group": "crd.projectcalico.org", "version": "v1", "resource": "bgppeers"},
                "object": object, "oldObject": old_object
            }
        });
        super::super::decode::request(&serde_json::to_vec(&review).unwrap()).unwrap()
    }

    fn spec_error() -> FieldError {
        FieldError::invalid(Path::new("spec").child("peerIP"), "10.0.0.1:0", "bad port")
    }

    #[test]
    fn spec_errors_are_tolerated_only_while_spec_is_unchanged() {
        let old = json!({"metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1:0"}});
        let relabelled = json!({"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"peerIP": "10.0.0.1:0"}});
        let (enforced, tolerated) = ratchet(
            ApiGroup::CrdV1,
            &relabelled,
            &old,
            ErrorList::from(vec![spec_error()]),
        );
        assert!(enforced.is_empty());
        assert_eq!(tolerated.len(), 1);

        let changed =
            json!({"metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1:0", "asNumber": 1}});
        let (enforced, tolerated) = ratchet(
            ApiGroup::CrdV1,
            &changed,
            &old,
            ErrorList::from(vec![spec_error()]),
        );
        assert_eq!(enforced.len(), 1);
        assert!(tolerated.is_empty());
    }

    #[test]
    fn non_spec_errors_the_old_object_lacks_are_enforced() {
        let object = json!({"metadata": {"name": "p"}, "spec": {}});
        let error = FieldError::invalid(Path::new("metadata").child("name"), "p", "made up");
        let (enforced, _) = ratchet(
            ApiGroup::CrdV1,
            &object,
            &object,
            ErrorList::from(vec![error]),
        );
        assert_eq!(enforced.len(), 1);
    }

    #[test]
    fn delete_connect_and_deleting_objects_are_allowed() {
        let peer = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
            "metadata": {"name": "p"}, "spec": {"peerIP": "not an ip"}});
        for operation in ["DELETE", "CONNECT"] {
            let decision = decide(&request(operation, Value::Null, peer.clone()));
            assert!(decision.response.allowed, "{operation}");
            assert_eq!(decision.summary.operation, operation);
        }
        let mut deleting = peer.clone();
        deleting["metadata"]["deletionTimestamp"] = json!("2026-11-25T22:12:29Z");
        let decision = decide(&request("UPDATE", deleting.clone(), deleting));
        assert!(decision.response.allowed);
        assert!(decision.response.warnings.is_none());
    }

    #[test]
    fn cluster_errors_join_the_static_ones_and_ratchet_like_them() {
        let filter_error = FieldError::not_found(
            Path::new("spec").child("filters").index(0),
            "gone",
            "no BGPFilter of this name exists",
        );
        let cluster = Findings {
            errors: ErrorList::from(vec![filter_error]),
            warnings: vec!["spec.node: no Node named \"n9\" exists".to_owned()],
            skipped: None,
        };
        let peer = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
            "metadata": {"name": "p"},
            "spec": {"peerIP": "10.0.0.1:0", "asNumber": 64512, "filters": ["gone"], "node": "n9"}});
        let decision = decide_with(&request("CREATE", peer.clone(), Value::Null), &cluster);
        assert!(!decision.response.allowed);
        assert_eq!(decision.summary.errors, 2);
        let causes: Vec<_> = decision
            .response
            .result
            .details
            .as_ref()
            .unwrap()
            .causes
            .iter()
            .map(|cause| (cause.field.clone(), cause.reason.clone()))
            .collect();
        assert_eq!(
            causes,
            [
                ("spec.peerIP".to_owned(), "FieldValueInvalid".to_owned()),
                (
                    "spec.filters[0]".to_owned(),
                    "FieldValueNotFound".to_owned()
                ),
            ]
        );
        assert!(
            decision
                .response
                .warnings
                .unwrap()
                .contains(&"spec.node: no Node named \"n9\" exists".to_owned())
        );

        // Relabelling a stored peer whose filter was deleted since: allowed, errors as warnings.
        let mut relabelled = peer.clone();
        relabelled["metadata"]["labels"] = json!({"a": "b"});
        let decision = decide_with(&request("UPDATE", relabelled, peer), &cluster);
        assert!(decision.response.allowed);
        let warnings = decision.response.warnings.unwrap();
        assert!(
            warnings
                .iter()
                .any(|w| w.starts_with("spec.filters[0]: Not found: \"gone\"")
                    && w.ends_with("(already stored; allowed while unchanged)")),
            "{warnings:?}"
        );
    }

    /// Found by fuzzing (the recorded review 033): an UPDATE keeping an invalid selector got the
    /// tolerated error as a 131-character warning; the apiserver keeps at most 120.
    #[test]
    fn tolerated_errors_fit_in_a_warning() {
        let stored = json!({
            "apiVersion": "crd.projectcalico.org/v1",
            "kind": "BGPPeer",
            "metadata": {"name": "legacy"},
            "spec": {"peerIP": "10.0.0.1", "asNumber": 64512, "nodeSelector": "a =="},
        });
        let mut relabelled = stored.clone();
        relabelled["metadata"]["labels"] = json!({"env": "prod"});
        let decision = decide(&request("UPDATE", relabelled, stored));
        assert!(decision.response.allowed);
        let warnings = decision.response.warnings.unwrap();
        let warning = warnings
            .iter()
            .find(|w| w.starts_with("spec.nodeSelector: Invalid value"))
            .unwrap();
        assert_eq!(
            warning,
            "spec.nodeSelector: Invalid value: \"a ==\": expected a string literal after '... \
             (already stored; allowed while unchanged)"
        );
        assert_eq!(warning.chars().count(), bgppeer::warnings::MAX_LEN);
        assert!(
            warnings.iter().all(|w| w.chars().count() <= 120),
            "{warnings:?}"
        );
    }

    #[test]
    fn create_without_object_is_a_bad_request() {
        let decision = decide(&request("CREATE", Value::Null, Value::Null));
        assert!(!decision.response.allowed);
        assert_eq!(decision.response.result.code, 400);
        assert_eq!(decision.response.result.reason, "BadRequest");
        assert_eq!(
            decision.response.result.message,
            "the CREATE request for BGPPeer \"p\" carries no object to validate"
        );
    }
}
