//! `serve --audit-interval`: the stored BGPPeers audited from the cluster checks' caches on an
//! interval, in the background. Every replica exports the outcome as gauges and logs each newly
//! found problem once; the replica holding the audit Lease (leader election) also records each
//! one as a Kubernetes Event on the BGPPeer, so that `kubectl describe` shows it.
//!
//! I/O: reads the index of [`Checker`], confirms filter misses with live GETs (as the webhook
//! does before denying), writes Events and the Lease. The audit itself is [`crate::audit`].

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use k8s_openapi::api::core::v1::ObjectReference;
use kube::runtime::events::{Event, EventType, Recorder, Reporter};
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::watch;

use super::metrics::Metrics;
use crate::audit::{self, Audit, Confirmation};
use crate::cluster::{Checker, ClusterView};
use bgppeer_core::admission::cluster::{Availability, SkipReason};
use bgppeer_core::bgppeer::api::BGP_PEER_KIND;

/// The reporting controller of the Events.
pub(crate) const CONTROLLER: &str = "bgppeer-webhook";
/// The reason of an Event about an error (the peer breaks a rule).
pub(crate) const REASON_INVALID: &str = "InvalidBGPPeer";
/// The reason of an Event about a warning.
pub(crate) const REASON_WARNING: &str = "BGPPeerWarning";
/// The most bytes of an Event's note (the API server refuses more than 1 kB).
const MAX_NOTE_BYTES: usize = 1024;
/// The most Events recorded per audit; the others wait for the next one (a cluster full of
/// invalid peers must not flood the API server).
const MAX_EVENTS_PER_AUDIT: usize = 100;
/// How long the live lookups of one audit may take.
const LOOKUP_BUDGET: Duration = Duration::from_secs(10);
/// The Lease's duration, and how long before its end the holder renews it.
const LEASE_SECONDS: u64 = 15;
const LEASE_GRACE_SECONDS: u64 = 5;

/// How the periodic audit runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditSettings {
    /// Time between two audits.
    pub interval: Duration,
    /// Record Events (leader only) when set.
    pub events: Option<EventSettings>,
}

/// Where the leader election's Lease lives and who this replica is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventSettings {
    /// The namespace of the Lease (the release namespace).
    pub lease_namespace: String,
    /// The name of the Lease.
    pub lease_name: String,
    /// This replica's identity in the Lease (the pod name).
    pub identity: String,
}

/// One problem as reported: which peer, error or warning, and its text.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Problem {
    name: String,
    api_version: &'static str,
    uid: Option<String>,
    error: bool,
    message: String,
}

/// Runs the audit every `settings.interval` until the task is aborted.
pub(crate) async fn run(checker: Checker, settings: AuditSettings, metrics: Arc<Metrics>) {
    let leader = settings
        .events
        .as_ref()
        .map(|events| elect(&checker, events));
    let recorder = settings.events.as_ref().map(|events| {
        Recorder::new(
            checker.client().clone(),
            Reporter {
                controller: CONTROLLER.to_owned(),
                instance: Some(events.identity.clone()),
            },
        )
    });
    // Problems already logged (all replicas), and already recorded as Events (the leader).
    let mut logged: HashSet<Problem> = HashSet::new();
    let mut recorded: HashSet<Problem> = HashSet::new();
    let mut waiting_logged = false;
    let mut ticker = tokio::time::interval(settings.interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(audit) = audit_once(&checker).await else {
            if !waiting_logged {
                tracing::info!("audit waits for the cluster caches to sync");
                waiting_logged = true;
            }
            continue;
        };
        waiting_logged = false;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| {
                i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
            });
        metrics.observe_audit(audit.invalid(), audit.warnings(), now);
        let problems = problems(&audit);
        for problem in news(&problems, &logged) {
            if problem.error {
                tracing::warn!(bgppeer = %problem.name, error = %problem.message, "audit: stored BGPPeer is invalid");
            } else {
                tracing::info!(bgppeer = %problem.name, warning = %problem.message, "audit: stored BGPPeer has a warning");
            }
        }
        for note in &audit.notes {
            tracing::debug!(note = %note, "audit note");
        }
        let is_leader = leader.as_ref().is_some_and(|leader| *leader.borrow());
        match (&recorder, is_leader) {
            (Some(recorder), true) => {
                record(recorder, &problems, &mut recorded).await;
                // A problem that went away is forgotten: if it comes back, it is news again.
                recorded.retain(|problem| problems.contains(problem));
            }
            // Not the leader (any more): the next leader records what is current.
            _ => recorded.clear(),
        }
        logged = problems;
    }
}

/// One audit of the caches, or `None` when they cannot be trusted yet (not synced, API server
/// unreachable before they synced).
async fn audit_once(checker: &Checker) -> Option<Audit> {
    // The static rules run outside the index's lock: the watches wait for it to apply events,
    // and requests wait behind a waiting watch. A peer deleted in between is audited once more
    // (and gone at the next audit).
    let stored = {
        let index = checker.view();
        if !matches!(index.availability(), Availability::Ready) {
            return None;
        }
        audit::stored(&index)
    };
    let validated = audit::validate(stored);
    let pending = audit::check_validated(validated, &checker.view());
    let names = pending.unconfirmed_filters();
    if names.is_empty() {
        return Some(pending.finish(Confirmation::Missing(&[])));
    }
    let audit = match tokio::time::timeout(LOOKUP_BUDGET, checker.missing_filters(names)).await {
        Ok(Ok(missing)) => pending.finish(Confirmation::Missing(&missing)),
        Ok(Err(reason)) => pending.finish(Confirmation::Failed(&reason)),
        Err(_) => pending.finish(Confirmation::Failed(&SkipReason::Timeout)),
    };
    Some(audit)
}

/// The problems of this audit not reported after the last one, in a stable order (by peer,
/// errors first). A problem that went away and came back is news again.
fn news<'a>(problems: &'a HashSet<Problem>, reported: &HashSet<Problem>) -> Vec<&'a Problem> {
    let mut news: Vec<&Problem> = problems.iter().filter(|p| !reported.contains(*p)).collect();
    news.sort_by(|a, b| (&a.name, !a.error, &a.message).cmp(&(&b.name, !b.error, &b.message)));
    news
}

/// Every error and warning of an audit, as problems.
fn problems(audit: &Audit) -> HashSet<Problem> {
    let mut problems = HashSet::new();
    for peer in &audit.peers {
        let problem = |error: bool, message: String| Problem {
            name: peer.name.clone(),
            api_version: peer.group.api_version(),
            uid: peer.uid.clone(),
            error,
            message,
        };
        for error in &peer.errors {
            problems.insert(problem(true, error.to_string()));
        }
        for warning in &peer.warnings {
            problems.insert(problem(false, warning.clone()));
        }
    }
    problems
}

/// Records an Event for each problem not recorded yet (at most [`MAX_EVENTS_PER_AUDIT`]); a
/// failed one is retried at the next audit.
async fn record(recorder: &Recorder, problems: &HashSet<Problem>, recorded: &mut HashSet<Problem>) {
    for problem in news(problems, recorded)
        .into_iter()
        .take(MAX_EVENTS_PER_AUDIT)
    {
        let reference = ObjectReference {
            api_version: Some(problem.api_version.to_owned()),
            kind: Some(BGP_PEER_KIND.to_owned()),
            name: Some(problem.name.clone()),
            uid: problem.uid.clone(),
            ..ObjectReference::default()
        };
        let event = Event {
            type_: EventType::Warning,
            reason: if problem.error {
                REASON_INVALID
            } else {
                REASON_WARNING
            }
            .to_owned(),
            note: Some(note(&problem.message)),
            action: "Audit".to_owned(),
            secondary: None,
        };
        match recorder.publish(&event, &reference).await {
            Ok(()) => {
                recorded.insert(problem.clone());
            }
            Err(error) => {
                let request = crate::cluster::api_error::Request {
                    verb: "create",
                    resource: "events.events.k8s.io",
                    namespace: Some("default"),
                    server: "the API server",
                };
                tracing::warn!(
                    bgppeer = %problem.name,
                    error = %crate::cluster::api_error::plain(&error, &request),
                    "audit: cannot record an Event; retrying at the next audit"
                );
                return;
            }
        }
    }
}

/// An Event note: the message, cut at [`MAX_NOTE_BYTES`] on a character boundary.
fn note(message: &str) -> String {
    if message.len() <= MAX_NOTE_BYTES {
        return message.to_owned();
    }
    let mut end = MAX_NOTE_BYTES - 3;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &message[..end])
}

/// Starts the leader election in the background; the receiver says whether this replica leads
/// now. Until the Lease can be set up (retried every [`LEASE_SECONDS`]), this replica does not
/// lead: Events are an extra, the metrics and logs go on. Dropping the receiver ends the
/// election and releases the Lease.
fn elect(checker: &Checker, events: &EventSettings) -> watch::Receiver<bool> {
    let (state, receiver) = watch::channel(false);
    let client = checker.client().clone();
    let events = events.clone();
    tokio::spawn(async move {
        let mut warned = false;
        let manager = loop {
            let built = LeaseManagerBuilder::new(client.clone(), &events.lease_name)
                .with_namespace(&events.lease_namespace)
                .with_identity(&events.identity)
                .with_duration(LEASE_SECONDS)
                .with_grace(LEASE_GRACE_SECONDS)
                .build()
                .await;
            match built {
                Ok(manager) => break manager,
                Err(error) => {
                    if !warned {
                        tracing::warn!(
                            lease = %format!("{}/{}", events.lease_namespace, events.lease_name),
                            error = %lease_error(&error, &events.lease_namespace),
                            "audit: cannot set up the Lease of the leader election; no Events \
                             until it can (retrying)"
                        );
                        warned = true;
                    }
                }
            }
            tokio::select! {
                () = state.closed() => return,
                () = tokio::time::sleep(Duration::from_secs(LEASE_SECONDS)) => {}
            }
        };
        let (mut leader, task) = manager.watch().await;
        loop {
            tokio::select! {
                changed = leader.changed() => {
                    if changed.is_err() {
                        break;
                    }
                    let leads = *leader.borrow_and_update();
                    tracing::info!(identity = %events.identity, leads, "audit: leader election");
                    state.send_replace(leads);
                }
                () = state.closed() => break,
            }
        }
        state.send_replace(false);
        // Dropping the receiver makes the election release the Lease and stop.
        drop(leader);
        if let Ok(Err(error)) = task.await {
            tracing::warn!(error = %lease_error(&error, &events.lease_namespace), "audit: the leader election stopped");
        }
    });
    receiver
}

/// A leader election error in plain words.
fn lease_error(error: &kube_lease_manager::LeaseManagerError, namespace: &str) -> String {
    match error {
        kube_lease_manager::LeaseManagerError::KubeError(error) => {
            crate::cluster::api_error::plain(
                error,
                &crate::cluster::api_error::Request {
                    verb: "get, create or update",
                    resource: "leases.coordination.k8s.io",
                    namespace: Some(namespace),
                    server: "the API server",
                },
            )
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(name: &str, error: bool, message: &str) -> Problem {
        Problem {
            name: name.to_owned(),
            api_version: "crd.projectcalico.org/v1",
            uid: None,
            error,
            message: message.to_owned(),
        }
    }

    #[test]
    fn only_new_problems_are_news_and_a_returning_one_is_news_again() {
        let first: HashSet<Problem> = [
            problem("b", false, "w"),
            problem("b", true, "e"),
            problem("a", false, "w"),
        ]
        .into_iter()
        .collect();
        let order: Vec<(&str, bool)> = news(&first, &HashSet::new())
            .iter()
            .map(|p| (p.name.as_str(), p.error))
            .collect();
        assert_eq!(order, [("a", false), ("b", true), ("b", false)]);
        // The same audit again: nothing new.
        assert!(news(&first, &first).is_empty());
        // One problem fixed, then back.
        let second: HashSet<Problem> = first.iter().filter(|p| p.name == "b").cloned().collect();
        assert!(news(&second, &first).is_empty());
        assert_eq!(news(&first, &second), [&problem("a", false, "w")]);
    }

    #[test]
    fn notes_are_cut_on_a_character_boundary() {
        assert_eq!(note("short"), "short");
        let long = "é".repeat(1000);
        let cut = note(&long);
        assert!(cut.len() <= MAX_NOTE_BYTES, "{}", cut.len());
        assert!(cut.ends_with("..."));
    }
}
