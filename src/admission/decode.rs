//! Raw bytes to an [`AdmissionRequest`]: the only place that looks at the request body.

use kube::core::DynamicObject;
use kube::core::admission::{AdmissionRequest, AdmissionReview, META_API_VERSION_V1, META_KIND};

/// Why a request body is not an AdmissionReview we can answer. The HTTP layer answers these with
/// `400 Bad Request` and this text, since there is no `uid` to echo in a review.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The body is not JSON, or not shaped like an AdmissionReview.
    #[error("the body is not a valid admission.k8s.io/v1 AdmissionReview: {0}")]
    Json(#[from] serde_json::Error),
    /// The body is an object of another kind or version.
    #[error(
        "expected kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1\", got kind {kind:?} and apiVersion {api_version:?}"
    )]
    WrongType {
        /// The `kind` the body declared.
        kind: String,
        /// The `apiVersion` the body declared.
        api_version: String,
    },
    /// The review has no `request` (a response was sent to us, or the field is missing).
    #[error("the AdmissionReview has no request")]
    MissingRequest,
}

/// Decodes an `admission.k8s.io/v1` AdmissionReview body into its request.
///
/// The request keeps the review's `apiVersion` and `kind`, so the response echoes them.
pub fn request(body: &[u8]) -> Result<AdmissionRequest<DynamicObject>, DecodeError> {
    let review: AdmissionReview<DynamicObject> = serde_json::from_slice(body)?;
    if review.types.kind != META_KIND || review.types.api_version != META_API_VERSION_V1 {
        return Err(DecodeError::WrongType {
            kind: review.types.kind,
            api_version: review.types.api_version,
        });
    }
    review.try_into().map_err(|_| DecodeError::MissingRequest)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview",
        "request":{"uid":"u1","kind":{"group":"crd.projectcalico.org","version":"v1","kind":"BGPPeer"},
        "resource":{"group":"crd.projectcalico.org","version":"v1","resource":"bgppeers"},
        "name":"p","operation":"DELETE","userInfo":{},"object":null,"oldObject":null}}"#;

    #[test]
    fn decodes_a_minimal_review_and_keeps_its_type() {
        let request = request(MINIMAL.as_bytes()).unwrap();
        assert_eq!(request.uid, "u1");
        assert_eq!(request.types.api_version, "admission.k8s.io/v1");
        assert_eq!(request.types.kind, "AdmissionReview");
    }

    #[test]
    fn rejects_non_json() {
        let err = request(b"{not json").unwrap_err();
        assert!(matches!(err, DecodeError::Json(_)), "{err}");
        assert!(err.to_string().contains("line 1 column 2"), "{err}");
    }

    #[test]
    fn rejects_another_version() {
        let body = MINIMAL.replace("admission.k8s.io/v1", "admission.k8s.io/v1beta1");
        let err = request(body.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "expected kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1\", got kind \"AdmissionReview\" and apiVersion \"admission.k8s.io/v1beta1\""
        );
    }

    #[test]
    fn rejects_a_review_without_request() {
        let body = r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#;
        assert!(matches!(
            request(body.as_bytes()),
            Err(DecodeError::MissingRequest)
        ));
    }

    #[test]
    fn never_panics_on_arbitrary_bytes() {
        for body in [
            &b""[..],
            b"null",
            b"[]",
            b"\xff\xfe",
            b"{\"request\":1}",
            b"1e999999",
        ] {
            assert!(request(body).is_err());
        }
    }
}
