//! The audit of the BGPPeers already stored in a cluster: every stored peer (each once, even
//! when both Calico API groups serve it) through the static rules and every cluster rule, with
//! the same code the webhook's decisions use ([`bgppeer::validate`] and
//! [`rules::check`] over the [`Index`] as its [`ClusterView`]), so that a rule added there applies
//! here too. Pure: no I/O. The index is filled by the caller: listed once by `audit`
//! (`crate::cluster::snapshot`), or kept by the watches of `serve --audit-interval`.
//!
//! Two steps, because a filter the index lacks is confirmed before it is reported (as the
//! webhook confirms it before denying): [`check`] runs every rule under the index's read lock and
//! returns a [`Pending`] audit that owns what it needs; the caller confirms
//! [`Pending::unconfirmed_filters`] (or knows them missing) and calls [`Pending::finish`].
//!
//! - [`text`] and [`json`]: the two reports of `audit -o text|json`.

use std::collections::BTreeSet;

use bgppeer_core::admission::cluster::{
    Availability, Checked, ClusterView, FilterMiss, Findings, SkipReason, rules,
};
use bgppeer_core::bgppeer::warnings::MAX_WARNINGS;
use bgppeer_core::bgppeer::{self, ApiGroup, Report};
use bgppeer_core::field::FieldError;

use crate::cluster::index::{Index, StoredPeer};

pub mod json;
pub mod text;

/// The audit before the filter misses are confirmed.
#[derive(Debug)]
pub struct Pending {
    peers: Vec<PendingPeer>,
    /// Why the cluster rules did not run (the index cannot be trusted), if they did not.
    skipped: Option<SkipReason>,
}

#[derive(Debug)]
struct PendingPeer {
    stored: StoredPeer,
    report: Report,
    checked: Checked,
}

/// How the filter misses were settled.
#[derive(Clone, Copy, Debug)]
pub enum Confirmation<'a> {
    /// These names (of [`Pending::unconfirmed_filters`]) exist nowhere; the others do.
    Missing(&'a [String]),
    /// They could not be confirmed: the peers with a miss get no cluster findings, only this
    /// reason (as a webhook request whose lookup failed).
    Failed(&'a SkipReason),
}

/// Runs every rule on every stored peer of `index`, sorted by name.
pub fn check(index: &Index) -> Pending {
    check_validated(validate(stored(index)), index)
}

/// The stored peers of `index` (each once, by name): a cheap copy (the objects are shared), so
/// that a caller holding the index's lock can release it for [`validate`].
pub fn stored(index: &Index) -> Vec<StoredPeer> {
    index.peers().into_iter().cloned().collect()
}

/// The static rules on each stored peer; needs no index (run it outside the index's lock).
pub fn validate(peers: Vec<StoredPeer>) -> Vec<Validated> {
    peers
        .into_iter()
        .map(|stored| Validated {
            report: bgppeer::validate(stored.group, &stored.object),
            stored,
        })
        .collect()
}

/// A stored peer and its static report.
#[derive(Debug)]
pub struct Validated {
    stored: StoredPeer,
    report: Report,
}

/// The cluster rules on validated peers, over `view` (the index, under its lock: only map
/// lookups and cached selector matches).
pub fn check_validated(peers: Vec<Validated>, view: &Index) -> Pending {
    let skipped = match view.availability() {
        Availability::Skipped(reason) => Some(reason.clone()),
        Availability::Ready | Availability::Off => None,
    };
    let peers = peers
        .into_iter()
        .map(|Validated { stored, report }| {
            let checked = rules::check(&report.peer, &stored.object, view);
            PendingPeer {
                stored,
                report,
                checked,
            }
        })
        .collect();
    Pending { peers, skipped }
}

impl Pending {
    /// The filter names some peer refers to and the index lacks, each once, sorted.
    pub fn unconfirmed_filters(&self) -> Vec<String> {
        let names: BTreeSet<&str> = self
            .peers
            .iter()
            .flat_map(|peer| &peer.checked.unconfirmed)
            .map(|miss| miss.name.as_str())
            .collect();
        names.into_iter().map(str::to_owned).collect()
    }

    /// The audit, once the filter misses are settled.
    pub fn finish(self, confirmation: Confirmation<'_>) -> Audit {
        let mut notes = Vec::new();
        if let Some(reason) = &self.skipped {
            notes.push(format!(
                "cluster checks skipped ({reason}); only the static rules were applied"
            ));
        }
        let peers = self
            .peers
            .into_iter()
            .map(|peer| {
                let Checked {
                    findings,
                    unconfirmed,
                } = peer.checked;
                let findings = if unconfirmed.is_empty() {
                    findings
                } else {
                    match confirmation {
                        Confirmation::Missing(missing) => {
                            let confirmed: Vec<FilterMiss> = unconfirmed
                                .into_iter()
                                .filter(|miss| missing.contains(&miss.name))
                                .collect();
                            rules::resolve(findings, &confirmed)
                        }
                        Confirmation::Failed(reason) => Findings::skipped(reason.clone()),
                    }
                };
                let (cluster_errors, cluster_warnings) = match &findings.skipped {
                    // The reason is said once, as a note, not once per peer.
                    Some(reason) => {
                        let note = format!(
                            "cluster checks skipped ({reason}); only the static rules were applied"
                        );
                        if !notes.contains(&note) {
                            notes.push(note);
                        }
                        (Vec::new(), Vec::new())
                    }
                    None => (
                        findings.errors.shown().collect::<Vec<_>>(),
                        findings.warnings,
                    ),
                };
                let error_count = peer
                    .report
                    .errors
                    .len()
                    .saturating_add(findings.errors.len());
                let mut errors: Vec<FieldError> = peer.report.errors.shown().collect();
                errors.extend(cluster_errors);
                let mut warnings = peer.report.warnings;
                warnings.extend(cluster_warnings);
                PeerAudit {
                    name: peer.stored.name,
                    group: peer.stored.group,
                    uid: peer.stored.uid,
                    errors,
                    error_count,
                    warnings: capped(warnings),
                }
            })
            .collect();
        Audit { peers, notes }
    }
}

/// At most [`MAX_WARNINGS`] warnings, the last saying how many more there were.
fn capped(mut warnings: Vec<String>) -> Vec<String> {
    if warnings.len() > MAX_WARNINGS {
        let more = warnings.len() - (MAX_WARNINGS - 1);
        warnings.truncate(MAX_WARNINGS - 1);
        warnings.push(format!("{more} more warnings not shown"));
    }
    warnings
}

/// What the audit found.
#[derive(Debug, Default)]
pub struct Audit {
    /// Every stored peer, by name.
    pub peers: Vec<PeerAudit>,
    /// What could not be checked, and why (said once).
    pub notes: Vec<String>,
}

/// What the audit found about one stored peer.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerAudit {
    /// `metadata.name`.
    pub name: String,
    /// The API group of the copy audited (`crd.projectcalico.org` when both serve it).
    pub group: ApiGroup,
    /// `metadata.uid`, when known.
    pub uid: Option<String>,
    /// The errors shown: the static rules', then the cluster rules' (each list bounded, ending
    /// with a "more errors not shown" error when it was cut).
    pub errors: Vec<FieldError>,
    /// How many errors there are in all, shown or not.
    pub error_count: usize,
    /// The warnings, static then cluster (at most [`MAX_WARNINGS`]).
    pub warnings: Vec<String>,
}

impl PeerAudit {
    /// Whether the peer breaks no rule.
    pub fn is_valid(&self) -> bool {
        self.error_count == 0
    }
}

impl Audit {
    /// How many peers break a rule.
    pub fn invalid(&self) -> usize {
        self.peers.iter().filter(|peer| !peer.is_valid()).count()
    }

    /// How many errors, over every peer.
    pub fn errors(&self) -> usize {
        self.peers
            .iter()
            .fold(0, |sum: usize, peer| sum.saturating_add(peer.error_count))
    }

    /// How many warnings, over every peer.
    pub fn warnings(&self) -> usize {
        self.peers.iter().map(|peer| peer.warnings.len()).sum()
    }

    /// 0 when every peer is valid, 1 otherwise.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.invalid() > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::index::{Item, Source};
    use crate::cluster::status::SourceStatus;
    use serde_json::{Value, json};

    fn ready() -> Index {
        let mut index = Index::new(None);
        for source in index.sources() {
            index.set_status(source, SourceStatus::Synced);
        }
        index
    }

    fn stored(group: ApiGroup, name: &str, spec: Value) -> Item {
        Item::Peer(StoredPeer::from_spec(group, name.to_owned(), &spec))
    }

    #[test]
    fn every_rule_runs_on_every_stored_peer_and_a_peer_is_not_its_own_duplicate() {
        let mut index = ready();
        index.replace(
            Source::Nodes,
            vec![Item::Node("n1".into(), Default::default(), Vec::new())],
        );
        index.replace(
            Source::Filters(ApiGroup::CrdV1),
            vec![Item::Filter("f".into())],
        );
        for group in [ApiGroup::CrdV1, ApiGroup::V3] {
            index.replace(
                Source::Peers(group),
                vec![
                    stored(
                        group,
                        "alone",
                        json!({"peerIP": "10.0.0.9", "asNumber": 64512}),
                    ),
                    stored(
                        group,
                        "bad-port",
                        json!({"peerIP": "10.0.0.1:0", "asNumber": 1}),
                    ),
                    stored(group, "dup-a", json!({"peerIP": "10.0.0.2", "asNumber": 1})),
                    stored(
                        group,
                        "dup-b",
                        json!({"peerIP": "10.0.0.2:179", "asNumber": 1}),
                    ),
                    stored(
                        group,
                        "no-filter",
                        json!({"peerIP": "10.0.0.3", "asNumber": 1, "filters": ["f", "gone"]}),
                    ),
                ],
            );
        }
        let pending = check(&index);
        assert_eq!(pending.unconfirmed_filters(), ["gone"]);
        let audit = pending.finish(Confirmation::Missing(&["gone".to_owned()]));
        let names: Vec<&str> = audit.peers.iter().map(|p| p.name.as_str()).collect();
        // Served by both groups, counted once.
        assert_eq!(names, ["alone", "bad-port", "dup-a", "dup-b", "no-filter"]);
        assert!(audit.peers.iter().all(|p| p.group == ApiGroup::CrdV1));
        let by_name = |name: &str| audit.peers.iter().find(|p| p.name == name).unwrap();
        assert!(by_name("alone").is_valid() && by_name("alone").warnings.is_empty());
        assert_eq!(by_name("bad-port").error_count, 1);
        assert_eq!(
            by_name("dup-a").warnings,
            [
                "spec.peerIP: BGPPeer \"dup-b\" already peers with 10.0.0.2 port 179 in the same \
              scope: the same BGP session twice"
            ]
        );
        let missing = by_name("no-filter");
        assert_eq!(missing.errors.len(), 1);
        assert_eq!(missing.errors[0].path.to_string(), "spec.filters[1]");
        assert_eq!(
            (audit.invalid(), audit.errors(), audit.exit_code()),
            (2, 2, 1)
        );
        assert!(audit.notes.is_empty());
    }

    #[test]
    fn unconfirmed_misses_and_an_untrusted_index_are_notes_not_findings() {
        let mut index = ready();
        index.replace(
            Source::Peers(ApiGroup::CrdV1),
            vec![stored(
                ApiGroup::CrdV1,
                "p",
                json!({"peerIP": "10.0.0.3", "asNumber": 1, "filters": ["gone"]}),
            )],
        );
        let audit = check(&index).finish(Confirmation::Failed(&SkipReason::Timeout));
        assert!(audit.peers[0].is_valid() && audit.peers[0].warnings.is_empty());
        assert_eq!(
            audit.notes,
            [
                "cluster checks skipped (the API server did not answer in time); only the static \
              rules were applied"
            ]
        );

        index.set_status(
            Source::Nodes,
            SourceStatus::ApiError("403 Forbidden".into()),
        );
        let audit = check(&index).finish(Confirmation::Missing(&[]));
        assert_eq!(audit.notes.len(), 1, "{:?}", audit.notes);
        assert!(
            audit.notes[0].contains("nodes: 403 Forbidden"),
            "{:?}",
            audit.notes
        );
        assert!(audit.peers[0].is_valid());
    }

    #[test]
    fn warnings_are_capped() {
        let many: Vec<String> = (0..100).map(|n| format!("w{n}")).collect();
        let capped = capped(many);
        assert_eq!(capped.len(), MAX_WARNINGS);
        assert_eq!(capped[MAX_WARNINGS - 1], "71 more warnings not shown");
    }
}
