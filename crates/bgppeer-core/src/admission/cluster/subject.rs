//! The facts of a BGPPeer the cluster rules compare, taken from the typed [`Peer`] validation
//! returns (parsed once: scope, address, selectors, password reference), so that a stored peer
//! and an incoming one are compared with the same semantics.
//!
//! One fact may still be read from the object's JSON: the names in `spec.filters` when the list
//! has a malformed item. The typed list is only `Valid` when every item is, while the rule
//! reports on each string item (a missing filter is denied even beside a malformed one).

use std::net::IpAddr;

use serde_json::Value;

use crate::bgppeer::{Field, Peer, ScopeKey};
use calico_selector::Selector;

/// The remote end of a `peerIP`: address and port (179 when none is written), so that
/// `10.0.0.1`, `10.0.0.1:179` and `[::ffff:...]` spellings of the same session compare equal
/// ([`Peer::peer_target`]).
pub type Address = (IpAddr, u16);

/// A selector field of the object under review that is valid.
#[derive(Clone)]
pub(crate) struct SelectorField<'a> {
    /// `nodeSelector` or `peerSelector`.
    pub(crate) field: &'static str,
    /// The parsed selector (from validation).
    pub(crate) parsed: &'a Selector,
    /// Its canonical text (computed once: the selector cache key, and the scope key).
    pub(crate) canonical: String,
}

/// The object under review, reduced to what the cluster rules read.
#[derive(Clone)]
pub struct Subject<'a> {
    /// `metadata.name` (empty for a `generateName` creation, or when invalid).
    pub(crate) name: &'a str,
    /// Which nodes it applies to, as a key; `None` when `node` or `nodeSelector` is invalid or
    /// both are set (the static rules report that).
    pub(crate) scope: Option<ScopeKey>,
    /// The remote end, when `peerIP` is valid.
    pub(crate) address: Option<Address>,
    /// `nodeSelector` and `peerSelector`, those set and valid.
    pub(crate) selectors: Vec<SelectorField<'a>>,
    /// `spec.filters`: position and name of each non-empty string item.
    pub(crate) filters: Vec<(usize, &'a str)>,
    /// `spec.password.secretKeyRef`: Secret name and key, when valid.
    pub(crate) secret_ref: Option<(&'a str, &'a str)>,
}

impl<'a> Subject<'a> {
    /// The facts of a BGPPeer from its typed peer and (for `spec.filters` only) its object.
    pub(crate) fn of(peer: &'a Peer, object: &'a Value) -> Self {
        let selectors: Vec<SelectorField<'a>> = [
            ("nodeSelector", peer.node_selector()),
            ("peerSelector", peer.peer_selector()),
        ]
        .into_iter()
        .filter_map(|(field, parsed)| {
            let parsed = parsed?;
            Some(SelectorField {
                field,
                parsed,
                canonical: canonical(parsed),
            })
        })
        .collect();
        let node_selector = selectors
            .iter()
            .find(|selector| selector.field == "nodeSelector")
            .map(|selector| selector.canonical.as_str());
        let filters = match &peer.spec.filters {
            Field::Valid(filters) => filters.iter().enumerate().collect(),
            // A list with a malformed item: each string item is still checked (a missing filter
            // is denied even beside a malformed one), so only here are the items read as JSON.
            Field::Invalid => object
                .pointer("/spec/filters")
                .and_then(Value::as_array)
                .map(|filters| {
                    filters
                        .iter()
                        .enumerate()
                        .filter_map(|(index, name)| Some((index, name.as_str()?)))
                        .filter(|(_, name)| !name.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
            Field::Unset => Vec::new(),
        };
        Self {
            name: peer.name().unwrap_or_default(),
            scope: scope_key_with(peer, node_selector),
            address: peer.peer_target(),
            selectors,
            filters,
            secret_ref: peer
                .secret_key_ref()
                .map(|reference| (reference.name.as_str(), reference.key.as_str())),
        }
    }
}

/// The canonical text of a selector, written into one allocation of a likely size.
fn canonical(selector: &Selector) -> String {
    use std::fmt::Write;
    let mut text = String::with_capacity(64);
    let _ = write!(text, "{selector}");
    text
}

/// The scope of a peer as a key (`None` when it has no valid scope): the one derivation used for
/// the object under review and for the stored peers. Equal to `peer.scope().map(|s| s.key())`
/// (a test holds them together).
pub fn scope_key(peer: &Peer) -> Option<ScopeKey> {
    scope_key_with(peer, None)
}

/// [`scope_key`], reusing the node selector's canonical text when already computed.
///
/// It follows [`Peer::scope`]'s rule on the typed fields rather than calling it, because that
/// clones the parsed selector, while the key needs only its canonical text: on every request
/// with cluster checks, that clone was most of the allocations the checks added.
fn scope_key_with(peer: &Peer, node_selector: Option<&str>) -> Option<ScopeKey> {
    match (&peer.spec.node, &peer.spec.node_selector) {
        (Field::Invalid, _) | (_, Field::Invalid) | (Field::Valid(_), Field::Valid(_)) => None,
        (Field::Valid(node), Field::Unset) => Some(ScopeKey::Node(node.clone())),
        (Field::Unset, Field::Valid(selector)) => Some(ScopeKey::NodeSelector(
            node_selector.map_or_else(|| canonical(selector), str::to_owned),
        )),
        (Field::Unset, Field::Unset) => Some(ScopeKey::Global),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgppeer::{self, ApiGroup};
    use serde_json::json;

    fn subject_of(spec: Value, check: impl Fn(&Subject<'_>)) {
        let object = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
                            "metadata": {"name": "p"}, "spec": spec});
        let report = bgppeer::validate(ApiGroup::CrdV1, &object);
        check(&Subject::of(&report.peer, &object));
    }

    #[test]
    fn scopes_compare_in_canonical_form() {
        let key = |spec: Value| {
            let object = json!({"metadata": {"name": "p"}, "spec": spec});
            scope_key(&bgppeer::validate(ApiGroup::CrdV1, &object).peer)
        };
        assert_eq!(key(json!({})), Some(ScopeKey::Global));
        assert_eq!(
            key(json!({"node": "n1"})),
            Some(ScopeKey::Node("n1".into()))
        );
        assert_eq!(
            key(json!({"nodeSelector": "a ==  'b'"})),
            key(json!({"nodeSelector": "a == \"b\""}))
        );
        assert_eq!(key(json!({"node": "n1", "nodeSelector": "a == 'b'"})), None);
        assert_eq!(key(json!({"nodeSelector": "a ==="})), None);
    }

    /// The key follows `Peer::scope` exactly, for every state of `node` and `nodeSelector`.
    #[test]
    fn scope_keys_agree_with_the_peer_scope() {
        let nodes = [
            None,
            Some(json!("n1")),
            Some(json!("")),
            Some(json!(" ")),
            Some(json!(7)),
        ];
        let selectors = [
            None,
            Some(json!("a == 'b'")),
            Some(json!("")),
            Some(json!(" ")),
            Some(json!("a ===")),
        ];
        for node in &nodes {
            for selector in &selectors {
                let mut spec = json!({"peerIP": "10.0.0.1"});
                if let Some(node) = node {
                    spec["node"] = node.clone();
                }
                if let Some(selector) = selector {
                    spec["nodeSelector"] = selector.clone();
                }
                let object = json!({"metadata": {"name": "p"}, "spec": spec});
                let peer = bgppeer::validate(ApiGroup::CrdV1, &object).peer;
                let expected = peer.scope().map(|scope| scope.key());
                assert_eq!(scope_key(&peer), expected, "{spec}");
                assert_eq!(Subject::of(&peer, &object).scope, expected, "{spec}");
            }
        }
    }

    #[test]
    fn addresses_compare_with_the_default_port() {
        let address = |peer_ip: &str| {
            let object = json!({"metadata": {"name": "p"}, "spec": {"peerIP": peer_ip}});
            bgppeer::validate(ApiGroup::CrdV1, &object)
                .peer
                .peer_target()
        };
        assert_eq!(address("10.0.0.1"), address("10.0.0.1:179"));
        assert_ne!(address("10.0.0.1"), address("10.0.0.1:1179"));
        assert_eq!(address("nope"), None);
    }

    #[test]
    fn filters_are_read_item_by_item() {
        subject_of(json!({"filters": ["a", 7, "", "b"]}), |subject| {
            assert_eq!(subject.filters, [(0, "a"), (3, "b")]);
        });
        subject_of(
            json!({"peerSelector": "rr == 'true'", "nodeSelector": "bad ==="}),
            |subject| {
                let fields: Vec<&str> = subject.selectors.iter().map(|s| s.field).collect();
                assert_eq!(fields, ["peerSelector"]);
            },
        );
    }
}
