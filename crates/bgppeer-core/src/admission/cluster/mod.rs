//! What the cluster knows about a BGPPeer, as the decision asks it: a read-only [`ClusterView`]
//! and the pure rules over it ([`rules`]). No I/O here: the binary's `cluster` module maintains
//! an index from watch events and implements the view; [`NoCluster`] stands for "cluster checks
//! off".
//!
//! - [`subject`]: the facts of the BGPPeer under review the rules compare (scope, address,
//!   selectors, filters, password reference), taken from the typed peer validation returns.
//! - [`rules`]: filters exist, password Secret key lengths, node exists, selectors match nodes,
//!   duplicates by scope and address, peering between nodes while the node-to-node mesh is on.
//! - `findings`: what the rules found, or why they could not run ([`SkipReason`]).
//!
//! Every question the trait asks can be answered from an index in O(1) or O(log n), or from a
//! cache (which nodes a selector matches), so that a request never copies or re-parses the
//! cluster.

use std::collections::BTreeMap;
use std::net::IpAddr;

use calico_selector::Selector;

pub use crate::bgpconfig::Mesh;

pub(crate) mod findings;
pub mod rules;
pub mod subject;

pub use crate::bgppeer::ScopeKey;
pub use findings::{Findings, SkipReason};
pub use rules::{Checked, FilterMiss};
pub use subject::{Address, Subject};

/// Whether the cluster checks run for a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Availability<'a> {
    /// Cluster checks are not enabled: no findings at all, no warning.
    Off,
    /// The view can be trusted: every rule runs.
    Ready,
    /// The view cannot be trusted now (not synced, API server unreachable): every rule is
    /// skipped with one warning.
    Skipped(&'a SkipReason),
}

/// Which nodes a selector matches: how many, of how many, and (when few) which.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeMatch {
    /// How many nodes the selector matches.
    pub count: usize,
    /// How many nodes there are.
    pub total: usize,
    /// The names of the matching nodes, by name, when there are at most
    /// [`rules::SMALL_MATCH`] of them (empty otherwise).
    pub names: Vec<String>,
}

/// A parsed selector with its canonical text (the key under which its matches are cached).
#[derive(Clone, Copy)]
pub struct SelectorRef<'a> {
    /// The parsed selector.
    pub selector: &'a Selector,
    /// Its canonical form (`Display` of the selector).
    pub canonical: &'a str,
}

/// A read-only view of the cluster: exactly the questions the cluster rules ask.
///
/// Implementations answer from memory and never block on the network; an answer may lag
/// behind the API server (which is why a missing filter is confirmed live before a denial: see
/// [`crate::admission::Confirmation`]).
pub trait ClusterView {
    /// Whether the checks run, and if not, why.
    fn availability(&self) -> Availability<'_>;
    /// Whether a BGPFilter of this name exists (in either API group).
    fn filter_exists(&self, name: &str) -> bool;
    /// The namespace of the password Secrets, when password checks are enabled.
    fn password_namespace(&self) -> Option<&str>;
    /// The byte length of each key of the Secret `name` in [`Self::password_namespace`], or
    /// `None` when there is no such Secret. Values are never kept.
    fn secret_key_lengths(&self, name: &str) -> Option<&BTreeMap<String, usize>>;
    /// Whether a Node of this name exists.
    fn node_exists(&self, name: &str) -> bool;
    /// Which nodes the selector matches.
    fn nodes_matching(&self, selector: SelectorRef<'_>) -> NodeMatch;
    /// The names (sorted) of the stored BGPPeers with this scope and remote address, each
    /// once even when both API groups serve it.
    fn peers_at(&self, scope: &ScopeKey, address: Address) -> Vec<&str>;
    /// Whether the node-to-node mesh is on (BGPConfiguration `default`). A view that cannot
    /// read BGPConfigurations answers [`Mesh::Unknown`], and no mesh warning is given; that is
    /// the default.
    fn node_to_node_mesh(&self) -> Mesh {
        Mesh::Unknown
    }
    /// The name of the node whose BGP address (calico-node's `projectcalico.org/IPv4Address` or
    /// `IPv6Address` annotation) is `ip`, if any. The default knows none.
    fn node_at(&self, ip: IpAddr) -> Option<&str> {
        let _ = ip;
        None
    }
}

/// The view when cluster checks are off: [`Availability::Off`], so no rule runs.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoCluster;

impl ClusterView for NoCluster {
    fn availability(&self) -> Availability<'_> {
        Availability::Off
    }

    fn filter_exists(&self, _name: &str) -> bool {
        false
    }

    fn password_namespace(&self) -> Option<&str> {
        None
    }

    fn secret_key_lengths(&self, _name: &str) -> Option<&BTreeMap<String, usize>> {
        None
    }

    fn node_exists(&self, _name: &str) -> bool {
        false
    }

    fn nodes_matching(&self, _selector: SelectorRef<'_>) -> NodeMatch {
        NodeMatch::default()
    }

    fn peers_at(&self, _scope: &ScopeKey, _address: Address) -> Vec<&str> {
        Vec::new()
    }

    fn node_to_node_mesh(&self) -> Mesh {
        Mesh::Unknown
    }

    fn node_at(&self, _ip: IpAddr) -> Option<&str> {
        None
    }
}
