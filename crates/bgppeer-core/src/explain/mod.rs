//! `explain`: which BGP sessions a set of BGPPeers will create on a set of nodes. Pure: the
//! caller reads the manifests and the node list; this module decides and renders.
//!
//! - [`nodes`]: Kubernetes `Node` objects to [`NodeInfo`] (name, labels, BGP address, AS).
//! - `plan`: one BGPPeer to the nodes it applies to and the sessions they open, following the
//!   "Peer scopes" section of Calico's BGPPeer reference, each session with its local and remote
//!   AS, iBGP or eBGP, and port, resolved with the BGPConfigurations ([`crate::bgpconfig`])
//!   when given ([`explain_with`]).
//! - [`text`], [`json`], [`dot`]: the three output formats of `bgppeer-webhook explain`.
//!
//! ```
//! use bgppeer_core::explain::{self, nodes};
//! use serde_json::json;
//!
//! let node = |name: &str, rack: &str| json!({"kind": "Node", "metadata": {
//!     "name": name, "labels": {"rack": rack}}});
//! let nodes = nodes::from_objects(&[node("n1", "r1"), node("n2", "r2")]).unwrap();
//! let peer = json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
//!     "metadata": {"name": "tor"},
//!     "spec": {"nodeSelector": "rack == 'r1'", "peerIP": "10.0.0.1", "asNumber": 64512}});
//! let explanation = explain::explain([("peers.yaml:doc 1".to_string(), &peer)], &nodes);
//! assert!(explain::text::render(&explanation).contains("n1 -> 10.0.0.1 (AS 64512)"));
//! assert_eq!(explanation.exit_code(), 0);
//! ```

use serde_json::Value;

pub mod dot;
pub mod json;
pub mod nodes;
pub(crate) mod plan;
pub mod text;

pub use crate::bgppeer::Scope;
pub use nodes::{NodeInfo, NodeList};
pub use plan::{PeerOutcome, PeerReport, Plan, Remote, Session, Target};

use crate::bgpconfig::BgpConfigurations;
use crate::bgppeer::api::BGP_PEER_KIND;

/// Everything `explain` found: the nodes, every BGPPeer, what was skipped and what could not be
/// read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Explanation {
    /// The nodes the peers were evaluated against, sorted by name.
    pub(crate) nodes: Vec<NodeInfo>,
    /// Problems with the node list that did not stop the explanation.
    pub(crate) node_warnings: Vec<String>,
    /// The BGPConfigurations the sessions were resolved with (unknown when none was given).
    pub(crate) bgp: BgpConfigurations,
    /// The BGPPeers, in input order.
    pub peers: Vec<PeerReport>,
    /// Documents that are not BGPPeers, by source (`peers.yaml:doc 3`), with their kind.
    pub skipped: Vec<(String, Option<String>)>,
    /// Inputs that could not be read or parsed (the others are still explained).
    pub input_errors: Vec<String>,
}

impl Explanation {
    /// 2 if some input could not be read, else 1 if some BGPPeer is invalid, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.input_errors.is_empty() {
            2
        } else if self
            .peers
            .iter()
            .any(|p| matches!(p.outcome, PeerOutcome::Invalid(_)))
        {
            1
        } else {
            0
        }
    }

    /// How many sessions the valid peers open in total.
    pub fn session_count(&self) -> usize {
        self.plans().map(|(_, plan)| plan.sessions.len()).sum()
    }

    /// The valid peers with their plans.
    pub(crate) fn plans(&self) -> impl Iterator<Item = (&PeerReport, &Plan)> {
        self.peers.iter().filter_map(|peer| match &peer.outcome {
            PeerOutcome::Explained(plan) => Some((peer, plan)),
            PeerOutcome::Invalid(_) => None,
        })
    }
}

/// Explains every BGPPeer among `documents` (each with the source name used in messages) on
/// `nodes`; other kinds are skipped and listed. Without BGPConfigurations, the mesh, the default
/// AS and the listen ports are unknown (see [`explain_with`]).
pub fn explain<'a>(
    documents: impl IntoIterator<Item = (String, &'a Value)>,
    nodes: &NodeList,
) -> Explanation {
    explain_with(
        documents,
        nodes,
        BgpConfigurations::unknown("no BGPConfiguration given"),
    )
}

/// [`explain`], resolving the node-to-node mesh, the default AS and the listen ports with the
/// cluster's BGPConfigurations.
pub fn explain_with<'a>(
    documents: impl IntoIterator<Item = (String, &'a Value)>,
    nodes: &NodeList,
    bgp: BgpConfigurations,
) -> Explanation {
    let mut explanation = Explanation {
        nodes: nodes.nodes.clone(),
        node_warnings: nodes.warnings.clone(),
        bgp,
        ..Explanation::default()
    };
    for (source, object) in documents {
        let kind = object.get("kind").and_then(Value::as_str);
        if kind == Some(BGP_PEER_KIND) {
            let report = plan::explain_object(source, object, &nodes.nodes, &explanation.bgp);
            explanation.peers.push(report);
        } else {
            explanation.skipped.push((source, kind.map(str::to_owned)));
        }
    }
    explanation
}
