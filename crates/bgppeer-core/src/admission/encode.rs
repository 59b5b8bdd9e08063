//! The answer, encoded once: a [`Decision`](super::Decision)'s AdmissionReview straight to JSON
//! bytes, with no intermediate JSON tree.
//!
//! The bytes are exactly those the webhook has always sent (the recorded answers in
//! `tests/fixtures/admission-answers/` hold them): every object's keys in sorted order, the
//! patch as a base64 string as the `admission.k8s.io/v1` API defines it (kube's
//! `AdmissionResponse` would serialise the patch bytes as an array of numbers), and each field
//! omitted exactly when kube's types omit it. So the structs below list their fields in sorted
//! order, each with kube's `skip_serializing_if` rule.

use std::collections::BTreeMap;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;
use kube_core::admission::AdmissionResponse;
use kube_core::response::{StatusCause, StatusDetails, StatusSummary};
use serde::Serialize;

/// The AdmissionReview around a response, as JSON bytes.
pub(crate) fn review(response: &AdmissionResponse) -> Result<Vec<u8>, serde_json::Error> {
    let status = &response.result;
    let review = Review {
        api_version: &response.types.api_version,
        kind: &response.types.kind,
        response: Response {
            allowed: response.allowed,
            audit_annotations: response
                .audit_annotations
                .iter()
                .map(|(key, value)| (key.as_str(), value.as_str()))
                .collect(),
            patch: response
                .patch
                .as_ref()
                .map(|patch| BASE64_STANDARD.encode(patch)),
            // kube sets the patch type together with the patch (`with_patch`), always to
            // JSONPatch, the only type the API defines.
            patch_type: response.patch.as_ref().map(|_| "JSONPatch"),
            status: Status {
                code: status.code,
                details: status.details.as_ref().map(Details::of),
                message: &status.message,
                // Never set by this crate's responses; sorted like every other object should
                // one appear.
                metadata: status
                    .metadata
                    .as_ref()
                    .map(serde_json::to_value)
                    .transpose()?,
                reason: &status.reason,
                status: status.status,
            },
            uid: &response.uid,
            warnings: response.warnings.as_deref(),
        },
    };
    serde_json::to_vec(&review)
}

#[derive(Serialize)]
struct Review<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'a str,
    kind: &'a str,
    response: Response<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Response<'a> {
    allowed: bool,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    audit_annotations: BTreeMap<&'a str, &'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    patch_type: Option<&'static str>,
    status: Status<'a>,
    uid: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    warnings: Option<&'a [String]>,
}

#[derive(Serialize)]
struct Status<'a> {
    #[serde(skip_serializing_if = "is_zero")]
    code: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    details: Option<Details<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<StatusSummary>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Details<'a> {
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    causes: Vec<Cause<'a>>,
    #[serde(skip_serializing_if = "str::is_empty")]
    group: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    kind: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    name: &'a str,
    #[serde(skip_serializing_if = "is_zero_u32")]
    retry_after_seconds: u32,
    #[serde(skip_serializing_if = "str::is_empty")]
    uid: &'a str,
}

impl<'a> Details<'a> {
    fn of(details: &'a StatusDetails) -> Self {
        Self {
            causes: details.causes.iter().map(Cause::of).collect(),
            group: &details.group,
            kind: &details.kind,
            name: &details.name,
            retry_after_seconds: details.retry_after_seconds,
            uid: &details.uid,
        }
    }
}

#[derive(Serialize)]
struct Cause<'a> {
    #[serde(skip_serializing_if = "str::is_empty")]
    field: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    message: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    reason: &'a str,
}

impl<'a> Cause<'a> {
    fn of(cause: &'a StatusCause) -> Self {
        Self {
            field: &cause.field,
            message: &cause.message,
            reason: &cause.reason,
        }
    }
}

fn is_zero(code: &u16) -> bool {
    *code == 0
}

fn is_zero_u32(seconds: &u32) -> bool {
    *seconds == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube_core::Status;

    /// The bytes agree with what kube's own serialisation gives once its keys are sorted and
    /// its patch is base64: the two ways of writing the answer, on every shape a response takes.
    fn agrees(response: AdmissionResponse) {
        let ours: serde_json::Value = serde_json::from_slice(&review(&response).unwrap()).unwrap();
        let patch = response.patch.clone();
        let mut theirs = serde_json::to_value(response.into_review()).unwrap();
        if let Some(patch) = patch {
            theirs["response"]["patch"] = BASE64_STANDARD.encode(patch).into();
        }
        assert_eq!(ours, theirs);
        // serde_json's tree sorts keys: equal trees and sorted structs give equal bytes.
        assert_eq!(
            serde_json::to_vec(&ours).unwrap(),
            serde_json::to_vec(&theirs).unwrap()
        );
    }

    fn request_types() -> kube_core::TypeMeta {
        kube_core::TypeMeta {
            api_version: "admission.k8s.io/v1".into(),
            kind: "AdmissionReview".into(),
        }
    }

    #[test]
    fn every_shape_of_response_encodes_as_kube_would_with_sorted_keys() {
        let mut allowed = AdmissionResponse::invalid("");
        allowed.allowed = true;
        allowed.result = Status::default();
        allowed.uid = "u-1".into();
        allowed.types = request_types();
        agrees(allowed.clone());

        let mut warned = allowed.clone();
        warned.warnings = Some(vec!["a warning".into(), "another".into()]);
        agrees(warned.clone());

        let patched = warned
            .clone()
            .with_patch(json_patch::Patch(vec![]))
            .unwrap();
        agrees(patched);

        let mut audited = allowed.clone();
        audited.audit_annotations = [("b".to_owned(), "2".to_owned()), ("a".into(), "1".into())]
            .into_iter()
            .collect();
        agrees(audited);

        let mut denied = allowed;
        denied.allowed = false;
        denied.result = Status {
            status: Some(StatusSummary::Failure),
            code: 422,
            message: "BGPPeer.crd.projectcalico.org \"p\" is invalid".into(),
            metadata: None,
            reason: "Invalid".into(),
            details: Some(StatusDetails {
                name: "p".into(),
                group: "crd.projectcalico.org".into(),
                kind: "BGPPeer".into(),
                uid: String::new(),
                causes: vec![
                    StatusCause {
                        reason: "FieldValueInvalid".into(),
                        message: "Invalid value".into(),
                        field: "spec.peerIP".into(),
                    },
                    StatusCause {
                        reason: String::new(),
                        message: "no field".into(),
                        field: String::new(),
                    },
                ],
                retry_after_seconds: 0,
            }),
        };
        agrees(denied.clone());
        denied.result.details = None;
        agrees(denied);
    }
}
