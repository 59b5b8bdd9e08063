//! A point-in-time view of the cluster objects the checks look at, built from the watch caches.
//!
//! Everything here is plain data so that the rules in [`super::check`] can be tested without a
//! cluster; [`super::caches`] fills it in.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

use crate::bgppeer::ip::parse_peer_ip;
use crate::explain::nodes::NodeInfo;
use calico_selector as selector;

use super::findings::SkipReason;

/// The TCP port BGP uses when `peerIP` names none.
pub use crate::bgppeer::api::BGP_PORT;

/// What the cluster looked like when a request arrived.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    /// Set when the caches cannot be trusted (not synced, API server unreachable): the checks
    /// are then skipped with one warning.
    pub unavailable: Option<SkipReason>,
    /// Names of the BGPFilters that exist, in either API group (they are one set of objects).
    pub filters: BTreeSet<String>,
    /// The BGPPeers that exist, each once even when both API groups serve it.
    pub peers: Vec<PeerEntry>,
    /// The Kubernetes Nodes (names and labels only; no addresses are needed here).
    pub nodes: Vec<NodeInfo>,
    /// The password Secrets, when password checks are enabled (`None` otherwise).
    pub secrets: Option<SecretLengths>,
}

/// The byte length of every key of every Secret in the Calico namespace: all the password check
/// needs. Values themselves are never kept.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SecretLengths {
    /// The namespace the Secrets are read from (calico-node reads BGP passwords from its own).
    pub namespace: String,
    /// Secret name → key → length of the value in bytes.
    pub secrets: BTreeMap<String, BTreeMap<String, usize>>,
}

/// One existing BGPPeer, reduced to what the duplicate check compares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerEntry {
    /// `metadata.name`.
    pub name: String,
    /// Which nodes it applies to.
    pub scope: Scope,
    /// The remote address and port, when `peerIP` is set and valid.
    pub target: Option<(IpAddr, u16)>,
}

impl PeerEntry {
    /// Reads a BGPPeer object (either API group); `None` when it has no name.
    pub fn from_object(object: &Value) -> Option<Self> {
        let name = object.pointer("/metadata/name")?.as_str()?.to_owned();
        let spec = object.get("spec").unwrap_or(&Value::Null);
        Some(Self {
            name,
            scope: Scope::of(spec),
            target: target_of(spec),
        })
    }
}

/// The remote end of a `peerIP`: address and port (179 when none is written), so that
/// `10.0.0.1`, `10.0.0.1:179` and `[::ffff:...]` spellings of the same session compare equal.
pub fn target_of(spec: &Value) -> Option<(IpAddr, u16)> {
    let text = spec.get("peerIP")?.as_str()?;
    let address = parse_peer_ip(text).ok()?;
    Some((address.ip, address.port.unwrap_or(BGP_PORT)))
}

/// The nodes a BGPPeer applies to, as Calico's "Peer scopes" define them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Neither `node` nor `nodeSelector`: every node.
    Global,
    /// `node`: the node of that name.
    Node(String),
    /// `nodeSelector`, in canonical form when it parses (so that spacing and quoting
    /// differences do not hide a duplicate).
    NodeSelector(String),
}

impl Scope {
    /// The scope of a spec: `node` wins when set (Calico forbids setting both).
    pub fn of(spec: &Value) -> Self {
        let text = |field: &str| {
            spec.get(field)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|text| !text.is_empty())
        };
        if let Some(node) = text("node") {
            return Scope::Node(node.to_owned());
        }
        match text("nodeSelector") {
            Some(raw) => Scope::NodeSelector(
                selector::parse(raw)
                    .map(|parsed| parsed.to_string())
                    .unwrap_or_else(|_| raw.to_owned()),
            ),
            None => Scope::Global,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global scope"),
            Scope::Node(node) => write!(f, "node {node:?}"),
            Scope::NodeSelector(selector) => write!(f, "nodeSelector {selector:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes() {
        assert_eq!(Scope::of(&json!({})), Scope::Global);
        assert_eq!(Scope::of(&json!({"node": " "})), Scope::Global);
        assert_eq!(Scope::of(&json!({"node": "n1"})), Scope::Node("n1".into()));
        assert_eq!(
            Scope::of(&json!({"nodeSelector": "a ==  'b'"})),
            Scope::of(&json!({"nodeSelector": "a == \"b\""}))
        );
    }

    #[test]
    fn targets_compare_with_the_default_port() {
        assert_eq!(
            target_of(&json!({"peerIP": "10.0.0.1"})),
            target_of(&json!({"peerIP": "10.0.0.1:179"}))
        );
        assert_ne!(
            target_of(&json!({"peerIP": "10.0.0.1"})),
            target_of(&json!({"peerIP": "10.0.0.1:1179"}))
        );
        assert_eq!(target_of(&json!({"peerIP": "nope"})), None);
    }
}
