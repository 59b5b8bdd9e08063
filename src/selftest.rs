//! The decisions of `bgppeer-webhook selftest`, kept free of I/O so they are unit-tested.
//!
//! The self-test proves, from inside a cluster, that an installed webhook really guards BGPPeers:
//! it asks the API server to create two BGPPeers as a server-side dry run (`dryRun=All`: every
//! admission webhook runs, nothing is stored) and judges the answers:
//!
//! - an invalid peer ([`invalid_peer`]) must be refused with `admission webhook "<validating
//!   webhook>" denied the request`: refused by *this* webhook, not by another one, not by the CRD
//!   schema, and not because the API server could not call it;
//! - a valid peer ([`valid_peer`]) must be admitted, with `spec.sourceAddress: UseNodeIP` added,
//!   which only the mutating webhook does (the CRD has no default for it).
//!
//! The command in `cmd::selftest` performs the two requests and prints [`Report`].

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Value, json};

use bgppeer_core::bgppeer::api;

/// The invalid field of [`invalid_peer`]: port 0 is outside 1-65535.
pub(crate) const INVALID_PEER_IP: &str = "10.0.0.1:0";
/// The default the mutating webhook adds to a BGPPeer without `spec.sourceAddress`.
pub(crate) const DEFAULT_SOURCE_ADDRESS: &str = "UseNodeIP";

/// The two webhooks under test, by the names registered in their webhook configurations.
///
/// The API server quotes these names in its messages, which is how an answer is attributed to
/// this installation rather than to any other admission control in the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Webhooks {
    /// Name of the validating webhook (e.g. `validate.bgppeers.bgppeer-webhook`).
    pub(crate) validating: String,
    /// Name of the mutating webhook (e.g. `mutate.bgppeers.bgppeer-webhook`).
    pub(crate) mutating: String,
}

/// A BGPPeer that every version of the webhook must deny: `peerIP` with port 0.
///
/// `generateName` lets the API server pick a fresh name, so the probe never collides with an
/// existing object. `labels` let the probe match a webhook `objectSelector`.
pub(crate) fn invalid_peer(name_prefix: &str, labels: &BTreeMap<String, String>) -> Value {
    probe(
        name_prefix,
        labels,
        json!({ "peerIP": INVALID_PEER_IP, "asNumber": 64512 }),
    )
}

/// A BGPPeer that every version of the webhook must admit, without `sourceAddress` so that the
/// mutating webhook's default is visible in the answer.
pub(crate) fn valid_peer(name_prefix: &str, labels: &BTreeMap<String, String>) -> Value {
    probe(
        name_prefix,
        labels,
        json!({ "peerIP": "192.0.2.1", "asNumber": 64512 }),
    )
}

fn probe(name_prefix: &str, labels: &BTreeMap<String, String>, spec: Value) -> Value {
    let mut metadata = json!({ "generateName": name_prefix });
    if !labels.is_empty() {
        metadata["labels"] = json!(labels);
    }
    json!({
        "apiVersion": api::CRD_API_VERSION,
        "kind": api::BGP_PEER_KIND,
        "metadata": metadata,
        "spec": spec,
    })
}

/// What the API server answered to one dry-run create.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Answer {
    /// Admitted: the object as it would have been stored (after mutation).
    Admitted(Value),
    /// Refused with a `Status`.
    Refused {
        /// HTTP status code (`Status.code`).
        code: u16,
        /// Machine-readable reason (`Status.reason`), e.g. `Invalid`, `Forbidden`.
        reason: String,
        /// Human-readable message (`Status.message`).
        message: String,
    },
}

/// Who refused a request, read from the API server's message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Refuser<'a> {
    /// `admission webhook "<name>" denied the request...`
    DeniedBy(&'a str),
    /// `failed calling webhook "<name>": ...`: the API server could not get an answer.
    CallFailed(&'a str),
    /// Anything else: the API server itself (schema, RBAC, missing resource).
    ApiServer,
}

fn refuser(message: &str) -> Refuser<'_> {
    if let Some(name) = quoted_after(message, "admission webhook \"")
        && message.contains(&format!("admission webhook \"{name}\" denied the request"))
    {
        return Refuser::DeniedBy(name);
    }
    if let Some(name) = quoted_after(message, "failed calling webhook \"") {
        return Refuser::CallFailed(name);
    }
    Refuser::ApiServer
}

/// The text between `prefix` and the next `"`.
fn quoted_after<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let start = message.find(prefix)? + prefix.len();
    let rest = message.get(start..)?;
    let end = rest.find('"')?;
    rest.get(..end)
}

/// The verdict on one probe: whether it behaved as required, and a sentence saying why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Verdict {
    /// The probe behaved as required.
    pub(crate) passed: bool,
    /// What happened, and on failure what to check.
    pub(crate) explanation: String,
}

impl Verdict {
    fn pass(explanation: String) -> Self {
        Verdict {
            passed: true,
            explanation,
        }
    }

    fn fail(explanation: String) -> Self {
        Verdict {
            passed: false,
            explanation,
        }
    }
}

/// Judges the answer to the invalid probe: it passes only if this installation's validating
/// webhook denied it.
pub(crate) fn judge_invalid(webhooks: &Webhooks, answer: &Answer) -> Verdict {
    match answer {
        Answer::Admitted(_) => Verdict::fail(format!(
            "the invalid BGPPeer (spec.peerIP: {INVALID_PEER_IP:?}) was admitted: the validating \
             webhook {:?} was not called or allowed it. Check that its \
             ValidatingWebhookConfiguration exists, that its objectSelector matches the probe's \
             labels (pass them with --label), and that failurePolicy Ignore is not hiding a \
             failed call",
            webhooks.validating
        )),
        Answer::Refused {
            code,
            reason,
            message,
        } => match refuser(message) {
            Refuser::DeniedBy(name) if name == webhooks.validating => Verdict::pass(format!(
                "the invalid BGPPeer was denied by {name:?}: {message}"
            )),
            Refuser::DeniedBy(name) => Verdict::fail(format!(
                "the invalid BGPPeer was denied by webhook {name:?}, not by {:?}; this \
                 installation's validating webhook was not the one that judged it: {message}",
                webhooks.validating
            )),
            refuser => {
                refused_for_another_reason(webhooks, "invalid", refuser, *code, reason, message)
            }
        },
    }
}

/// Judges the answer to the valid probe: it passes only if the peer was admitted and the mutating
/// webhook added its default `spec.sourceAddress`.
pub(crate) fn judge_valid(webhooks: &Webhooks, answer: &Answer) -> Verdict {
    match answer {
        Answer::Admitted(object) => {
            match object
                .pointer("/spec/sourceAddress")
                .and_then(Value::as_str)
            {
                Some(DEFAULT_SOURCE_ADDRESS) => Verdict::pass(format!(
                    "the valid BGPPeer was admitted, and {:?} set spec.sourceAddress to \
                     {DEFAULT_SOURCE_ADDRESS}",
                    webhooks.mutating
                )),
                found => Verdict::fail(format!(
                    "the valid BGPPeer was admitted, but spec.sourceAddress is {} instead of \
                     {DEFAULT_SOURCE_ADDRESS:?}: the mutating webhook {:?} was not called. Check \
                     that its MutatingWebhookConfiguration exists and that its objectSelector \
                     matches the probe's labels (pass them with --label)",
                    found.map_or_else(|| "missing".to_owned(), |value| format!("{value:?}")),
                    webhooks.mutating
                )),
            }
        }
        Answer::Refused {
            code,
            reason,
            message,
        } => match refuser(message) {
            Refuser::DeniedBy(name) if name == webhooks.validating || name == webhooks.mutating => {
                Verdict::fail(format!(
                    "the valid BGPPeer was denied by this installation's webhook {name:?}, which \
                     must admit it: {message}"
                ))
            }
            Refuser::DeniedBy(name) => Verdict::fail(format!(
                "the valid BGPPeer was denied by another webhook, {name:?}: {message}"
            )),
            refuser => {
                refused_for_another_reason(webhooks, "valid", refuser, *code, reason, message)
            }
        },
    }
}

/// Explains a refusal that no webhook decided: a failed webhook call, or the API server itself.
fn refused_for_another_reason(
    webhooks: &Webhooks,
    probe: &str,
    refuser: Refuser<'_>,
    code: u16,
    reason: &str,
    message: &str,
) -> Verdict {
    let explanation = match refuser {
        Refuser::CallFailed(name) => format!(
            "the API server could not call webhook {name:?} for the {probe} BGPPeer: {message}. \
             Check that the webhook pods are ready, that the Service has endpoints, and that the \
             webhook configuration's caBundle matches the serving certificate"
        ),
        _ if code == 404 => format!(
            "the API server does not serve {}.{} ({code} {reason}): is Calico \
             installed? {message}",
            api::BGP_PEER_RESOURCE,
            api::CRD_API_VERSION
        ),
        _ if code == 403 => format!(
            "the self-test may not create {}.{} ({code} {reason}): its ServiceAccount \
             needs the verb create on them (the chart's test ClusterRole grants it): {message}",
            api::BGP_PEER_RESOURCE,
            api::CRD_GROUP
        ),
        _ => format!(
            "the {probe} BGPPeer was refused by the API server itself ({code} {reason}), not by \
             {:?} or {:?}: {message}",
            webhooks.validating, webhooks.mutating
        ),
    };
    Verdict::fail(explanation)
}

/// The verdicts on both probes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Report {
    /// Verdict on the invalid probe (must be denied).
    pub(crate) invalid: Verdict,
    /// Verdict on the valid probe (must be admitted and defaulted).
    pub(crate) valid: Verdict,
}

impl Report {
    /// Judges both answers.
    pub(crate) fn new(webhooks: &Webhooks, invalid: &Answer, valid: &Answer) -> Self {
        Report {
            invalid: judge_invalid(webhooks, invalid),
            valid: judge_valid(webhooks, valid),
        }
    }

    /// The self-test passed: both probes behaved as required.
    pub(crate) fn passed(&self) -> bool {
        self.invalid.passed && self.valid.passed
    }
}

impl fmt::Display for Report {
    /// One line per probe (`PASS`/`FAIL` and why), then the overall result.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (probe, verdict) in [
            ("invalid BGPPeer", &self.invalid),
            ("valid BGPPeer", &self.valid),
        ] {
            let mark = if verdict.passed { "PASS" } else { "FAIL" };
            writeln!(f, "{mark} {probe}: {}", verdict.explanation)?;
        }
        if self.passed() {
            write!(
                f,
                "selftest passed: the webhook denies invalid BGPPeers and defaults valid ones"
            )
        } else {
            write!(f, "selftest failed")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webhooks() -> Webhooks {
        Webhooks {
            validating: "validate.bgppeers.bgppeer-webhook".to_owned(),
            mutating: "mutate.bgppeers.bgppeer-webhook".to_owned(),
        }
    }

    fn refused(code: u16, reason: &str, message: &str) -> Answer {
        Answer::Refused {
            code,
            reason: reason.to_owned(),
            message: message.to_owned(),
        }
    }

    /// The message shape recorded from a real kube-apiserver
    /// (tests/fixtures/admission/denial-as-returned-to-client.json), with this webhook's name.
    const DENIAL: &str = "admission webhook \"validate.bgppeers.bgppeer-webhook\" denied the \
        request: BGPPeer.crd.projectcalico.org \"selftest-x\" is invalid: spec.peerIP: Invalid \
        value: \"10.0.0.1:0\": port must be between 1 and 65535";

    #[test]
    fn denial_by_this_validating_webhook_passes() {
        let verdict = judge_invalid(&webhooks(), &refused(422, "Invalid", DENIAL));
        assert!(verdict.passed, "{verdict:?}");
        assert!(
            verdict
                .explanation
                .contains("port must be between 1 and 65535")
        );
    }

    #[test]
    fn recorded_denial_is_recognised_by_its_webhook_name() {
        let recorded: Value = serde_json::from_str(include_str!(
            "../tests/fixtures/admission/denial-as-returned-to-client.json"
        ))
        .unwrap();
        let answer = refused(
            recorded["code"].as_u64().unwrap() as u16,
            recorded["reason"].as_str().unwrap(),
            recorded["message"].as_str().unwrap(),
        );
        let recorded_names = Webhooks {
            validating: "validate.bgppeers.bgppeer-webhook.io".to_owned(),
            mutating: "mutate.bgppeers.bgppeer-webhook.io".to_owned(),
        };
        assert!(judge_invalid(&recorded_names, &answer).passed);
        // The same answer does not count for an installation with other webhook names.
        assert!(!judge_invalid(&webhooks(), &answer).passed);
    }

    #[test]
    fn denial_without_explanation_still_counts() {
        let message = "admission webhook \"validate.bgppeers.bgppeer-webhook\" denied the request without explanation";
        assert!(judge_invalid(&webhooks(), &refused(400, "BadRequest", message)).passed);
    }

    #[test]
    fn denial_by_another_webhook_fails_and_names_it() {
        let message = "admission webhook \"policy.example.com\" denied the request: no";
        let verdict = judge_invalid(&webhooks(), &refused(400, "BadRequest", message));
        assert!(!verdict.passed);
        assert!(
            verdict.explanation.contains("\"policy.example.com\""),
            "{verdict:?}"
        );
    }

    #[test]
    fn a_webhook_name_that_only_starts_like_ours_is_not_ours() {
        let message =
            "admission webhook \"validate.bgppeers.bgppeer-webhook-other\" denied the request: no";
        assert!(!judge_invalid(&webhooks(), &refused(422, "Invalid", message)).passed);
    }

    #[test]
    fn denial_by_the_mutating_webhook_is_not_the_validating_webhook_working() {
        let message = "admission webhook \"mutate.bgppeers.bgppeer-webhook\" denied the request: x";
        assert!(!judge_invalid(&webhooks(), &refused(422, "Invalid", message)).passed);
    }

    #[test]
    fn admitted_invalid_peer_fails_with_a_hint() {
        let verdict = judge_invalid(&webhooks(), &Answer::Admitted(json!({})));
        assert!(!verdict.passed);
        assert!(verdict.explanation.contains("was admitted"));
        assert!(verdict.explanation.contains("objectSelector"));
    }

    #[test]
    fn failed_webhook_call_fails_and_says_so() {
        let message = "Internal error occurred: failed calling webhook \
            \"validate.bgppeers.bgppeer-webhook\": failed to call webhook: Post \
            \"https://bgppeer-webhook.net.svc:443/validate?timeout=5s\": x509: certificate signed \
            by unknown authority";
        for verdict in [
            judge_invalid(&webhooks(), &refused(500, "InternalError", message)),
            judge_valid(&webhooks(), &refused(500, "InternalError", message)),
        ] {
            assert!(!verdict.passed);
            assert!(
                verdict.explanation.contains("could not call webhook"),
                "{verdict:?}"
            );
            assert!(verdict.explanation.contains("caBundle"), "{verdict:?}");
        }
    }

    #[test]
    fn refusal_by_the_api_server_itself_fails() {
        let schema = "BGPPeer.crd.projectcalico.org \"x\" is invalid: spec.asNumber: Invalid \
            value: \"string\": spec.asNumber in body must be of type integer";
        let verdict = judge_invalid(&webhooks(), &refused(422, "Invalid", schema));
        assert!(!verdict.passed);
        assert!(verdict.explanation.contains("API server itself"));
    }

    #[test]
    fn missing_crd_and_missing_permission_are_explained() {
        let not_found = judge_valid(
            &webhooks(),
            &refused(
                404,
                "NotFound",
                "the server could not find the requested resource",
            ),
        );
        assert!(!not_found.passed);
        assert!(not_found.explanation.contains("is Calico installed"));

        let forbidden = judge_valid(
            &webhooks(),
            &refused(
                403,
                "Forbidden",
                "bgppeers.crd.projectcalico.org is forbidden",
            ),
        );
        assert!(!forbidden.passed);
        assert!(forbidden.explanation.contains("verb create"));
    }

    #[test]
    fn valid_peer_defaulted_by_the_mutating_webhook_passes() {
        let mut object = valid_peer("p-", &BTreeMap::new());
        object["spec"]["sourceAddress"] = json!("UseNodeIP");
        let verdict = judge_valid(&webhooks(), &Answer::Admitted(object));
        assert!(verdict.passed, "{verdict:?}");
    }

    #[test]
    fn valid_peer_admitted_without_the_default_fails() {
        let verdict = judge_valid(
            &webhooks(),
            &Answer::Admitted(valid_peer("p-", &BTreeMap::new())),
        );
        assert!(!verdict.passed);
        assert!(verdict.explanation.contains("missing"), "{verdict:?}");
        assert!(
            verdict
                .explanation
                .contains("mutate.bgppeers.bgppeer-webhook")
        );
    }

    #[test]
    fn valid_peer_denied_by_this_webhook_fails() {
        let message = DENIAL;
        let verdict = judge_valid(&webhooks(), &refused(422, "Invalid", message));
        assert!(!verdict.passed);
        assert!(verdict.explanation.contains("must admit it"));
    }

    #[test]
    fn probes_are_well_formed_bgppeers_with_labels() {
        let labels = BTreeMap::from([("team".to_owned(), "net".to_owned())]);
        let invalid = invalid_peer("bgppeer-webhook-selftest-", &labels);
        assert_eq!(invalid["apiVersion"], "crd.projectcalico.org/v1");
        assert_eq!(invalid["kind"], "BGPPeer");
        assert_eq!(
            invalid["metadata"]["generateName"],
            "bgppeer-webhook-selftest-"
        );
        assert_eq!(invalid["metadata"]["labels"]["team"], "net");
        assert_eq!(invalid["spec"]["peerIP"], INVALID_PEER_IP);
        let valid = valid_peer("p-", &BTreeMap::new());
        assert!(valid["metadata"].get("labels").is_none());
        assert!(valid["spec"].get("sourceAddress").is_none());
    }

    #[test]
    fn report_passes_only_when_both_probes_pass_and_prints_one_line_each() {
        let mut defaulted = valid_peer("p-", &BTreeMap::new());
        defaulted["spec"]["sourceAddress"] = json!("UseNodeIP");
        let good = Report::new(
            &webhooks(),
            &refused(422, "Invalid", DENIAL),
            &Answer::Admitted(defaulted),
        );
        assert!(good.passed());
        let text = good.to_string();
        assert!(text.starts_with("PASS invalid BGPPeer: "), "{text}");
        assert!(text.contains("\nPASS valid BGPPeer: "), "{text}");
        assert!(text.ends_with(
            "selftest passed: the webhook denies invalid BGPPeers and defaults valid ones"
        ));

        let bad = Report::new(
            &webhooks(),
            &Answer::Admitted(json!({})),
            &refused(422, "Invalid", DENIAL),
        );
        assert!(!bad.passed());
        let text = bad.to_string();
        assert!(text.contains("FAIL invalid BGPPeer: "), "{text}");
        assert!(text.contains("FAIL valid BGPPeer: "), "{text}");
        assert!(text.ends_with("selftest failed"));
    }

    #[test]
    fn quoted_after_handles_truncated_messages() {
        assert_eq!(
            refuser("admission webhook \"unterminated"),
            Refuser::ApiServer
        );
        assert_eq!(refuser(""), Refuser::ApiServer);
        assert_eq!(
            refuser("failed calling webhook \"a.b.c\": x"),
            Refuser::CallFailed("a.b.c")
        );
    }
}
