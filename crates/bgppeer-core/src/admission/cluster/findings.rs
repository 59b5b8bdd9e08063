//! What the cluster checks found about one BGPPeer: errors that deny, warnings that inform, or
//! the reason the checks could not run.

use std::fmt;

use crate::bgppeer::warnings::fit;
use crate::field::ErrorList;

/// Why the cluster checks were skipped for a request.
///
/// The webhook never fails closed because of the cluster: a request it cannot check against the
/// cluster is decided on the static rules alone, with one warning saying so, and counted in
/// `bgppeer_webhook_cluster_checks_skipped_total{reason}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Some caches have not finished their initial list yet (just after start-up).
    NotSynced {
        /// The caches still waiting (`bgpfilters.crd.projectcalico.org`).
        sources: Vec<String>,
    },
    /// The API server could not be reached (connection refused, DNS, TLS, ...).
    Unreachable {
        /// What failed, for the warning.
        detail: String,
    },
    /// The API server answered with an error other than "not found" (403 Forbidden when the
    /// RBAC is missing, 5xx, ...).
    ApiError {
        /// What failed, for the warning.
        detail: String,
    },
    /// A live lookup did not finish within the request's time budget.
    Timeout,
}

impl SkipReason {
    /// Every `reason` label value, in a fixed order (documentation and tests).
    pub const LABELS: [&'static str; 4] = ["not_synced", "unreachable", "api_error", "timeout"];

    /// The `reason` label of `bgppeer_webhook_cluster_checks_skipped_total`.
    pub fn label(&self) -> &'static str {
        match self {
            SkipReason::NotSynced { .. } => "not_synced",
            SkipReason::Unreachable { .. } => "unreachable",
            SkipReason::ApiError { .. } => "api_error",
            SkipReason::Timeout => "timeout",
        }
    }

    /// The single warning returned to the user when the checks are skipped.
    pub(crate) fn warning(&self) -> String {
        fit(format!(
            "cluster checks skipped ({self}); only the static rules were applied"
        ))
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::NotSynced { sources } => {
                write!(f, "the caches of {} are not synced yet", sources.join(", "))
            }
            SkipReason::Unreachable { detail } => {
                write!(f, "the API server is unreachable: {detail}")
            }
            SkipReason::ApiError { detail } => write!(f, "the API server answered: {detail}"),
            SkipReason::Timeout => f.write_str("the API server did not answer in time"),
        }
    }
}

/// The outcome of the cluster checks for one BGPPeer.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Findings {
    /// Errors that deny the request (a filter that does not exist, a password too long for BGP).
    /// Their paths are rooted at the object (`spec.filters[0]`), like the static errors, so that
    /// a denial lists both together.
    pub errors: ErrorList,
    /// Warnings returned with the answer, whatever it is.
    pub warnings: Vec<String>,
    /// Set when the checks did not run; `warnings` then holds exactly its warning.
    pub skipped: Option<SkipReason>,
}

impl Findings {
    /// The findings of checks that could not run: no error, one warning.
    pub fn skipped(reason: SkipReason) -> Self {
        Self {
            errors: ErrorList::new(),
            warnings: vec![reason.warning()],
            skipped: Some(reason),
        }
    }
}
