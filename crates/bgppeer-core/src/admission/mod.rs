//! AdmissionReview in, AdmissionReview out: the webhook's decisions, without any I/O.
//!
//! The HTTP layer decodes the raw request body once ([`decode::request`]), hands it to
//! [`decide`] with a read-only view of the cluster, and encodes the [`Decision`] once
//! ([`Decision::encode`]); everything between (dispatch on operation and kind, validation,
//! ratcheting, the cluster rules, the Kubernetes-shaped denial, the defaulting patch) lives here
//! so that it can be tested without a socket or a cluster.
//!
//! The one I/O a decision may need, confirming with the API server that a filter missing from
//! the cluster view really does not exist, is left to the caller: [`decide`] then returns an
//! [`Outcome::Confirm`] holding the computed state, and [`Confirmation::finish`] completes it
//! with the answer. So no network I/O happens while a decision runs, and none in this module.
//!
//! - [`decode`]: bytes to a [`Request`] (kube's `AdmissionRequest` with the objects as plain
//!   JSON, decoded once, never copied), with errors that say what was wrong.
//! - [`cluster`]: the [`ClusterView`] a decision reads and the cluster rules over it.
//! - `target`: whether a request is about a BGPPeer we know, and in which API group.
//! - `validate`: the `/validate` decision (with UPDATE ratcheting).
//! - `mutate`: the `/mutate` decision (a JSON Patch with the defaults).
//! - `status`: the `422 Invalid` status that makes a denial look native to `kubectl`.

use std::fmt;

use kube_core::admission::{AdmissionResponse, Operation};

pub mod cluster;
pub mod decode;
mod encode;
pub(crate) mod mutate;
mod object;
pub(crate) mod old_object;
pub(crate) mod status;
pub(crate) mod target;
pub(crate) mod validate;

pub use cluster::{ClusterView, Findings, NoCluster, SkipReason};
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
    /// Set when the cluster checks applied to the request but could not run (counted in
    /// `bgppeer_webhook_cluster_checks_skipped_total{reason}`).
    pub cluster_skipped: Option<SkipReason>,
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
    /// The AdmissionReview to send back, as JSON bytes, encoded once: the request's
    /// `apiVersion` and `kind` echoed, and the patch (if any) base64-encoded as the
    /// `admission.k8s.io/v1` API defines it.
    pub fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        encode::review(&self.response)
    }
}

/// Decides one decoded admission request with the given webhook and a view of the cluster
/// ([`NoCluster`] when cluster checks are off; `/mutate` never consults it): the webhook's one
/// decision entry point.
///
/// The answer is final, except when the cluster rules found filters the view lacks: the view may
/// lag behind the API server, so such a filter is not denied before the caller has asked the API
/// server (see [`Confirmation`]). The cluster checks apply only where `cluster_subject` says.
pub fn decide(webhook: Webhook, request: &Request, cluster: &dyn ClusterView) -> Outcome {
    let mut outcome = match webhook {
        Webhook::Validate => validate::decide(request, cluster),
        Webhook::Mutate => Outcome::Decided(mutate::decide(request)),
    };
    if let (Outcome::Decided(decision), target::Target::Unexpected(what)) =
        (&mut outcome, target::of(request))
    {
        decision.summary.misrouted = Some(what);
    }
    outcome
}

/// What [`decide`] returns: a decision, or one waiting for a live confirmation.
// The final decision is the common case: boxing it would allocate on every request.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum Outcome {
    /// The decision.
    Decided(Decision),
    /// The decision, computed but for the filters to confirm.
    Confirm(Confirmation),
}

impl Outcome {
    /// The decision when final, the confirmation to run otherwise.
    pub fn decided(self) -> Result<Decision, Confirmation> {
        match self {
            Outcome::Decided(decision) => Ok(decision),
            Outcome::Confirm(confirmation) => Err(confirmation),
        }
    }
}

/// A `/validate` decision that waits for the API server to confirm that some filters named in
/// `spec.filters` really do not exist (the cluster view did not have them).
///
/// It holds everything already computed (the static report and the other cluster findings); the
/// caller asks the API server about [`Confirmation::filters`] (network I/O, so outside any
/// decision slot and bounded by its deadline), then calls [`Confirmation::finish`] with the same
/// request and the answer. Nothing is validated twice.
#[derive(Debug)]
pub struct Confirmation {
    held: Box<validate::Held>,
    misses: Vec<cluster::FilterMiss>,
}

impl Confirmation {
    /// The filter names to look up, each once, in the order `spec.filters` names them.
    pub fn filters(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for miss in &self.misses {
            if !names.contains(&miss.name.as_str()) {
                names.push(&miss.name);
            }
        }
        names
    }

    /// Finishes the decision of `request` (the one [`decide`] was given) with the live answer:
    /// `Ok` with the names the API server confirmed missing (each such filter is denied with
    /// `Not found`; the others exist after all), or `Err` with why the API server could not
    /// tell, which skips every cluster check with one warning, as an unavailable view does.
    pub fn finish(self, request: &Request, missing: Result<Vec<String>, SkipReason>) -> Decision {
        let findings = match missing {
            Ok(missing) => {
                let confirmed: Vec<cluster::FilterMiss> = self
                    .misses
                    .into_iter()
                    .filter(|miss| missing.contains(&miss.name))
                    .collect();
                cluster::rules::resolve(self.held.findings.clone(), &confirmed)
            }
            Err(reason) => Findings::skipped(reason),
        };
        validate::finish(request, *self.held, findings)
    }
}

/// The operation as the apiserver spells it (`CREATE`), for logs and metrics labels.
pub(crate) fn operation_name(operation: &Operation) -> &'static str {
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
        cluster_skipped: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::prelude::BASE64_STANDARD;
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

    fn review(webhook: Webhook, body: &[u8]) -> Result<Decision, DecodeError> {
        let request = decode::request(body)?;
        Ok(decide(webhook, &request, &NoCluster).decided().unwrap())
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
        let review: Value = serde_json::from_slice(&decision.encode().unwrap()).unwrap();
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

    /// A view that has every node and no filter but `exists`.
    struct OneFilter;

    impl ClusterView for OneFilter {
        fn availability(&self) -> cluster::Availability<'_> {
            cluster::Availability::Ready
        }
        fn filter_exists(&self, name: &str) -> bool {
            name == "exists"
        }
        fn password_namespace(&self) -> Option<&str> {
            None
        }
        fn secret_key_lengths(
            &self,
            _: &str,
        ) -> Option<&std::collections::BTreeMap<String, usize>> {
            None
        }
        fn node_exists(&self, _: &str) -> bool {
            true
        }
        fn nodes_matching(&self, _: cluster::SelectorRef<'_>) -> cluster::NodeMatch {
            cluster::NodeMatch::default()
        }
        fn peers_at(&self, _: &cluster::ScopeKey, _: cluster::Address) -> Vec<&str> {
            Vec::new()
        }
    }

    #[test]
    fn a_filter_missing_from_the_view_waits_for_confirmation() {
        let spec = json!({"peerIP": "192.0.2.1", "asNumber": 64512,
                          "filters": ["exists", "late", "gone", "late"]});
        let request = decode::request(&body("CREATE", spec)).unwrap();
        let confirm = || match decide(Webhook::Validate, &request, &OneFilter) {
            Outcome::Confirm(confirmation) => confirmation,
            Outcome::Decided(decision) => panic!("decided at once: {decision:?}"),
        };
        let confirmation = confirm();
        assert_eq!(confirmation.filters(), ["late", "gone"]);

        // The API server has "late" (the view lagged) but not "gone".
        let decision = confirmation.finish(&request, Ok(vec!["gone".to_owned()]));
        assert!(!decision.response.allowed);
        assert_eq!(decision.summary.errors, 1);
        assert!(
            decision
                .response
                .result
                .message
                .contains("spec.filters[2]: Not found: \"gone\""),
            "{}",
            decision.response.result.message
        );

        // Everything exists after all: allowed.
        let decision = confirm().finish(&request, Ok(Vec::new()));
        assert!(decision.response.allowed);
        assert_eq!(decision.summary.cluster_skipped, None);

        // The API server could not tell: every cluster check skipped, with one warning.
        let decision = confirm().finish(&request, Err(SkipReason::Timeout));
        assert!(decision.response.allowed);
        assert_eq!(decision.summary.cluster_skipped, Some(SkipReason::Timeout));
        assert_eq!(
            decision.response.warnings,
            Some(vec![SkipReason::Timeout.warning()])
        );

        // /mutate never consults the view.
        assert!(matches!(
            decide(Webhook::Mutate, &request, &OneFilter),
            Outcome::Decided(_)
        ));
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
