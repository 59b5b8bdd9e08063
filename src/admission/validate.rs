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
use crate::field::ErrorList;

use super::object::{is_being_deleted, name_of, to_json};
use super::target::{self, Target};
use super::{Decision, status, summary_of};

/// Decides a `/validate` request.
pub fn decide(request: &AdmissionRequest<DynamicObject>) -> Decision {
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
    let (enforced, tolerated) = match &old_object {
        Some(old) => ratchet(group, &object, old, report.errors),
        None => (report.errors, ErrorList::new()),
    };
    let mut warnings = report.warnings;
    warnings.extend(
        tolerated
            .iter()
            .map(|error| format!("{error} (stored before; allowed because this update does not change it)")),
    );
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
