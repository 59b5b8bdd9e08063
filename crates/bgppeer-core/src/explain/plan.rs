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
//!
//! Each session is then resolved as Calico's confd resolves it (see [`crate::bgpconfig`]): the
//! local AS (the node's own, else BGPConfiguration `default`'s, else 64512), the remote AS (the
//! peer's `asNumber`, or the remote node's AS resolved the same way), iBGP or eBGP, and the port
//! (the `peerIP` port, else the remote Calico node's listen port, else 179). A value that
//! depends on BGPConfigurations nobody gave is unknown, not guessed. A session between
//! addresses of different families (an IPv4-only node and an IPv6 `peerIP`) cannot open, and
//! says so.
//!
//! It reads the typed [`Peer`] that validation returned: nothing is parsed again here.

use std::net::IpAddr;

use serde_json::Value;

use super::nodes::{CALICO_IPV4_ANNOTATION, NodeAddress, NodeInfo};
use crate::bgpconfig::{AsSource, BGP_PORT, BgpConfigurations, PortSource};
use crate::bgppeer::ip::PeerAddress;
use crate::bgppeer::model::ReversePeering;
use crate::bgppeer::{self, Peer, Remote as PeerRemote, Report, Scope};
use calico_selector::Selector;

/// What `explain` found for one BGPPeer document.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerReport {
    /// Where the document is (`peers.yaml:doc 2`), as the caller named it.
    pub(crate) source: String,
    /// `metadata.name`, when it is a string.
    pub(crate) name: Option<String>,
    /// The peer's sessions, or why it could not be explained.
    pub outcome: PeerOutcome,
}

impl PeerReport {
    /// The name for messages: the quoted name, or `(unnamed)`.
    pub(crate) fn display_name(&self) -> String {
        match &self.name {
            Some(name) => format!(
                "{:?}",
                crate::field::shorten(name, crate::field::MAX_NAME_LEN)
            ),
            None => "(unnamed)".to_owned(),
        }
    }
}

/// The outcome for one BGPPeer.
#[derive(Clone, Debug, PartialEq)]
// One per document, built once and read by the renderers: boxing a variant saves nothing that
// matters and would only add a dereference to every match.
#[allow(clippy::large_enum_variant)]
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

/// What the selected nodes peer with, resolved against the node list.
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
    /// The local node's AS number and where it comes from; `None` when unknown (it depends on
    /// BGPConfiguration `default`, which was not given).
    pub local_as: Option<(u32, AsSource)>,
    /// The remote end's AS number and where it comes from; `None` when unknown.
    pub remote_as: Option<(u32, AsSource)>,
    /// The port the session connects to and where it comes from; `None` when unknown.
    pub port: Option<(u16, PortSource)>,
    /// Why this session cannot open (address families that do not meet).
    pub warnings: Vec<String>,
}

impl Session {
    /// A session not resolved yet.
    fn new(node: &str, target: Target) -> Self {
        Self {
            node: node.to_owned(),
            target,
            local_as: None,
            remote_as: None,
            port: None,
            warnings: Vec::new(),
        }
    }

    /// `iBGP` (the same AS at both ends) or `eBGP`; `None` when either AS is unknown.
    pub fn bgp_type(&self) -> Option<&'static str> {
        match (self.local_as, self.remote_as) {
            (Some((local, _)), Some((remote, _))) if local == remote => Some("iBGP"),
            (Some(_), Some(_)) => Some("eBGP"),
            _ => None,
        }
    }
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
pub(crate) fn explain_object(
    source: String,
    object: &Value,
    nodes: &[NodeInfo],
    bgp: &BgpConfigurations,
) -> PeerReport {
    let name = object
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let report = bgppeer::validate_document(object);
    // A report without errors always has a scope and a remote (see `bgppeer::peer`).
    let outcome = match (report.is_valid(), report.peer.scope(), report.peer.remote()) {
        (true, Some(scope), Some(remote)) => PeerOutcome::Explained(plan(
            &report.peer,
            scope,
            remote,
            nodes,
            bgp,
            report.warnings.clone(),
        )),
        _ => PeerOutcome::Invalid(report),
    };
    PeerReport {
        source,
        name,
        outcome,
    }
}

/// Computes the plan of a valid peer, whose [`Peer::scope`] and [`Peer::remote`] are given.
pub(crate) fn plan(
    peer: &Peer,
    scope: Scope,
    remote: PeerRemote,
    nodes: &[NodeInfo],
    bgp: &BgpConfigurations,
    mut warnings: Vec<String>,
) -> Plan {
    let local = local_nodes(&scope, nodes, &mut warnings);
    let (remote, sessions) = match (remote, peer.local_workload_selector(), peer.as_number()) {
        (PeerRemote::Selector(selector), _, _) => {
            peer_selector_sessions(peer, &selector, nodes, &local, &mut warnings)
        }
        (PeerRemote::Address(address), _, as_number) => {
            peer_ip_sessions(address, as_number, nodes, &local, &mut warnings)
        }
        (PeerRemote::None, Some(selector), Some(as_number)) => {
            workload_sessions(selector, as_number, &local)
        }
        // Validation already warns about this (`warnings::NO_PEER`); saying it twice adds nothing.
        (PeerRemote::None, _, _) => (Remote::Nothing, Vec::new()),
    };
    let mut sessions = sessions;
    resolve_sessions(&mut sessions, nodes, bgp);
    mesh_warning(&remote, &sessions, nodes, bgp, &mut warnings);
    Plan {
        scope,
        applies_to: local.iter().map(|n| n.name.clone()).collect(),
        remote,
        sessions,
        warnings,
    }
}

/// The nodes the scope selects ("Peer scopes" in the reference).
fn local_nodes<'a>(
    scope: &Scope,
    nodes: &'a [NodeInfo],
    warnings: &mut Vec<String>,
) -> Vec<&'a NodeInfo> {
    let local: Vec<&NodeInfo> = match scope {
        Scope::Node(node) => {
            let local: Vec<&NodeInfo> = nodes.iter().filter(|n| n.name == *node).collect();
            if local.is_empty() {
                warnings.push(format!("node {node:?} is not in the node list"));
            }
            local
        }
        Scope::NodeSelector(selector) => {
            let local = matching(selector, nodes);
            if local.is_empty() {
                warnings.push("nodeSelector matches no node".to_owned());
            }
            local
        }
        Scope::Global => nodes.iter().collect(),
    };
    if local.is_empty() {
        warnings.push("applies to no node: opens no session".to_owned());
    }
    local
}

/// `peerSelector`: every local node peers with every other matched node.
fn peer_selector_sessions(
    peer: &Peer,
    selector: &Selector,
    nodes: &[NodeInfo],
    local: &[&NodeInfo],
    warnings: &mut Vec<String>,
) -> (Remote, Vec<Session>) {
    let matched = matching(selector, nodes);
    let mut sessions = Vec::new();
    for node in local {
        for other in matched.iter().filter(|other| other.name != node.name) {
            sessions.push(Session::new(
                &node.name,
                Target::Node {
                    name: other.name.clone(),
                    addresses: other.addresses.clone(),
                    as_number: other.as_number,
                },
            ));
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
    for node in matched.iter().filter(|n| n.addresses.is_empty()) {
        if sessions.iter().any(|s| session_goes_to(s, &node.name)) {
            warnings.push(format!(
                "node {:?} has no known BGP address (no {CALICO_IPV4_ANNOTATION} annotation, \
                 no InternalIP)",
                node.name
            ));
        }
    }
    let manual_reverse = peer.spec.reverse_peering.get() == Some(&ReversePeering::Manual);
    if manual_reverse && !sessions.is_empty() {
        warnings.push(
            "reversePeering: Manual: the matched nodes open the reverse side only if another \
             BGPPeer selects them"
                .to_owned(),
        );
    }
    let remote = Remote::PeerSelector {
        selector: selector.to_string(),
        matches: matched.iter().map(|n| n.name.clone()).collect(),
        manual_reverse,
    };
    (remote, sessions)
}

/// `peerIP`: every local node peers with that address.
fn peer_ip_sessions(
    address: PeerAddress,
    as_number: Option<u32>,
    nodes: &[NodeInfo],
    local: &[&NodeInfo],
    warnings: &mut Vec<String>,
) -> (Remote, Vec<Session>) {
    let sessions = local
        .iter()
        .map(|node| {
            Session::new(
                &node.name,
                Target::Address {
                    ip: address.ip,
                    port: address.port,
                    as_number,
                },
            )
        })
        .collect();
    for node in nodes {
        if node.addresses.iter().any(|a| a.ip == address.ip) {
            warnings.push(format!(
                "peerIP {} is the address of node {:?}; use peerSelector to peer with nodes",
                address.ip, node.name
            ));
        }
    }
    (Remote::PeerIp { address, as_number }, sessions)
}

/// `localWorkloadSelector`: every local node peers with its own matching workloads.
fn workload_sessions(
    selector: &Selector,
    as_number: u32,
    local: &[&NodeInfo],
) -> (Remote, Vec<Session>) {
    let selector = selector.to_string();
    let sessions = local
        .iter()
        .map(|node| {
            Session::new(
                &node.name,
                Target::LocalWorkloads {
                    selector: selector.clone(),
                    as_number,
                },
            )
        })
        .collect();
    (
        Remote::LocalWorkloads {
            selector,
            as_number,
        },
        sessions,
    )
}

/// Resolves the AS numbers, the port and the address families of every session.
fn resolve_sessions(sessions: &mut [Session], nodes: &[NodeInfo], bgp: &BgpConfigurations) {
    // Every `peerIP` session of a plan goes to the same address: its node is looked up once.
    let mut address_node: Option<(IpAddr, Option<&NodeInfo>)> = None;
    for session in sessions {
        let local = find_node(nodes, &session.node);
        session.local_as = local.and_then(|node| node_as(node, bgp));
        let local_addresses = local.map_or(&[][..], |node| node.addresses.as_slice());
        match &session.target {
            Target::Address {
                ip,
                port,
                as_number,
            } => {
                let node = match address_node {
                    Some((cached, node)) if cached == *ip => node,
                    _ => {
                        let node = node_with_address(nodes, *ip);
                        address_node = Some((*ip, node));
                        node
                    }
                };
                let node_as = node.and_then(|node| node_as(node, bgp));
                session.remote_as = as_number.map(|n| (n, AsSource::Peer)).or(node_as);
                session.port = match (port, node) {
                    (Some(port), _) => Some((*port, PortSource::PeerIp)),
                    // Calico uses a node's listen port only for the node it recognises by
                    // address and AS (`nodesWithIPPortAndAS` in confd's client.go).
                    (None, Some(node))
                        if as_number.is_none_or(|n| node_as.is_none_or(|(own, _)| own == n)) =>
                    {
                        bgp.listen_port(&node.name)
                    }
                    (None, _) => Some((BGP_PORT, PortSource::BgpDefault)),
                };
                if let Some(warning) = family_mismatch(&session.node, local_addresses, &[*ip]) {
                    session
                        .warnings
                        .push(format!("{warning} peerIP {ip} is {}", family(*ip)));
                }
            }
            Target::Node {
                name, addresses, ..
            } => {
                let remote = find_node(nodes, name);
                session.remote_as = remote.and_then(|node| node_as(node, bgp));
                session.port = bgp.listen_port(name);
                let remote_ips: Vec<IpAddr> = addresses.iter().map(|a| a.ip).collect();
                if let Some(warning) = family_mismatch(&session.node, local_addresses, &remote_ips)
                {
                    session.warnings.push(format!(
                        "{warning} node {name:?} has only {} ones",
                        families(&remote_ips)
                    ));
                }
            }
            Target::LocalWorkloads { as_number, .. } => {
                session.remote_as = Some((*as_number, AsSource::Peer));
                session.port = Some((BGP_PORT, PortSource::BgpDefault));
            }
        }
    }
}

/// A node's AS: its own, else the cluster default (`None` when that is unknown).
fn node_as(node: &NodeInfo, bgp: &BgpConfigurations) -> Option<(u32, AsSource)> {
    match node.as_number {
        Some(own) => Some((own, AsSource::Node)),
        None => bgp.default_as(),
    }
}

/// The start of the warning for a session whose two ends share no address family (`None`
/// when they share one, or when either end's addresses are unknown):
/// `node "n1" has only IPv4 BGP addresses and`. Completed by the caller with the remote end.
fn family_mismatch(node: &str, local: &[NodeAddress], remote: &[IpAddr]) -> Option<String> {
    if local.is_empty() || remote.is_empty() {
        return None;
    }
    let local_ips: Vec<IpAddr> = local.iter().map(|a| a.ip).collect();
    let shared = local_ips
        .iter()
        .any(|l| remote.iter().any(|r| l.is_ipv4() == r.is_ipv4()));
    if shared {
        return None;
    }
    Some(format!(
        "cannot open: node {node:?} has only {} BGP addresses and",
        families(&local_ips)
    ))
}

/// `IPv4` or `IPv6`.
fn family(ip: IpAddr) -> &'static str {
    if ip.is_ipv4() { "IPv4" } else { "IPv6" }
}

/// The one family of a non-empty list of addresses of one family.
fn families(ips: &[IpAddr]) -> &'static str {
    ips.first().map_or("no", |ip| family(*ip))
}

/// The node of that name (the list is sorted by name when it comes from [`super::nodes`]).
fn find_node<'a>(nodes: &'a [NodeInfo], name: &str) -> Option<&'a NodeInfo> {
    match nodes.binary_search_by(|node| node.name.as_str().cmp(name)) {
        Ok(i) => nodes.get(i),
        Err(_) => nodes.iter().find(|node| node.name == name),
    }
}

/// The node whose BGP address this is, if any.
fn node_with_address(nodes: &[NodeInfo], ip: IpAddr) -> Option<&NodeInfo> {
    nodes
        .iter()
        .find(|node| node.addresses.iter().any(|a| a.ip == ip))
}

/// The reference: to peer nodes through BGPPeers, the node-to-node mesh must be off.
fn mesh_warning(
    remote: &Remote,
    sessions: &[Session],
    nodes: &[NodeInfo],
    bgp: &BgpConfigurations,
    warnings: &mut Vec<String>,
) {
    let mesh = bgp.mesh();
    if !mesh.is_on() || sessions.is_empty() {
        return;
    }
    match remote {
        Remote::PeerSelector { .. } => warnings.push(mesh.peer_selector_warning()),
        Remote::PeerIp { address, .. } => {
            if let Some(node) = node_with_address(nodes, address.ip) {
                warnings.push(mesh.peer_ip_warning(&node.name));
            }
        }
        Remote::LocalWorkloads { .. } | Remote::Nothing => {}
    }
}

/// The nodes whose labels match a selector, in node-list order.
fn matching<'a>(selector: &Selector, nodes: &'a [NodeInfo]) -> Vec<&'a NodeInfo> {
    nodes
        .iter()
        .filter(|n| selector.matches(&n.labels))
        .collect()
}

/// Whether a session goes to the node of that name.
fn session_goes_to(session: &Session, name: &str) -> bool {
    matches!(&session.target, Target::Node { name: target, .. } if target == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn node(name: &str, labels: &[(&str, &str)]) -> NodeInfo {
        NodeInfo::with_labels(name, labels)
    }

    fn unknown() -> BgpConfigurations {
        BgpConfigurations::unknown("no BGPConfiguration given")
    }

    #[test]
    fn a_missing_or_null_spec_is_an_empty_global_peer() {
        let nodes = [node("a", &[])];
        for object in [
            json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
                   "metadata": {"name": "p"}}),
            json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
                   "metadata": {"name": "p"}, "spec": null}),
        ] {
            let report = explain_object("s".into(), &object, &nodes, &unknown());
            let PeerOutcome::Explained(plan) = report.outcome else {
                panic!("{report:?}")
            };
            assert_eq!(plan.scope, Scope::Global);
            assert_eq!(plan.applies_to, ["a"]);
            assert_eq!(plan.remote, Remote::Nothing);
            assert!(plan.sessions.is_empty());
        }
    }

    fn peer(spec: Value) -> Peer {
        let object = json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
                            "metadata": {"name": "p"}, "spec": spec});
        bgppeer::validate_document(&object).peer
    }

    #[test]
    fn selectors_see_only_labels() {
        let nodes = [node("a", &[("x", "1")]), node("b", &[])];
        let peer = peer(json!({"nodeSelector": "x == '1'", "peerSelector": "!has(x)"}));
        let (scope, remote) = (peer.scope().unwrap(), peer.remote().unwrap());
        let plan = plan(&peer, scope, remote, &nodes, &unknown(), Vec::new());
        assert_eq!(plan.applies_to, ["a"]);
        assert_eq!(plan.sessions.len(), 1);
        assert!(session_goes_to(&plan.sessions[0], "b"));
        // The node without an address is named in a warning.
        assert_eq!(plan.warnings.len(), 1);
        assert!(plan.warnings[0].starts_with("node \"b\" has no known BGP address"));
    }

    #[test]
    fn a_selector_validation_refused_is_an_invalid_outcome_not_a_panic() {
        let object = json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
                            "metadata": {"name": "p"}, "spec": {"peerSelector": "a =="}});
        let report = explain_object("s".into(), &object, &[], &unknown());
        let PeerOutcome::Invalid(report) = report.outcome else {
            panic!("{report:?}")
        };
        assert_eq!(
            report.errors.iter().next().unwrap().path.to_string(),
            "spec.peerSelector"
        );
        assert_eq!(report.peer.remote(), None);
    }

    #[test]
    fn a_blank_node_selector_is_a_selector_matching_every_node() {
        let nodes = [node("a", &[]), node("b", &[("x", "1")])];
        let peer = peer(json!({"nodeSelector": " \t", "peerIP": "10.0.0.1", "asNumber": 1}));
        let scope = peer.scope().unwrap();
        assert_eq!(scope.to_string(), "nodeSelector \"all()\"");
        let plan = plan(
            &peer,
            scope,
            peer.remote().unwrap(),
            &nodes,
            &unknown(),
            Vec::new(),
        );
        assert_eq!(plan.applies_to, ["a", "b"]);
    }
}
