//! The `Status` of a denial, shaped exactly like a native Kubernetes validation failure.
//!
//! The apiserver passes `code`, `reason` and `details` through to the client unchanged and only
//! prefixes the message, so with `reason: Invalid` and one cause per field error `kubectl` prints
//! the familiar
//!
//! ```text
//! The BGPPeer "x" is invalid:
//! * spec.peerIP: Invalid value: "10.0.0.1:0": port must be between 1 and 65535
//! ```

use kube_core::Status;
use kube_core::response::{StatusCause, StatusDetails, StatusSummary};

use crate::bgppeer::ApiGroup;
use crate::field::{ErrorList, MAX_NAME_LEN, go_quote, shorten};

use crate::bgppeer::api::BGP_PEER_KIND as KIND;

/// HTTP code of an invalid object (`422 Unprocessable Entity`), as the apiserver uses.
pub(crate) const INVALID_CODE: u16 = 422;
/// `metav1.StatusReasonInvalid`.
pub(crate) const INVALID_REASON: &str = "Invalid";

/// The most errors the `message` of a denial spells out; the causes list up to
/// [`MAX_ERRORS`](crate::field::MAX_ERRORS). `kubectl` prints the causes, one per line; the
/// message repeats the first errors for clients that show only it.
pub(crate) const MAX_MESSAGE_ERRORS: usize = 10;

/// The status of a BGPPeer that failed validation: code 422, reason `Invalid`, the message
/// `BGPPeer.<group> "<name>" is invalid: <errors joined with ", ">` and one cause per error.
///
/// Bounded whatever the object: the causes are the errors the list kept (at most
/// [`MAX_ERRORS`](crate::field::MAX_ERRORS)) and, when it counted more, one `FieldValueTooMany`
/// cause with their number (`spec.filters: Too many: 759,912 more errors not shown`); the
/// message spells out at most [`MAX_MESSAGE_ERRORS`] and ends the same way with the rest.
pub(crate) fn invalid(group: ApiGroup, name: &str, errors: &ErrorList) -> Status {
    // A valid name has at most 253 bytes; a longer one (sent straight to the webhook, never by
    // the apiserver) is not echoed in full either.
    let name = shorten(name, MAX_NAME_LEN);
    let name = name.as_ref();
    let causes = errors
        .shown()
        .map(|error| StatusCause {
            reason: error.error_type.reason().to_owned(),
            message: error.body(),
            field: error.path.to_string(),
        })
        .collect();
    Status {
        status: Some(StatusSummary::Failure),
        code: INVALID_CODE,
        message: format!(
            "{KIND}.{} {} is invalid: {}",
            group.group(),
            go_quote(name),
            message_errors(errors)
        ),
        metadata: None,
        reason: INVALID_REASON.to_owned(),
        details: Some(StatusDetails {
            name: name.to_owned(),
            group: group.group().to_owned(),
            kind: KIND.to_owned(),
            uid: String::new(),
            causes,
            retry_after_seconds: 0,
        }),
    }
}

/// The first [`MAX_MESSAGE_ERRORS`] errors joined with `", "`, then one error counting the rest.
fn message_errors(errors: &ErrorList) -> String {
    let mut parts: Vec<String> = errors
        .iter()
        .take(MAX_MESSAGE_ERRORS)
        .map(ToString::to_string)
        .collect();
    let mut rest = ErrorList::new();
    for error in errors.iter().skip(MAX_MESSAGE_ERRORS) {
        rest.omit(&error.path, 1);
    }
    if let Some((under, count)) = errors.omitted_under() {
        rest.omit(under, count);
    }
    parts.extend(rest.more_errors().map(|more| more.to_string()));
    parts.join(", ")
}

/// The status of a request that cannot be checked because it is incomplete (for example a CREATE
/// without an object): code 400, reason `BadRequest`.
pub(crate) fn bad_request(message: impl Into<String>) -> Status {
    Status {
        status: Some(StatusSummary::Failure),
        code: 400,
        message: message.into(),
        metadata: None,
        reason: "BadRequest".to_owned(),
        details: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::field::{FieldError, Path};

    #[test]
    fn invalid_status_matches_the_apiserver_shape() {
        let errors = ErrorList::from(vec![
            FieldError::invalid(
                Path::new("spec").child("peerIP"),
                "10.0.0.1:0",
                "port must be between 1 and 65535",
            ),
            FieldError::required(Path::new("spec").child("asNumber"), ""),
        ]);
        let status = invalid(ApiGroup::CrdV1, "denied-peer", &errors);
        let json = serde_json::to_value(&status).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "status": "Failure",
                "code": 422,
                "reason": "Invalid",
                "message": "BGPPeer.crd.projectcalico.org \"denied-peer\" is invalid: spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535, spec.asNumber: Required value",
                "details": {
                    "name": "denied-peer",
                    "group": "crd.projectcalico.org",
                    "kind": "BGPPeer",
                    "causes": [
                        {"reason": "FieldValueInvalid", "field": "spec.peerIP",
                         "message": "Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535"},
                        {"reason": "FieldValueRequired", "field": "spec.asNumber",
                         "message": "Required value"}
                    ]
                }
            })
        );
    }

    #[test]
    fn v3_group_and_quoted_name() {
        let errors = ErrorList::from(vec![FieldError::forbidden(Path::new("spec"), "x")]);
        let status = invalid(ApiGroup::V3, "we\"ird", &errors);
        assert_eq!(
            status.message,
            "BGPPeer.projectcalico.org \"we\\\"ird\" is invalid: spec: Forbidden: x"
        );
        assert_eq!(status.details.unwrap().group, "projectcalico.org");
    }

    #[test]
    fn a_denial_with_many_errors_stays_small() {
        use crate::field::MAX_ERRORS;
        let filters = Path::new("spec").child("filters");
        let mut errors = ErrorList::new();
        for i in 0..760_000 {
            errors.push_with(&filters, || {
                FieldError::invalid(
                    filters.index(i),
                    "A",
                    crate::bgppeer::names::dns1123_subdomain_message(),
                )
            });
        }
        let status = invalid(ApiGroup::CrdV1, &"n".repeat(10_000), &errors);
        let body = serde_json::to_vec(&status).unwrap();
        assert!(body.len() < 64 * 1024, "{} bytes", body.len());
        let details = status.details.unwrap();
        assert_eq!(details.causes.len(), MAX_ERRORS + 1);
        let more = details.causes.last().unwrap();
        assert_eq!(more.field, "spec.filters");
        assert_eq!(more.reason, "FieldValueTooMany");
        assert_eq!(more.message, "Too many: 759,900 more errors not shown");
        assert_eq!(details.name.len(), 253 + 3);
        // The message spells out the first errors and counts the rest.
        assert_eq!(
            status.message.matches("Invalid value").count(),
            MAX_MESSAGE_ERRORS
        );
        assert!(
            status
                .message
                .ends_with(", spec.filters: Too many: 759,990 more errors not shown"),
            "{}",
            status.message
        );
    }
}
