//! The `/validate` decision: allow, allow with warnings, or deny with every field error.
//!
//! UPDATE ratcheting keeps objects stored before the webhook existed usable: an object that is
//! being deleted is always allowed (it only waits for its finalizers), and errors that the
//! update does not introduce are returned as warnings instead of a denial. The rule is per field,
//! as Kubernetes' CRD validation ratcheting: see [`ratchet`].

use kube_core::admission::{AdmissionResponse, Operation};
use serde_json::Value;

use crate::bgppeer::{self, ApiGroup, warnings};
use crate::field::{ErrorList, Path};

use super::cluster::{ClusterView, Findings, rules};

use super::decode::Request;
use super::object::{is_being_deleted, name_of};
use super::old_object::OldObject;
use super::target::{self, Target};
use super::{Confirmation, Decision, Outcome, status, summary_of};

/// Decides a `/validate` request, with the cluster rules when `cluster` is available.
///
/// The cluster checks apply exactly where this function gets to validating an object: a BGPPeer
/// (either API group) being created or updated, with an object, neither it nor the stored object
/// being deleted. A filter the view lacks makes the outcome a [`Confirmation`] (see
/// [`super::decide`]).
pub(crate) fn decide(request: &Request, cluster: &dyn ClusterView) -> Outcome {
    let (group, object, old_object) = match subject(request) {
        Ok(subject) => subject,
        Err(decision) => return Outcome::Decided(decision),
    };
    let report = bgppeer::validate(group, object);
    let checked = rules::check(&report.peer, object, cluster);
    if checked.unconfirmed.is_empty() {
        let held = Held {
            group,
            report,
            findings: checked.findings,
        };
        return Outcome::Decided(conclude(request, object, old_object, held));
    }
    Outcome::Confirm(Confirmation {
        held: Box::new(Held {
            group,
            report,
            findings: checked.findings,
        }),
        misses: checked.unconfirmed,
    })
}

/// What a `/validate` decision computed before the cluster's findings were final.
#[derive(Debug)]
pub(super) struct Held {
    group: ApiGroup,
    report: bgppeer::Report,
    pub(super) findings: Findings,
}

/// Concludes the decision of `request` with the cluster's final `findings`.
pub(super) fn finish(request: &Request, mut held: Held, findings: Findings) -> Decision {
    match subject(request) {
        Ok((_, object, old_object)) => {
            held.findings = findings;
            conclude(request, object, old_object, held)
        }
        Err(decision) => decision,
    }
}

/// The group, object and stored object of a request whose object is to be validated, or the
/// decision when there is nothing to validate (not a BGPPeer, DELETE or CONNECT, no object, an
/// object being deleted).
// The early decision is moved once, to the caller's answer; boxing it would allocate on every
// DELETE.
#[allow(clippy::result_large_err)]
fn subject(request: &Request) -> Result<(ApiGroup, &Value, Option<&OldObject>), Decision> {
    let response = AdmissionResponse::from(request);
    let group = match target::of(request) {
        Target::BgpPeer(group) => group,
        Target::Unexpected(warning) => return Err(allow(request, response, vec![warning])),
    };
    if matches!(request.operation, Operation::Delete | Operation::Connect) {
        return Err(allow(request, response, Vec::new()));
    }
    let Some(object) = request.object.as_ref() else {
        let status = status::bad_request(format!(
            "the {} request for BGPPeer {:?} carries no object to validate",
            super::operation_name(&request.operation),
            request.name
        ));
        let mut response = response.deny(&status.message);
        response.result = status;
        let summary = summary_of(request, &response);
        return Err(Decision { response, summary });
    };
    let old_object = match request.operation {
        Operation::Update => request.old_object.as_ref(),
        _ => None,
    };
    if is_being_deleted(object) || old_object.is_some_and(OldObject::is_being_deleted) {
        return Err(allow(request, response, Vec::new()));
    }
    Ok((group, object, old_object))
}

/// The decision on an object from its static report and what the cluster checks found.
///
/// The cluster's errors are ratcheted by their value and then listed together with the static
/// ones, so an UPDATE that leaves `spec.filters` alone is not denied because, say, a filter was
/// deleted after the peer was stored. The cluster's warnings are returned whatever the answer;
/// every warning is at most 120 characters and there are at most
/// [`MAX_WARNINGS`](warnings::MAX_WARNINGS).
fn conclude(
    request: &Request,
    object: &Value,
    old_object: Option<&OldObject>,
    held: Held,
) -> Decision {
    let Held {
        group,
        report,
        findings: cluster,
    } = held;
    let response = AdmissionResponse::from(request);
    let (enforced, tolerated) = match old_object {
        Some(old) => ratchet(group, object, old, report.errors, cluster.errors),
        None => {
            let mut errors = report.errors;
            errors.extend(cluster.errors);
            (errors, ErrorList::new())
        }
    };
    let mut warnings = report.warnings;
    warnings.extend(cluster.warnings);
    warnings.extend(
        tolerated
            .shown()
            .map(|error| warnings::fit_with_suffix(&error.to_string(), TOLERATED_SUFFIX)),
    );
    let warnings = warnings::cap(warnings);
    if enforced.is_empty() {
        let mut decision = allow(request, response, warnings);
        decision.summary.cluster_skipped = cluster.skipped;
        return decision;
    }

    let status = status::invalid(group, &name_of(request, object), &enforced);
    let mut response = response.deny(&status.message);
    response.result = status;
    response.warnings = non_empty(warnings);
    let mut summary = summary_of(request, &response);
    summary.errors = enforced.len();
    summary.cluster_skipped = cluster.skipped;
    Decision { response, summary }
}

/// The end of the warning that stands for an error the update did not introduce.
pub(crate) const TOLERATED_SUFFIX: &str = " (already stored; allowed while unchanged)";

/// Splits the errors of an UPDATE into those the update introduces (enforced) and those the
/// old object already had (tolerated, returned as warnings), field by field as Kubernetes' CRD
/// validation ratcheting does.
///
/// `errors` are the object's own errors (from [`bgppeer::validate`]); `cluster_errors` are what
/// the cluster checks found, which cannot be derived again from the old object. An error is
/// tolerated when the value at its path is unchanged from `old_object` and
///
/// - its field's errors depend on that field alone (every `spec` field outside the cross-field
///   rules, [`bgppeer::rules::CROSS_FIELD_NAMES`], and all of `metadata`) and the field is
///   unchanged; or
/// - the old object, validated by the same validator, has the identical error (the exact rule
///   for the cross-field rules, which read other fields); or
/// - it is a cluster error (its value is all the cluster checks looked at).
///
/// Errors beyond the [`MAX_ERRORS`](crate::field::MAX_ERRORS) an [`ErrorList`] keeps are only
/// counted, with the path they all lie under; they are tolerated together when the field that
/// path belongs to is unchanged and its errors depend on it alone, and enforced otherwise: an
/// error that cannot be shown to pre-exist is never tolerated.
pub(crate) fn ratchet(
    group: ApiGroup,
    object: &Value,
    old_object: &OldObject,
    errors: ErrorList,
    cluster_errors: ErrorList,
) -> (ErrorList, ErrorList) {
    let mut old_errors: Option<ErrorList> = None;
    let mut enforced = ErrorList::new();
    let mut tolerated = ErrorList::new();
    // Comparing a scope (a 760,000-item list) costs its size: each is compared once.
    let mut scopes: Vec<(String, bool)> = Vec::new();
    let mut scope_unchanged = |path: &Path| {
        let scope = scope_of(path);
        if let Some((_, unchanged)) = scopes.iter().find(|(known, _)| *known == scope) {
            return *unchanged;
        }
        let unchanged = unchanged_at(object, old_object, &scope);
        scopes.push((scope, unchanged));
        unchanged
    };
    let (kept, omitted) = errors.into_parts();
    for error in kept {
        let pre_existing = unchanged_at(object, old_object, error.path.pointer())
            && (scope_unchanged(&error.path)
                || old_errors
                    .get_or_insert_with(|| bgppeer::validate(group, old_object.partial()).errors)
                    .iter()
                    .any(|old| *old == error));
        if pre_existing {
            tolerated.push(error);
        } else {
            enforced.push(error);
        }
    }
    if let Some((under, count)) = omitted {
        if scope_unchanged(&under) {
            tolerated.omit(&under, count);
        } else {
            enforced.omit(&under, count);
        }
    }
    let (kept, omitted) = cluster_errors.into_parts();
    for error in kept {
        if unchanged_at(object, old_object, error.path.pointer()) {
            tolerated.push(error);
        } else {
            enforced.push(error);
        }
    }
    if let Some((under, count)) = omitted {
        if unchanged_at(object, old_object, under.pointer()) {
            tolerated.omit(&under, count);
        } else {
            enforced.omit(&under, count);
        }
    }
    (enforced, tolerated)
}

/// Whether both objects have the same value (or both none) at a JSON Pointer.
fn unchanged_at(object: &Value, old_object: &OldObject, pointer: &str) -> bool {
    old_object.unchanged_at(object, pointer)
}

/// The JSON Pointer of the smallest part of the object whose value alone decides the errors at
/// `path`: the `spec` field itself for a field outside the cross-field rules, the whole `spec`
/// for one inside them, the whole `metadata` for metadata (`name` is judged with
/// `generateName`), and the whole object for anything else.
fn scope_of(path: &Path) -> String {
    let mut tokens = path.pointer().split('/').skip(1);
    match (tokens.next(), tokens.next()) {
        (Some("metadata"), _) => "/metadata".to_owned(),
        (Some("spec"), Some(field)) if !bgppeer::rules::CROSS_FIELD_NAMES.contains(&field) => {
            format!("/spec/{field}")
        }
        (Some("spec"), _) => "/spec".to_owned(),
        _ => String::new(),
    }
}

fn allow(request: &Request, mut response: AdmissionResponse, warnings: Vec<String>) -> Decision {
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

    /// The decision without cluster checks.
    fn decide(request: &Request) -> Decision {
        super::decide(request, &super::super::NoCluster)
            .decided()
            .unwrap()
    }

    /// The decision with the given cluster findings (a CRD v1 peer).
    fn decide_with(request: &Request, cluster: &Findings) -> Decision {
        let object = request.object.as_ref().unwrap();
        let held = Held {
            group: ApiGroup::CrdV1,
            report: bgppeer::validate(ApiGroup::CrdV1, object),
            findings: Findings::default(),
        };
        finish(request, held, cluster.clone())
    }

    fn request(operation: &str, object: Value, old_object: Value) -> Request {
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

    /// The stored object as decoding reads it for an UPDATE to `new`.
    fn old_of(old: &Value, new: &Value) -> OldObject {
        let raw = serde_json::value::to_raw_value(old).unwrap();
        OldObject::read(&raw, Some(new), Ok).unwrap()
    }

    fn spec_error() -> FieldError {
        FieldError::invalid(Path::new("spec").child("peerIP"), "10.0.0.1:0", "bad port")
    }

    #[test]
    fn a_spec_error_is_tolerated_unless_spec_changed_and_the_old_object_lacks_it() {
        let old = json!({"metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1:0"}});
        let relabelled = json!({"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"peerIP": "10.0.0.1:0"}});
        let (enforced, tolerated) = ratchet(
            ApiGroup::CrdV1,
            &relabelled,
            &old_of(&old, &relabelled),
            ErrorList::from(vec![spec_error()]),
            ErrorList::new(),
        );
        assert!(enforced.is_empty());
        assert_eq!(tolerated.len(), 1);

        let changed =
            json!({"metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1:0", "asNumber": 1}});
        let (enforced, tolerated) = ratchet(
            ApiGroup::CrdV1,
            &changed,
            &old_of(&old, &changed),
            ErrorList::from(vec![spec_error()]),
            ErrorList::new(),
        );
        assert_eq!(enforced.len(), 1);
        assert!(tolerated.is_empty());
    }

    #[test]
    fn cross_field_errors_the_old_object_lacks_are_enforced() {
        // spec changed (sourceAddress added), the error is at a cross-field path, and the old
        // object does not have it: introduced by the update.
        let old = json!({"metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1"}});
        let object = json!({"metadata": {"name": "p"},
            "spec": {"peerIP": "10.0.0.1", "sourceAddress": "UseNodeIP"}});
        let error = FieldError::forbidden(Path::new("spec").child("peerIP"), "made up");
        let (enforced, tolerated) = ratchet(
            ApiGroup::CrdV1,
            &object,
            &old_of(&old, &object),
            ErrorList::from(vec![error]),
            ErrorList::new(),
        );
        assert_eq!(enforced.len(), 1);
        assert!(tolerated.is_empty());
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

    /// Ratchets the object's own errors (validated here) and the given cluster errors.
    fn ratchet_update(old: &Value, new: &Value, cluster: ErrorList) -> (ErrorList, ErrorList) {
        let errors = bgppeer::validate(ApiGroup::CrdV1, new).errors;
        ratchet(ApiGroup::CrdV1, new, &old_of(old, new), errors, cluster)
    }

    fn fields(list: &ErrorList) -> Vec<String> {
        list.shown().map(|e| e.path.to_string()).collect()
    }

    fn peer_with(spec: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": spec})
    }

    #[test]
    fn our_own_default_does_not_make_stored_errors_new() {
        // Stored before the webhook: no sourceAddress. The UPDATE carries our mutation's default
        // and a label; spec differs, but no error is new.
        let old = peer_with(json!({"peerIP": "10.0.0.1:0", "asNumber": 64512, "filters": ["A"]}));
        let mut new = old.clone();
        new["spec"]["sourceAddress"] = json!("UseNodeIP");
        new["metadata"]["labels"] = json!({"env": "prod"});
        let (enforced, tolerated) = ratchet_update(&old, &new, ErrorList::new());
        assert!(enforced.is_empty(), "{enforced}");
        assert_eq!(fields(&tolerated), ["spec.peerIP", "spec.filters[0]"]);
    }

    #[test]
    fn an_error_in_a_changed_field_is_enforced_and_others_stay_tolerated() {
        let old = peer_with(json!({"peerIP": "10.0.0.1:0", "asNumber": 64512, "filters": ["A"]}));
        let mut new = old.clone();
        new["spec"]["peerIP"] = json!("10.0.0.2:0");
        let (enforced, tolerated) = ratchet_update(&old, &new, ErrorList::new());
        assert_eq!(fields(&enforced), ["spec.peerIP"]);
        assert_eq!(fields(&tolerated), ["spec.filters[0]"]);

        // A new item in a list: the old items' errors stay tolerated, the new one is enforced.
        let mut new = old.clone();
        new["spec"]["filters"] = json!(["A", "B"]);
        let (enforced, tolerated) = ratchet_update(&old, &new, ErrorList::new());
        assert_eq!(fields(&enforced), ["spec.filters[1]"]);
        assert_eq!(fields(&tolerated), ["spec.peerIP", "spec.filters[0]"]);
    }

    #[test]
    fn cross_field_errors_need_the_identical_old_error_and_an_unchanged_value() {
        // node unchanged, nodeSelector newly set: the Forbidden error at spec.node is new.
        let old = peer_with(json!({"node": "a", "peerIP": "192.0.2.1", "asNumber": 1}));
        let mut new = old.clone();
        new["spec"]["nodeSelector"] = json!("all()");
        let (enforced, tolerated) = ratchet_update(&old, &new, ErrorList::new());
        assert_eq!(fields(&enforced), ["spec.node"]);
        assert!(tolerated.is_empty());

        // Both set before and after, node unchanged: the same error, tolerated.
        let old = peer_with(json!({"node": "a", "nodeSelector": "x == 'y'",
            "peerIP": "192.0.2.1", "asNumber": 1}));
        let mut new = old.clone();
        new["spec"]["nodeSelector"] = json!("x == 'z'");
        let (enforced, tolerated) = ratchet_update(&old, &new, ErrorList::new());
        assert!(enforced.is_empty(), "{enforced}");
        assert_eq!(fields(&tolerated), ["spec.node"]);

        // The field the error is reported at changed: enforced, although the old object had an
        // error of the same wording.
        let mut new = old.clone();
        new["spec"]["node"] = json!("b");
        let (enforced, _) = ratchet_update(&old, &new, ErrorList::new());
        assert_eq!(fields(&enforced), ["spec.node"]);
    }

    #[test]
    fn cluster_errors_are_tolerated_while_their_value_is_unchanged() {
        let missing = || {
            ErrorList::from(vec![FieldError::not_found(
                Path::new("spec").child("filters").index(0),
                "gone",
                "no BGPFilter of this name exists",
            )])
        };
        let old = peer_with(json!({"peerIP": "192.0.2.1", "asNumber": 1, "filters": ["gone"]}));
        let mut new = old.clone();
        new["spec"]["sourceAddress"] = json!("UseNodeIP");
        let (enforced, tolerated) = ratchet_update(&old, &new, missing());
        assert!(enforced.is_empty());
        assert_eq!(fields(&tolerated), ["spec.filters[0]"]);

        let mut renamed = peer_with(json!({"peerIP": "192.0.2.1", "asNumber": 1}));
        renamed["spec"]["filters"] = json!(["other"]);
        let (enforced, _) = ratchet_update(&old, &renamed, missing());
        assert_eq!(fields(&enforced), ["spec.filters[0]"]);
    }

    #[test]
    fn counted_errors_are_tolerated_only_when_their_field_is_unchanged() {
        use crate::field::MAX_ERRORS;
        let filters = vec![Value::from("A"); 300];
        let old = peer_with(json!({"peerIP": "192.0.2.1", "asNumber": 1, "filters": filters}));
        let mut new = old.clone();
        new["spec"]["sourceAddress"] = json!("UseNodeIP");
        let (enforced, tolerated) = ratchet_update(&old, &new, ErrorList::new());
        assert!(enforced.is_empty(), "{enforced}");
        assert_eq!(tolerated.len(), 300);
        assert_eq!(
            tolerated.more_errors().unwrap().to_string(),
            format!(
                "spec.filters: Too many: {} more errors not shown",
                300 - MAX_ERRORS
            )
        );

        // One more item: the list changed, so the errors that were only counted cannot be shown
        // to pre-exist and are enforced; the kept ones are matched one by one.
        let mut appended = new.clone();
        appended["spec"]["filters"]
            .as_array_mut()
            .unwrap()
            .push(json!("B"));
        let (enforced, tolerated) = ratchet_update(&old, &appended, ErrorList::new());
        assert_eq!(tolerated.len(), MAX_ERRORS);
        assert_eq!(enforced.len(), 301 - MAX_ERRORS);
        assert_eq!(enforced.iter().count(), 0);
        assert_eq!(enforced.omitted_under().unwrap().0.as_str(), "spec.filters");
    }

    #[test]
    fn tolerated_errors_become_short_warnings() {
        let long_value = format!("{}:0", "1".repeat(60));
        let old = peer_with(json!({"peerIP": long_value, "asNumber": 1}));
        let mut new = old.clone();
        new["metadata"]["labels"] = json!({"a": "b"});
        let decision = decide(&request("UPDATE", new, old));
        assert!(decision.response.allowed);
        let warnings = decision.response.warnings.unwrap();
        assert!(!warnings.is_empty());
        for warning in &warnings {
            assert!(warning.chars().count() <= warnings::MAX_LEN, "{warning}");
            assert!(warning.ends_with(TOLERATED_SUFFIX), "{warning}");
        }
    }
}
