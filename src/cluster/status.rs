//! The state of each watch cache and whether, together, they can be trusted.

use bgppeer_core::admission::cluster::SkipReason;

/// The state of one watch cache.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceStatus {
    /// The initial list has not completed yet.
    Pending,
    /// The initial list completed; the cache follows the watch from there. It stays synced
    /// across watch reconnects (the contents may then lag, which live lookups cover).
    Synced,
    /// The API server does not serve this resource (404: the CRD or the aggregated API of that
    /// group is not installed). The cache is treated as empty, not as unsynced, so that a
    /// cluster with only one of the two Calico API groups is fully checked.
    Absent,
    /// The API server could not be reached before the cache synced.
    Unreachable(String),
    /// The API server refused the list or watch (403 without the RBAC, 5xx, ...) before the
    /// cache synced.
    ApiError(String),
}

impl SourceStatus {}

/// Why the caches, taken together, cannot be used, or `None` when they all can.
///
/// An unreachable API server is reported first (it explains the rest), then refusals, then the
/// caches still syncing. `sources` pairs each cache's name (`bgpfilters.crd.projectcalico.org`)
/// with its state.
pub fn availability(sources: &[(String, SourceStatus)]) -> Option<SkipReason> {
    if let Some(detail) = sources.iter().find_map(|(_, status)| match status {
        SourceStatus::Unreachable(detail) => Some(detail.clone()),
        _ => None,
    }) {
        return Some(SkipReason::Unreachable { detail });
    }
    if let Some(detail) = sources.iter().find_map(|(name, status)| match status {
        SourceStatus::ApiError(detail) => Some(format!("{name}: {detail}")),
        _ => None,
    }) {
        return Some(SkipReason::ApiError { detail });
    }
    let pending: Vec<String> = sources
        .iter()
        .filter(|(_, status)| *status == SourceStatus::Pending)
        .map(|(name, _)| name.clone())
        .collect();
    if pending.is_empty() {
        None
    } else {
        Some(SkipReason::NotSynced { sources: pending })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn named(list: &[(&str, SourceStatus)]) -> Vec<(String, SourceStatus)> {
        list.iter()
            .map(|(name, status)| (name.to_string(), status.clone()))
            .collect()
    }

    #[test]
    fn absent_groups_do_not_block_the_checks() {
        let sources = named(&[
            ("bgpfilters.crd.projectcalico.org", SourceStatus::Synced),
            ("bgpfilters.projectcalico.org", SourceStatus::Absent),
        ]);
        assert_eq!(availability(&sources), None);
    }

    #[test]
    fn unreachable_wins_over_pending() {
        let sources = named(&[
            ("nodes", SourceStatus::Pending),
            (
                "bgppeers.crd.projectcalico.org",
                SourceStatus::Unreachable("refused".into()),
            ),
        ]);
        assert_eq!(
            availability(&sources),
            Some(SkipReason::Unreachable {
                detail: "refused".into()
            })
        );
    }

    #[test]
    fn pending_sources_are_named() {
        let sources = named(&[
            ("nodes", SourceStatus::Pending),
            ("bgppeers.crd.projectcalico.org", SourceStatus::Synced),
            ("secrets", SourceStatus::Pending),
        ]);
        assert_eq!(
            availability(&sources),
            Some(SkipReason::NotSynced {
                sources: vec!["nodes".into(), "secrets".into()]
            })
        );
        let refused = named(&[("nodes", SourceStatus::ApiError("403 Forbidden".into()))]);
        assert_eq!(
            availability(&refused).map(|reason| reason.label()),
            Some("api_error")
        );
    }
}
