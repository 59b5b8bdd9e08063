//! The facts of a BGPPeer the cluster rules compare, derived from its object in ONE place
//! ([`Subject::of`] for the object under review, [`ScopeKey::of`] and [`Address::of`] for both
//! it and the stored peers), so that a stored peer and an incoming one are compared with the same
//! semantics.

use std::fmt;
use std::net::IpAddr;

use serde_json::Value;

use crate::bgppeer::ip::parse_peer_ip;
use crate::selector::{self, Selector};

/// The TCP port BGP uses when `peerIP` names none.
pub const BGP_PORT: u16 = 179;

/// The remote end of a `peerIP`: address and port (179 when none is written), so that
/// `10.0.0.1`, `10.0.0.1:179` and `[::ffff:...]` spellings of the same session compare equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// The IP address.
    pub ip: IpAddr,
    /// The TCP port.
    pub port: u16,
}

impl Address {
    /// The address of a spec's `peerIP`, when it is set and valid.
    pub fn of(spec: &Value) -> Option<Self> {
        let text = spec.get("peerIP")?.as_str()?;
        let address = parse_peer_ip(text).ok()?;
        Some(Self {
            ip: address.ip,
            port: address.port.unwrap_or(BGP_PORT),
        })
    }
}

/// The nodes a BGPPeer applies to, as Calico's "Peer scopes" define them, as a key: two peers
/// with equal keys apply to the same nodes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKey {
    /// Neither `node` nor `nodeSelector`: every node.
    Global,
    /// `node`: the node of that name.
    Node(String),
    /// `nodeSelector`, in canonical form when it parses (so that spacing and quoting
    /// differences do not hide a duplicate).
    NodeSelector(String),
}

impl ScopeKey {
    /// The scope of a spec: `node` wins when set (Calico forbids setting both).
    pub fn of(spec: &Value) -> Self {
        if let Some(node) = trimmed(spec, "node") {
            return ScopeKey::Node(node.to_owned());
        }
        match trimmed(spec, "nodeSelector") {
            Some(raw) => ScopeKey::NodeSelector(
                selector::parse(raw)
                    .map(|parsed| parsed.to_string())
                    .unwrap_or_else(|_| raw.to_owned()),
            ),
            None => ScopeKey::Global,
        }
    }
}

impl fmt::Display for ScopeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ScopeKey::Global => f.write_str("global scope"),
            ScopeKey::Node(node) => write!(f, "node {node:?}"),
            ScopeKey::NodeSelector(selector) => write!(f, "nodeSelector {selector:?}"),
        }
    }
}

/// A selector field of the object under review that parses.
#[derive(Clone)]
pub struct SelectorField {
    /// `nodeSelector` or `peerSelector`.
    pub field: &'static str,
    /// The parsed selector.
    pub parsed: Selector,
    /// Its canonical text.
    pub canonical: String,
}

/// The object under review, reduced to what the cluster rules read.
#[derive(Clone)]
pub struct Subject<'a> {
    /// `metadata.name` (empty for a `generateName` creation).
    pub name: &'a str,
    /// Which nodes it applies to.
    pub scope: ScopeKey,
    /// The remote end, when `peerIP` is set and valid.
    pub address: Option<Address>,
    /// `nodeSelector` and `peerSelector`, those set and parsing.
    pub selectors: Vec<SelectorField>,
    /// `spec.filters`: position and name of each non-empty string item.
    pub filters: Vec<(usize, &'a str)>,
    /// `spec.password.secretKeyRef`: Secret name and key, when both are strings.
    pub secret_ref: Option<(&'a str, &'a str)>,
}

impl<'a> Subject<'a> {
    /// Reads the facts of a BGPPeer object (either API group). Fields the static rules reject
    /// (a filter that is not a string, a selector that does not parse) are left out: the
    /// static errors already speak about them.
    pub fn of(object: &'a Value) -> Self {
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let name = object
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let mut selectors = Vec::new();
        let mut scope = None;
        for field in ["nodeSelector", "peerSelector"] {
            let Some(text) = trimmed(spec, field) else {
                continue;
            };
            let Ok(parsed) = selector::parse(text) else {
                continue;
            };
            let canonical = parsed.to_string();
            if field == "nodeSelector" && trimmed(spec, "node").is_none() {
                scope = Some(ScopeKey::NodeSelector(canonical.clone()));
            }
            selectors.push(SelectorField {
                field,
                parsed,
                canonical,
            });
        }
        let filters = spec
            .get("filters")
            .and_then(Value::as_array)
            .map(|filters| {
                filters
                    .iter()
                    .enumerate()
                    .filter_map(|(index, name)| Some((index, name.as_str()?)))
                    .filter(|(_, name)| !name.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let secret_ref = spec
            .pointer("/password/secretKeyRef")
            .and_then(|reference| {
                Some((
                    reference.get("name")?.as_str()?,
                    reference.get("key")?.as_str()?,
                ))
            });
        Self {
            name,
            scope: scope.unwrap_or_else(|| ScopeKey::of(spec)),
            address: Address::of(spec),
            selectors,
            filters,
            secret_ref,
        }
    }
}

/// A string field, trimmed, when set and not blank.
fn trimmed<'v>(spec: &'v Value, field: &str) -> Option<&'v str> {
    spec.get(field)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|text| !text.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scopes() {
        assert_eq!(ScopeKey::of(&json!({})), ScopeKey::Global);
        assert_eq!(ScopeKey::of(&json!({"node": " "})), ScopeKey::Global);
        assert_eq!(
            ScopeKey::of(&json!({"node": "n1"})),
            ScopeKey::Node("n1".into())
        );
        assert_eq!(
            ScopeKey::of(&json!({"nodeSelector": "a ==  'b'"})),
            ScopeKey::of(&json!({"nodeSelector": "a == \"b\""}))
        );
    }

    #[test]
    fn the_subject_scope_is_the_stored_scope() {
        for spec in [
            json!({"nodeSelector": "a ==  'b'"}),
            json!({"nodeSelector": "a ==="}),
            json!({"node": "n1", "nodeSelector": "a == 'b'"}),
            json!({"node": " ", "nodeSelector": " a == 'b'"}),
            json!({}),
        ] {
            let object = json!({"metadata": {"name": "p"}, "spec": spec});
            assert_eq!(Subject::of(&object).scope, ScopeKey::of(&object["spec"]));
        }
    }

    #[test]
    fn addresses_compare_with_the_default_port() {
        assert_eq!(
            Address::of(&json!({"peerIP": "10.0.0.1"})),
            Address::of(&json!({"peerIP": "10.0.0.1:179"}))
        );
        assert_ne!(
            Address::of(&json!({"peerIP": "10.0.0.1"})),
            Address::of(&json!({"peerIP": "10.0.0.1:1179"}))
        );
        assert_eq!(Address::of(&json!({"peerIP": "nope"})), None);
    }
}
