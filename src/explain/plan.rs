//! Which nodes one BGPPeer applies to and which sessions each of them opens: the scope rules of
//! Calico's BGPPeer reference ("Peer scopes") applied to a list of nodes.
//!
//! - Neither `node` nor `nodeSelector`: global, every node.
//! - `node`: only the node of that name.
//! - `nodeSelector`: the nodes whose labels match it.
//! - `peerIP`: each of those nodes opens a session with that address.
//! - `peerSelector`: each of those nodes opens a session with every *other* node whose labels
//!   match it (a node never peers with itself), at that node's BGP address.
//! - `localWorkloadSelector`: each of those nodes peers with its own workloads that match it.

use std::net::IpAddr;

use serde::Deserialize;
use serde_json::Value;

use super::nodes::{NodeAddress, NodeInfo};
use crate::bgppeer::ip::{self, PeerAddress};
use crate::bgppeer::model::{BgpPeerSpec, ReversePeering};
use crate::bgppeer::{self, Report};
use crate::field::{ErrorList, FieldError, Path};
use crate::selector::{self, Selector};

/// What `explain` found for one BGPPeer document.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerReport {
    /// Where the document is (`peers.yaml:doc 2`), as the caller named it.
    pub source: String,
    /// `metadata.name`, when it is a string.
    pub name: Option<String>,
    /// The peer's sessions, or why it could not be explained.
    pub outcome: PeerOutcome,
}

impl PeerReport {
    /// The name for messages: the quoted name, or `(unnamed)`.
    pub fn display_name(&self) -> String {
        match &self.name {
            Some(name) => format!("{name:?}"),
            None => "(unnamed)".to_owned(),
        }
    }
}

/// The outcome for one BGPPeer.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerOutcome {
    /// The peer is invalid: Calico would refuse it, so it opens no session. Carries the same
    /// report as `check` and the webhook give.
    Invalid(Report),
    /// The peer is valid; here is what it does.
    Explained(Plan),
}

/// What a valid BGPPeer does on the given nodes.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// Which rule picks the local nodes.
    pub scope: Scope,
    /// The names of the nodes the peer applies to, sorted.
    pub applies_to: Vec<String>,
    /// What the selected nodes peer with.
    pub remote: Remote,
    /// Every session, by local node then remote.
    pub sessions: Vec<Session>,
    /// The validation warnings, then what looks wrong on these nodes ("applies to no node").
    pub warnings: Vec<String>,
}

/// How a BGPPeer picks the nodes it applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Neither `node` nor `nodeSelector`: every node.
    Global,
    /// `node`: the node of that name.
    Node(String),
    /// `nodeSelector`, in canonical form: the nodes it matches.
    NodeSelector(String),
}

/// What the selected nodes peer with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remote {
    /// `peerIP` (and `asNumber`, when set).
    PeerIp {
        /// The address and port.
        address: PeerAddress,
        /// `asNumber`; `None` when unset (the peer is then expected to be a Calico node).
        as_number: Option<u32>,
    },
    /// `peerSelector`, in canonical form, and the names of the nodes it matches.
    PeerSelector {
        /// The canonical selector.
        selector: String,
        /// Every node it matches, the local ones included, sorted.
        matches: Vec<String>,
        /// `reversePeering: Manual`: the matched nodes do not configure the reverse side.
        manual_reverse: bool,
    },
    /// `localWorkloadSelector`, in canonical form, with `asNumber`.
    LocalWorkloads {
        /// The canonical selector.
        selector: String,
        /// The workloads' AS number.
        as_number: u32,
    },
    /// None of the three: the peer opens no session.
    Nothing,
}

/// One BGP session a node is configured to open because of this peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// The local node.
    pub node: String,
    /// The other end.
    pub target: Target,
}

/// The remote end of a session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A router outside the node list, by `peerIP`.
    Address {
        /// The address.
        ip: IpAddr,
        /// The port, when `peerIP` names one.
        port: Option<u16>,
        /// `asNumber`, when set.
        as_number: Option<u32>,
    },
    /// Another node, matched by `peerSelector`.
    Node {
        /// Its name.
        name: String,
        /// Its BGP addresses (one session per address family; empty when unknown).
        addresses: Vec<NodeAddress>,
        /// Its own AS number; `None` means the cluster default.
        as_number: Option<u32>,
    },
    /// The local node's workloads matched by `localWorkloadSelector`.
    LocalWorkloads {
        /// The canonical selector.
        selector: String,
        /// Their AS number.
        as_number: u32,
    },
}

/// Explains one BGPPeer object (`apiVersion`, `kind`, `metadata`, `spec`) on `nodes`. The object
/// is validated first, with the document's own `apiVersion`; an invalid peer is not explained.
pub fn explain_object(source: String, object: &Value, nodes: &[NodeInfo]) -> PeerReport {
    let name = object
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let report = bgppeer::validate_document(object);
    let outcome = if report.is_valid() {
        let warnings = report.warnings.clone();
        typed_spec(object)
            .and_then(|spec| plan(&spec, nodes, warnings))
            .unwrap_or_else(|error| {
                let mut errors = ErrorList::new();
                errors.push(error);
                PeerOutcome::Invalid(Report {
                    errors,
                    warnings: report.warnings,
                })
            })
    } else {
        PeerOutcome::Invalid(report)
    };
    PeerReport {
        source,
        name,
        outcome,
    }
}

/// The typed spec of an object that passed validation (a missing or `null` spec is empty). A
/// failure would mean validation and the model disagree; it is reported, never a panic.
fn typed_spec(object: &Value) -> Result<BgpPeerSpec, FieldError> {
    match object.get("spec") {
        None | Some(Value::Null) => Ok(BgpPeerSpec::default()),
        Some(spec) => BgpPeerSpec::deserialize(spec)
            .map_err(|err| FieldError::invalid(Path::new("spec"), Value::Null, err.to_string())),
    }
}

/// Computes the plan of a valid spec. Fails only if a selector that validation accepted does not
/// parse, which would be a bug; it is then reported as a field error rather than a panic.
pub fn plan(
    spec: &BgpPeerSpec,
    nodes: &[NodeInfo],
    mut warnings: Vec<String>,
) -> Result<PeerOutcome, FieldError> {
    let (scope, local): (Scope, Vec<&NodeInfo>) = if !spec.node.is_empty() {
        let local: Vec<&NodeInfo> = nodes.iter().filter(|n| n.name == spec.node).collect();
        if local.is_empty() {
            warnings.push(format!("node {:?} is not in the node list", spec.node));
        }
        (Scope::Node(spec.node.clone()), local)
    } else if !spec.node_selector.is_empty() {
        let selector = parse_selector("spec.nodeSelector", &spec.node_selector)?;
        let local: Vec<&NodeInfo> = nodes
            .iter()
            .filter(|n| selector.matches(&n.labels))
            .collect();
        if local.is_empty() {
            warnings.push("nodeSelector matches no node".to_owned());
        }
        (Scope::NodeSelector(selector.to_string()), local)
    } else {
        (Scope::Global, nodes.iter().collect())
    };
    if local.is_empty() {
        warnings.push("applies to no node: opens no session".to_owned());
    }

    let mut sessions = Vec::new();
    let remote = if !spec.peer_selector.is_empty() {
        let selector = parse_selector("spec.peerSelector", &spec.peer_selector)?;
        let matched: Vec<&NodeInfo> = nodes
            .iter()
            .filter(|n| selector.matches(&n.labels))
            .collect();
        for node in &local {
            for other in matched.iter().filter(|other| other.name != node.name) {
                sessions.push(Session {
                    node: node.name.clone(),
                    target: Target::Node {
                        name: other.name.clone(),
                        addresses: other.addresses.clone(),
                        as_number: other.as_number,
                    },
                });
            }
        }
        if matched.is_empty() {
            warnings.push("peerSelector matches no node".to_owned());
        } else if sessions.is_empty() && !local.is_empty() {
            warnings.push(
                "peerSelector matches only the node the peer applies to, and a node never peers \
                 with itself: no session"
                    .to_owned(),
            );
        }
        let mut unaddressed: Vec<&str> = sessions
            .iter()
            .filter_map(|s| match &s.target {
                Target::Node {
                    name, addresses, ..
                } if addresses.is_empty() => Some(name.as_str()),
                _ => None,
            })
            .collect();
        unaddressed.sort_unstable();
        unaddressed.dedup();
        for name in unaddressed {
            warnings.push(format!(
                "node {name:?} has no known BGP address (no {} annotation, no InternalIP)",
                super::nodes::CALICO_IPV4_ANNOTATION
            ));
        }
        let manual_reverse = spec.reverse_peering == Some(ReversePeering::Manual);
        if manual_reverse && !sessions.is_empty() {
            warnings.push(
                "reversePeering: Manual: the matched nodes open the reverse side only if another \
                 BGPPeer selects them"
                    .to_owned(),
            );
        }
        Remote::PeerSelector {
            selector: selector.to_string(),
            matches: matched.iter().map(|n| n.name.clone()).collect(),
            manual_reverse,
        }
    } else if !spec.peer_ip.is_empty() {
        let address = ip::parse_peer_ip(&spec.peer_ip).map_err(|err| {
            FieldError::invalid(
                Path::new("spec.peerIP"),
                spec.peer_ip.clone(),
                err.to_string(),
            )
        })?;
        let as_number = (!spec.as_number.is_unset()).then_some(spec.as_number.0);
        for node in &local {
            sessions.push(Session {
                node: node.name.clone(),
                target: Target::Address {
                    ip: address.ip,
                    port: address.port,
                    as_number,
                },
            });
        }
        for node in nodes {
            if node.addresses.iter().any(|a| a.ip == address.ip) {
                warnings.push(format!(
                    "peerIP {} is the address of node {:?}; use peerSelector to peer with nodes",
                    address.ip, node.name
                ));
            }
        }
        Remote::PeerIp { address, as_number }
    } else if !spec.local_workload_selector.is_empty() {
        let selector = parse_selector("spec.localWorkloadSelector", &spec.local_workload_selector)?;
        let as_number = spec.as_number.0;
        for node in &local {
            sessions.push(Session {
                node: node.name.clone(),
                target: Target::LocalWorkloads {
                    selector: selector.to_string(),
                    as_number,
                },
            });
        }
        Remote::LocalWorkloads {
            selector: selector.to_string(),
            as_number,
        }
    } else {
        // Validation already warns about this (`warnings::NO_PEER`); saying it twice adds nothing.
        Remote::Nothing
    };
    Ok(PeerOutcome::Explained(Plan {
        scope,
        applies_to: local.iter().map(|n| n.name.clone()).collect(),
        remote,
        sessions,
        warnings,
    }))
}

/// Parses a selector field of a spec that validation already accepted.
fn parse_selector(field: &str, text: &str) -> Result<Selector, FieldError> {
    selector::parse(text)
        .map_err(|err| FieldError::invalid(Path::new(field), text, err.to_string()))
}
