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

use kube::core::Status;
use kube::core::response::{StatusCause, StatusDetails, StatusSummary};

use crate::bgppeer::ApiGroup;
use crate::field::{ErrorList, go_quote};

use super::target::KIND;

/// HTTP code of an invalid object (`422 Unprocessable Entity`), as the apiserver uses.
pub const INVALID_CODE: u16 = 422;
/// `metav1.StatusReasonInvalid`.
pub const INVALID_REASON: &str = "Invalid";

/// The status of a BGPPeer that failed validation: code 422, reason `Invalid`, the message
/// `BGPPeer.<group> "<name>" is invalid: <errors joined with ", ">` and one cause per error.
pub fn invalid(group: ApiGroup, name: &str, errors: &ErrorList) -> Status {
    let causes = errors
        .iter()
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
            errors.joined()
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

/// The status of a request that cannot be checked because it is incomplete (for example a CREATE
/// without an object): code 400, reason `BadRequest`.
pub fn bad_request(message: impl Into<String>) -> Status {
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
}
