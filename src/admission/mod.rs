//! AdmissionReview in, AdmissionReview out: the webhook's decisions, without any I/O.
//!
//! The HTTP layer hands the raw request body to [`review`] and sends back whatever it returns;
//! everything between (decoding, dispatch on operation and kind, validation, ratcheting, the
//! Kubernetes-shaped denial, the defaulting patch) lives here so that it can be tested without a
//! socket.
//!
//! - [`decode`]: bytes to a [`Request`] (kube's `AdmissionRequest` with the objects as plain
//!   JSON, decoded once, never copied), with errors that say what was wrong.
//! - [`target`]: whether a request is about a BGPPeer we know, and in which API group.
//! - [`validate`]: the `/validate` decision (with UPDATE ratcheting).
//! - [`mutate`]: the `/mutate` decision (a JSON Patch with the defaults).
//! - [`status`]: the `422 Invalid` status that makes a denial look native to `kubectl`.

use std::fmt;

use base64::Engine;
use base64::prelude::BASE64_STANDARD;

use kube::core::admission::{AdmissionResponse, Operation};

pub mod decode;
pub mod mutate;
mod object;
pub mod old_object;
pub mod status;
pub mod target;
pub mod validate;

pub use decode::{DecodeError, Request};
pub use old_object::OldObject;

/// The two admission endpoints. Each has its own decision function and its own metrics label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Webhook {
    /// `/validate`: allows or denies; never changes the object.
    Validate,
    /// `/mutate`: applies defaults; never denies a decodable review.
    Mutate,
}

impl Webhook {
    /// Every webhook, in a fixed order (used to pre-register metric series).
    pub const ALL: [Webhook; 2] = [Webhook::Validate, Webhook::Mutate];

    /// The HTTP path the webhook is served on (`/validate`), also its `webhook` metrics label,
    /// as controller-runtime labels its metrics with the path.
    pub fn path(self) -> &'static str {
        match self {
            Webhook::Validate => "/validate",
            Webhook::Mutate => "/mutate",
        }
    }
}

impl fmt::Display for Webhook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.path())
    }
}

/// What was decided about one request, for the decision log line and the metrics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The request's `uid`, echoed in the response (correlates webhook and apiserver logs).
    pub uid: String,
    /// The kind the request is about (`BGPPeer`), as the apiserver sent it.
    pub kind: String,
    /// The object's name (may be empty for `generateName` creations).
    pub name: String,
    /// `CREATE`, `UPDATE`, `DELETE` or `CONNECT`.
    pub operation: &'static str,
    /// Whether the request was allowed.
    pub allowed: bool,
    /// Whether the request was a dry run (it gets the same decision: the webhook has no side
    /// effects).
    pub dry_run: bool,
    /// How many field errors caused a denial (0 when allowed).
    pub errors: usize,
    /// How many warnings were returned.
    pub warnings: usize,
    /// How many JSON Patch operations were returned (always 0 on `/validate`).
    pub patch_operations: usize,
    /// Set when the request was not about a BGPPeer we handle: the webhook configuration sends
    /// us something it should not, which deserves a log line of its own.
    pub misrouted: Option<String>,
}

/// A decision: the response to send and its summary.
#[derive(Clone, Debug)]
pub struct Decision {
    /// The `response` of the AdmissionReview to send back.
    pub response: AdmissionResponse,
    /// What was decided, for logs and metrics.
    pub summary: Summary,
}

impl Decision {
    /// The AdmissionReview to send back, as JSON: the request's `apiVersion` and `kind` echoed,
    /// and the patch (if any) base64-encoded as the `admission.k8s.io/v1` API defines it.
    ///
    /// `kube`'s `AdmissionResponse` serialises its patch bytes as a JSON array of numbers, which
    /// Go happens to accept; the API's documented form is a base64 string, so that is what is
    /// sent.
    pub fn into_json(self) -> Result<serde_json::Value, serde_json::Error> {
        let patch = self.response.patch.clone();
        let mut review = serde_json::to_value(self.response.into_review())?;
        if let (Some(patch), Some(response)) = (patch, review.get_mut("response")) {
            response["patch"] = serde_json::Value::String(BASE64_STANDARD.encode(patch));
        }
        Ok(review)
    }
}

/// Decodes a raw AdmissionReview body and decides it with the given webhook.
///
/// An `Err` means the body is not an AdmissionReview at all (the HTTP layer answers 400); every
/// decodable review gets a [`Decision`], even one about an unexpected kind.
pub fn review(webhook: Webhook, body: &[u8]) -> Result<Decision, DecodeError> {
    let request = decode::request(body)?;
    Ok(decide(webhook, &request))
}

/// Decides one decoded admission request with the given webhook.
pub fn decide(webhook: Webhook, request: &Request) -> Decision {
    decide_with_cluster(webhook, request, &crate::cluster::Findings::default())
}

/// Decides one decoded request with what the cluster checks found about its object (see
/// [`cluster_subject`]); `/mutate` does not use them.
pub fn decide_with_cluster(
    webhook: Webhook,
    request: &Request,
    cluster: &crate::cluster::Findings,
) -> Decision {
    let mut decision = match webhook {
        Webhook::Validate => validate::decide_with(request, cluster),
        Webhook::Mutate => mutate::decide(request),
    };
    if let target::Target::Unexpected(what) = target::of(request) {
        decision.summary.misrouted = Some(what);
    }
    decision
}

/// The object the cluster checks should look at, when the request is one they apply to: a
/// BGPPeer (either API group) being created or updated, with an object, not being deleted.
pub fn cluster_subject(request: &Request) -> Option<&serde_json::Value> {
    if !matches!(target::of(request), target::Target::BgpPeer(_))
        || !matches!(request.operation, Operation::Create | Operation::Update)
    {
        return None;
    }
    let object = request.object.as_ref()?;
    let old_is_deleting = request
        .old_object
        .as_ref()
        .is_some_and(OldObject::is_being_deleted);
    if object::is_being_deleted(object) || old_is_deleting {
        return None;
    }
    Some(object)
}

/// The operation as the apiserver spells it (`CREATE`), for logs and metrics labels.
pub fn operation_name(operation: &Operation) -> &'static str {
    match operation {
        Operation::Create => "CREATE",
        Operation::Update => "UPDATE",
        Operation::Delete => "DELETE",
        Operation::Connect => "CONNECT",
    }
}

/// The summary of a response to `request`, before errors and patches are counted.
fn summary_of(request: &Request, response: &AdmissionResponse) -> Summary {
    Summary {
        uid: request.uid.clone(),
        kind: request.kind.kind.clone(),
        name: request.name.clone(),
        operation: operation_name(&request.operation),
        allowed: response.allowed,
        dry_run: request.dry_run,
        errors: 0,
        warnings: response.warnings.as_ref().map_or(0, Vec::len),
        patch_operations: 0,
        misrouted: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn body(operation: &str, spec: Value) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": "u-1", "name": "p", "operation": operation, "userInfo": {},
                "kind": {"group": "crd.projectcalico.org", "version": "v1", "kind": "BGPPeer"},
                "resource": {"group": "crd.projectcalico.org", "version": "v1", "resource": "bgppeers"},
                "object": {"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
                           "metadata": {"name": "p"}, "spec": spec},
                "oldObject": null, "dryRun": true
            }
        }))
        .unwrap()
    }

    #[test]
    fn mutation_patch_is_sent_as_base64_json_patch() {
        let decision = review(
            Webhook::Mutate,
            &body("CREATE", json!({"peerIP": "192.0.2.1"})),
        )
        .unwrap();
        assert_eq!(decision.summary.patch_operations, 1);
        assert!(decision.summary.dry_run);
        let review = decision.into_json().unwrap();
        assert_eq!(review["apiVersion"], "admission.k8s.io/v1");
        assert_eq!(review["response"]["uid"], "u-1");
        assert_eq!(review["response"]["patchType"], "JSONPatch");
        let patch = BASE64_STANDARD
            .decode(review["response"]["patch"].as_str().unwrap())
            .unwrap();
        assert_eq!(
            serde_json::from_slice::<Value>(&patch).unwrap(),
            json!([{"op": "add", "path": "/spec/sourceAddress", "value": "UseNodeIP"}])
        );
    }

    #[test]
    fn denial_summary_counts_errors_and_warnings() {
        let decision = review(
            Webhook::Validate,
            &body("CREATE", json!({"peerIP": "10.0.0.1:0"})),
        )
        .unwrap();
        assert!(!decision.summary.allowed);
        assert_eq!(decision.summary.errors, 1);
        assert_eq!(decision.summary.operation, "CREATE");
        assert_eq!(decision.summary.misrouted, None);
        assert_eq!(decision.response.result.code, 422);
    }
}
