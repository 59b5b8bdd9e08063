//! The text report of `audit`: one line per error, then one per warning, then the notes, then a
//! summary, in the style of `check`'s.

use bgppeer_core::bgppeer::api::BGP_PEER_KIND as KIND;
use bgppeer_core::field;

use super::{Audit, PeerAudit};

/// `BGPPeer "name"` (the name cut at [`field::MAX_NAME_LEN`] bytes).
fn subject(peer: &PeerAudit) -> String {
    format!(
        "{KIND} {}",
        field::go_quote(&field::shorten(&peer.name, field::MAX_NAME_LEN))
    )
}

/// The text report of `audit` of the cluster at `cluster` (its URL).
pub fn render(audit: &Audit, cluster: &str) -> String {
    let mut out = String::new();
    for peer in &audit.peers {
        let subject = subject(peer);
        for error in &peer.errors {
            out.push_str(&format!("{subject}: {error}\n"));
        }
    }
    for peer in &audit.peers {
        let subject = subject(peer);
        for warning in &peer.warnings {
            out.push_str(&format!("{subject}: warning: {warning}\n"));
        }
    }
    for note in &audit.notes {
        out.push_str(&format!("note: {note}\n"));
    }
    let invalid = audit.invalid();
    out.push_str(&format!(
        "{} audited in {cluster}: {} valid, {invalid} invalid ({}), {}\n",
        plural(audit.peers.len(), "stored BGPPeer", "stored BGPPeers"),
        audit.peers.len() - invalid,
        plural(audit.errors(), "error", "errors"),
        plural(audit.warnings(), "warning", "warnings"),
    ));
    out
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
