//! The text report of `check`: one line per error, then one per warning, then a summary.

use super::{Outcome, PeerResult};
use bgppeer_core::bgppeer::api::BGP_PEER_KIND as KIND;
use bgppeer_core::field;

/// `BGPPeer "name"`, or `BGPPeer (unnamed)`.
pub(super) fn subject(peer: &PeerResult) -> String {
    match &peer.name {
        Some(name) => format!(
            "{KIND} {}",
            field::go_quote(&field::shorten(name, field::MAX_NAME_LEN))
        ),
        None => format!("{KIND} (unnamed)"),
    }
}

/// The text report: every error, then every warning, then one summary line.
///
/// Bounded per object whatever its size: the errors are those the report kept (at most
/// [`MAX_ERRORS`](field::MAX_ERRORS)) and one line saying how many more there were; warnings
/// are at most [`MAX_WARNINGS`](bgppeer_core::bgppeer::warnings::MAX_WARNINGS); names are cut at
/// [`MAX_NAME_LEN`](field::MAX_NAME_LEN) bytes.
pub(crate) fn render(outcome: &Outcome) -> String {
    let mut out = String::new();
    for peer in &outcome.peers {
        let subject = subject(peer);
        for error in peer.report.errors.shown() {
            out.push_str(&format!("{}: {subject}: {error}\n", peer.location));
        }
    }
    for peer in &outcome.peers {
        for warning in &peer.report.warnings {
            out.push_str(&format!(
                "{}: {}: warning: {warning}\n",
                peer.location,
                subject(peer)
            ));
        }
    }
    out.push_str(&summary_line(outcome));
    out.push('\n');
    out
}

/// `3 BGPPeers checked in 2 files: 1 valid, 2 invalid (5 errors), 1 warning; 4 other documents skipped`.
pub(super) fn summary_line(outcome: &Outcome) -> String {
    let invalid = outcome
        .peers
        .iter()
        .filter(|p| !p.report.is_valid())
        .count();
    let errors: usize = outcome.peers.iter().map(|p| p.report.errors.len()).sum();
    let warnings: usize = outcome.peers.iter().map(|p| p.report.warnings.len()).sum();
    let mut line = format!(
        "{} checked in {}: {} valid, {invalid} invalid ({}), {}; {} skipped",
        plural(outcome.peers.len(), "BGPPeer", "BGPPeers"),
        plural(outcome.files, "file", "files"),
        outcome.peers.len() - invalid,
        plural(errors, "error", "errors"),
        plural(warnings, "warning", "warnings"),
        plural(outcome.skipped.len(), "other document", "other documents"),
    );
    if !outcome.failures.is_empty() {
        line.push_str(&format!(
            "; {} could not be read or parsed",
            plural(outcome.failures.len(), "input", "inputs")
        ));
    }
    line
}

/// `1 file`, `2 files`.
fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
