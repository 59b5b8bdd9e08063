//! `BGPConfiguration`, as far as BGP sessions are concerned: the node-to-node mesh, the default
//! AS number and the listen port, typed, and how Calico resolves them. Pure: the callers read
//! the objects (a file for `explain`, the watches for the webhook).
//!
//! What Calico honours, as its BGP daemon's configuration agent does it
//! (`confd/pkg/backends/calico/client.go` in projectcalico/calico, `updateBGPConfigCache`,
//! `NewCalicoClient` and `nodeAsBGPPeers`):
//!
//! - the configuration named `default` is cluster-wide: `asNumber` (else the built-in 64512,
//!   `globalDefaults`), `nodeToNodeMeshEnabled` (unset, or no `default` at all, means on: it is
//!   read from `default` only), `listenPort` and the rest;
//! - a configuration named `node.<nodename>` overrides only `listenPort`, `logSeverityScreen`
//!   and `prefixAdvertisements` for that node; its `asNumber` and `nodeToNodeMeshEnabled` are
//!   ignored (a node's own AS is set on the node, not here);
//! - any other name is ignored ("Bad value for BGPConfiguration resource name");
//! - a `listenPort` of 0 is unset; a session to a Calico node goes to that node's `node.<name>`
//!   `listenPort`, else the `default` one, else BGP's 179.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::bgppeer::api::BGP_CONFIGURATION_KIND;
use crate::bgppeer::asnumber;
use crate::field::{MAX_NAME_LEN, json_type_name, shorten};

/// The name of the cluster-wide BGPConfiguration.
pub const DEFAULT_NAME: &str = "default";
/// The prefix of a per-node BGPConfiguration's name (`node.<nodename>`).
pub(crate) const NODE_PREFIX: &str = "node.";
/// The AS number of a node when neither the node nor BGPConfiguration `default` sets one.
pub const BUILT_IN_AS: u32 = 64512;
/// The port BGP uses when nothing else is configured.
pub const BGP_PORT: u16 = 179;
/// At most this many notes are kept about the BGPConfigurations read (odd values, ignored
/// names); the last one kept then says how many more there were, so that the output stays
/// bounded whatever the input.
pub(crate) const MAX_NOTES: usize = 20;

/// The fields of one BGPConfiguration that decide sessions (absent or invalid values are
/// `None`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BgpConfiguration {
    /// `spec.nodeToNodeMeshEnabled`.
    pub node_to_node_mesh_enabled: Option<bool>,
    /// `spec.asNumber` (an integer or Calico's `"hi.lo"` form).
    pub as_number: Option<u32>,
    /// `spec.listenPort` (0 is unset, as for Calico).
    pub listen_port: Option<u16>,
}

impl BgpConfiguration {
    /// Reads the fields from a `spec` (either API group); values of the wrong type are ignored.
    pub fn from_spec(spec: &Value) -> Self {
        Self::read(spec, &mut Vec::new(), "")
    }

    /// Reads the fields, noting each value that is present but unusable (`name` for messages).
    fn read(spec: &Value, notes: &mut Vec<String>, name: &str) -> Self {
        let mut ignored = |field: &str, value: &Value, accepted: &str| {
            notes.push(format!(
                "BGPConfiguration {name:?}: spec.{field} {} is not {accepted}; ignored",
                shown(value)
            ));
        };
        let node_to_node_mesh_enabled = match spec.get("nodeToNodeMeshEnabled") {
            None | Some(Value::Null) => None,
            Some(Value::Bool(enabled)) => Some(*enabled),
            Some(other) => {
                ignored("nodeToNodeMeshEnabled", other, "true or false");
                None
            }
        };
        let as_number = match spec.get("asNumber") {
            None | Some(Value::Null) => None,
            Some(value) => match asnumber::from_json(value) {
                Ok(form) => Some(form.value()),
                Err(_) => {
                    ignored("asNumber", value, "an AS number");
                    None
                }
            },
        };
        let listen_port = match spec.get("listenPort") {
            None | Some(Value::Null) => None,
            Some(value) => match value.as_u64().map(u16::try_from) {
                Some(Ok(0)) => None,
                Some(Ok(port)) => Some(port),
                _ => {
                    ignored("listenPort", value, "a port from 1 to 65535");
                    None
                }
            },
        };
        Self {
            node_to_node_mesh_enabled,
            as_number,
            listen_port,
        }
    }
}

/// A value for a message, bounded.
fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => format!("{:?}", shorten(text, MAX_NAME_LEN)),
        Value::Number(n) => n.to_string(),
        other => json_type_name(other).to_owned(),
    }
}

/// Why the mesh is on or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeshSource {
    /// BGPConfiguration `default` sets `nodeToNodeMeshEnabled`.
    Set,
    /// BGPConfiguration `default` exists without `nodeToNodeMeshEnabled`: on.
    Unset,
    /// There is no BGPConfiguration `default`: Calico's defaults, on.
    NoDefault,
}

/// Whether Calico's node-to-node mesh is on, as far as it is known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mesh {
    /// No BGPConfiguration could be read (not given, not served, not allowed).
    Unknown,
    /// Read from the BGPConfigurations.
    Known {
        /// Whether every node peers with every other through the mesh.
        enabled: bool,
        /// Why.
        source: MeshSource,
    },
}

/// The short instruction every mesh warning ends with.
const MESH_FIX: &str = "; set nodeToNodeMeshEnabled: false";

impl Mesh {
    /// The mesh as BGPConfiguration `default` (or its absence) sets it.
    pub fn from_default(default: Option<&BgpConfiguration>) -> Self {
        match default.map(|config| config.node_to_node_mesh_enabled) {
            None => Mesh::Known {
                enabled: true,
                source: MeshSource::NoDefault,
            },
            Some(None) => Mesh::Known {
                enabled: true,
                source: MeshSource::Unset,
            },
            Some(Some(enabled)) => Mesh::Known {
                enabled,
                source: MeshSource::Set,
            },
        }
    }

    /// Whether the mesh is known to be on.
    pub fn is_on(self) -> bool {
        matches!(self, Mesh::Known { enabled: true, .. })
    }

    /// `on`, `off` or `unknown` (the JSON spelling).
    pub fn state(self) -> &'static str {
        match self {
            Mesh::Known { enabled: true, .. } => "on",
            Mesh::Known { enabled: false, .. } => "off",
            Mesh::Unknown => "unknown",
        }
    }

    /// Why, in full: `BGPConfiguration "default" spec.nodeToNodeMeshEnabled is unset, so true`.
    pub fn reason(self) -> String {
        let field = "BGPConfiguration \"default\" spec.nodeToNodeMeshEnabled";
        match self {
            Mesh::Known {
                enabled,
                source: MeshSource::Set,
            } => format!("{field} is {enabled}"),
            Mesh::Known {
                source: MeshSource::Unset,
                ..
            } => format!("{field} is unset, so true"),
            Mesh::Known {
                source: MeshSource::NoDefault,
                ..
            } => "no BGPConfiguration \"default\", so Calico's default: true".to_owned(),
            Mesh::Unknown => "no BGPConfiguration could be read".to_owned(),
        }
    }

    /// Why, briefly (for the webhook's warnings, which are at most 120 characters).
    fn short_reason(self) -> &'static str {
        match self {
            Mesh::Known {
                source: MeshSource::Set,
                ..
            } => "set in BGPConfiguration default",
            Mesh::Known {
                source: MeshSource::Unset,
                ..
            } => "unset in BGPConfiguration default",
            Mesh::Known {
                source: MeshSource::NoDefault,
                ..
            }
            | Mesh::Unknown => "no BGPConfiguration default",
        }
    }

    /// `explain`'s warning for a `peerSelector` that selects nodes while the mesh is on.
    pub fn peer_selector_warning(self) -> String {
        format!(
            "peerSelector selects cluster nodes while the node-to-node mesh is on ({}): these \
             nodes already peer through the mesh; set nodeToNodeMeshEnabled: false to peer them \
             through BGPPeers",
            self.reason()
        )
    }

    /// `explain`'s warning for a `peerIP` that is a node's BGP address while the mesh is on.
    pub fn peer_ip_warning(self, node: &str) -> String {
        format!(
            "peerIP is the BGP address of node {:?} while the node-to-node mesh is on ({}): the \
             nodes already peer through the mesh; set nodeToNodeMeshEnabled: false to peer them \
             through BGPPeers",
            shorten(node, MAX_NAME_LEN),
            self.reason()
        )
    }

    /// The webhook's warning for a `peerSelector` that selects nodes while the mesh is on (at
    /// most 120 characters).
    pub fn short_peer_selector_warning(self) -> String {
        crate::bgppeer::warnings::fit_with_suffix(
            &format!(
                "spec.peerSelector: node-to-node mesh is on ({})",
                self.short_reason()
            ),
            MESH_FIX,
        )
    }

    /// The webhook's warning for a `peerIP` that is a node's BGP address while the mesh is on
    /// (at most 120 characters: a long node name is cut, the instruction is kept).
    pub fn short_peer_ip_warning(self, node: &str) -> String {
        crate::bgppeer::warnings::fit_with_suffix(
            &format!(
                "spec.peerIP is node {node:?}: mesh is on ({})",
                self.short_reason()
            ),
            MESH_FIX,
        )
    }
}

/// The BGPConfigurations given to `explain`, by role, and what was odd about them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BgpConfigurations {
    /// Whether any were read: without them, the mesh, the default AS and the listen ports are
    /// unknown.
    pub(crate) given: bool,
    /// BGPConfiguration `default`.
    pub(crate) default: Option<BgpConfiguration>,
    /// The `node.<nodename>` configurations, by node name.
    pub(crate) per_node: BTreeMap<String, BgpConfiguration>,
    /// Problems that did not stop reading them, and why they are unknown when they are.
    pub(crate) notes: Vec<String>,
}

/// Why the BGPConfiguration input cannot be used. `Display` says which object and what is
/// accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BgpConfigurationError {
    /// An object that is not a BGPConfiguration.
    #[error("object {index}: expected kind BGPConfiguration, found {found}")]
    NotABgpConfiguration {
        /// The 1-based position of the object in the input.
        index: usize,
        /// What was found instead (`kind Node`, `a string`, ...).
        found: String,
    },
    /// A BGPConfiguration without a usable `metadata.name`.
    #[error("object {index}: BGPConfiguration has no metadata.name")]
    NoName {
        /// The 1-based position of the object in the input.
        index: usize,
    },
    /// A `spec` that is not an object.
    #[error("BGPConfiguration {name:?}: spec must be an object, found {found}")]
    SpecNotAnObject {
        /// The configuration.
        name: String,
        /// What was found.
        found: &'static str,
    },
}

impl BgpConfigurations {
    /// None given: everything they decide is unknown, for the reason in `note`.
    pub fn unknown(note: impl Into<String>) -> Self {
        Self {
            notes: vec![note.into()],
            ..Self::default()
        }
    }

    /// Reads BGPConfiguration objects (list items already expanded, either API group). A name
    /// seen twice keeps its first object (the same object served by both API groups, listed
    /// `crd.projectcalico.org` first); names other than `default` and `node.<nodename>` are
    /// noted and ignored, as Calico ignores them.
    pub fn from_objects<'a>(
        objects: impl IntoIterator<Item = &'a Value>,
    ) -> Result<Self, BgpConfigurationError> {
        let mut configurations = Self {
            given: true,
            ..Self::default()
        };
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for (i, object) in objects.into_iter().enumerate() {
            let index = i + 1;
            match object.get("kind").and_then(Value::as_str) {
                Some(kind) if kind == BGP_CONFIGURATION_KIND => {}
                Some(kind) => {
                    return Err(BgpConfigurationError::NotABgpConfiguration {
                        index,
                        found: format!("kind {}", shorten(kind, MAX_NAME_LEN)),
                    });
                }
                None => {
                    let found = if object.is_object() {
                        "an object without a kind".to_owned()
                    } else {
                        json_type_name(object).to_owned()
                    };
                    return Err(BgpConfigurationError::NotABgpConfiguration { index, found });
                }
            }
            let name = object
                .get("metadata")
                .and_then(|m| m.get("name"))
                .and_then(Value::as_str)
                .filter(|name| !name.is_empty())
                .ok_or(BgpConfigurationError::NoName { index })?;
            let shown_name = shorten(name, MAX_NAME_LEN).into_owned();
            let spec = match object.get("spec") {
                None | Some(Value::Null) => &Value::Null,
                Some(spec @ Value::Object(_)) => spec,
                Some(other) => {
                    return Err(BgpConfigurationError::SpecNotAnObject {
                        name: shown_name,
                        found: json_type_name(other),
                    });
                }
            };
            if !seen.insert(name.to_owned()) {
                continue;
            }
            let config = BgpConfiguration::read(spec, &mut configurations.notes, &shown_name);
            if name == DEFAULT_NAME {
                configurations.default = Some(config);
            } else if let Some(node) = name.strip_prefix(NODE_PREFIX).filter(|n| !n.is_empty()) {
                for (field, set) in [
                    ("asNumber", config.as_number.is_some()),
                    (
                        "nodeToNodeMeshEnabled",
                        config.node_to_node_mesh_enabled.is_some(),
                    ),
                ] {
                    if set {
                        configurations.notes.push(format!(
                            "BGPConfiguration {shown_name:?}: spec.{field} is cluster-wide, \
                             read from \"default\" only; ignored here as Calico ignores it"
                        ));
                    }
                }
                configurations.per_node.insert(node.to_owned(), config);
            } else {
                configurations.notes.push(format!(
                    "BGPConfiguration {shown_name:?} is ignored: Calico reads only \"default\" \
                     and \"node.<nodename>\""
                ));
            }
        }
        let total = configurations.notes.len();
        if total > MAX_NOTES {
            configurations.notes.truncate(MAX_NOTES - 1);
            configurations
                .notes
                .push(format!("{} more notes not shown", total - (MAX_NOTES - 1)));
        }
        Ok(configurations)
    }

    /// Whether any BGPConfiguration was read.
    pub(crate) fn given(&self) -> bool {
        self.given
    }

    /// The notes: odd values, ignored names, why everything is unknown.
    pub(crate) fn notes(&self) -> &[String] {
        &self.notes
    }

    /// The `node.<nodename>` configurations, by node name.
    pub(crate) fn per_node(&self) -> &BTreeMap<String, BgpConfiguration> {
        &self.per_node
    }

    /// The node-to-node mesh.
    pub fn mesh(&self) -> Mesh {
        if self.given {
            Mesh::from_default(self.default.as_ref())
        } else {
            Mesh::Unknown
        }
    }

    /// The cluster's default AS number and where it comes from; `None` when no
    /// BGPConfiguration was given.
    pub fn default_as(&self) -> Option<(u32, AsSource)> {
        if !self.given {
            return None;
        }
        Some(
            match self.default.as_ref().and_then(|config| config.as_number) {
                Some(as_number) => (as_number, AsSource::DefaultConfiguration),
                None => (BUILT_IN_AS, AsSource::BuiltIn),
            },
        )
    }

    /// The port BGP sessions to the Calico node `node` go to, and where it comes from; `None`
    /// when no BGPConfiguration was given.
    pub fn listen_port(&self, node: &str) -> Option<(u16, PortSource)> {
        if !self.given {
            return None;
        }
        if let Some(port) = self.per_node.get(node).and_then(|c| c.listen_port) {
            return Some((port, PortSource::NodeConfiguration));
        }
        self.default_listen_port()
    }

    /// The port of nodes without a `node.<nodename>` listen port; `None` when no
    /// BGPConfiguration was given.
    pub(crate) fn default_listen_port(&self) -> Option<(u16, PortSource)> {
        if !self.given {
            return None;
        }
        Some(
            match self.default.as_ref().and_then(|config| config.listen_port) {
                Some(port) => (port, PortSource::DefaultConfiguration),
                None => (BGP_PORT, PortSource::BgpDefault),
            },
        )
    }
}

/// Where a resolved AS number comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsSource {
    /// The BGPPeer's `asNumber`.
    Peer,
    /// The node's own AS (Calico Node `spec.bgp.asNumber`, or the Kubernetes Node annotation
    /// `projectcalico.org/ASNumber`).
    Node,
    /// BGPConfiguration `default` `spec.asNumber`.
    DefaultConfiguration,
    /// Calico's built-in default, 64512 (BGPConfiguration `default` sets none).
    BuiltIn,
}

impl AsSource {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AsSource::Peer => "bgpPeer",
            AsSource::Node => "node",
            AsSource::DefaultConfiguration => "bgpConfiguration",
            AsSource::BuiltIn => "builtInDefault",
        }
    }
}

/// Where a session's port comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortSource {
    /// The port in `peerIP`.
    PeerIp,
    /// The remote node's `node.<nodename>` BGPConfiguration `listenPort`.
    NodeConfiguration,
    /// BGPConfiguration `default` `listenPort`.
    DefaultConfiguration,
    /// BGP's port, 179.
    BgpDefault,
}

impl PortSource {
    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            PortSource::PeerIp => "peerIP",
            PortSource::NodeConfiguration => "nodeBgpConfiguration",
            PortSource::DefaultConfiguration => "bgpConfiguration",
            PortSource::BgpDefault => "bgpDefault",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgppeer::warnings::MAX_LEN;
    use serde_json::json;

    fn config(name: &str, spec: Value) -> Value {
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPConfiguration",
               "metadata": {"name": name}, "spec": spec})
    }

    #[test]
    fn mesh_on_off_unset_absent_and_unknown() {
        let read = |objects: &[Value]| BgpConfigurations::from_objects(objects).unwrap().mesh();
        assert_eq!(
            read(&[config("default", json!({"nodeToNodeMeshEnabled": false}))]),
            Mesh::Known {
                enabled: false,
                source: MeshSource::Set
            }
        );
        let on = read(&[config("default", json!({"nodeToNodeMeshEnabled": true}))]);
        assert!(on.is_on());
        assert_eq!(
            on.reason(),
            "BGPConfiguration \"default\" spec.nodeToNodeMeshEnabled is true"
        );
        let unset = read(&[config("default", json!({"asNumber": 65000}))]);
        assert_eq!(
            unset.reason(),
            "BGPConfiguration \"default\" spec.nodeToNodeMeshEnabled is unset, so true"
        );
        assert!(unset.is_on());
        // Only "default" decides: a node's configuration cannot turn the mesh off.
        let absent = read(&[config("node.n1", json!({"nodeToNodeMeshEnabled": false}))]);
        assert_eq!(
            absent,
            Mesh::Known {
                enabled: true,
                source: MeshSource::NoDefault
            }
        );
        assert_eq!(read(&[]).state(), "on");
        let unknown = BgpConfigurations::unknown("not given").mesh();
        assert_eq!(unknown, Mesh::Unknown);
        assert!(!unknown.is_on());
        assert_eq!(unknown.state(), "unknown");
    }

    #[test]
    fn default_as_and_listen_ports_resolve_as_calico_does() {
        let configs = BgpConfigurations::from_objects(&[
            config("default", json!({"asNumber": "1.10", "listenPort": 1179})),
            config("node.n1", json!({"listenPort": 2179, "asNumber": 65001})),
            config("node.n2", json!({"listenPort": 0})),
        ])
        .unwrap();
        assert_eq!(
            configs.default_as(),
            Some((65546, AsSource::DefaultConfiguration))
        );
        assert_eq!(
            configs.listen_port("n1"),
            Some((2179, PortSource::NodeConfiguration))
        );
        // listenPort 0 is unset: the default's applies.
        assert_eq!(
            configs.listen_port("n2"),
            Some((1179, PortSource::DefaultConfiguration))
        );
        assert_eq!(
            configs.notes(),
            [
                "BGPConfiguration \"node.n1\": spec.asNumber is cluster-wide, read from \"default\" \
              only; ignored here as Calico ignores it"
            ]
        );

        let bare = BgpConfigurations::from_objects(&[]).unwrap();
        assert_eq!(bare.default_as(), Some((BUILT_IN_AS, AsSource::BuiltIn)));
        assert_eq!(bare.listen_port("n1"), Some((179, PortSource::BgpDefault)));
        let unknown = BgpConfigurations::unknown("no BGPConfiguration given");
        assert_eq!(unknown.default_as(), None);
        assert_eq!(unknown.listen_port("n1"), None);
    }

    #[test]
    fn odd_values_and_names_are_notes_and_wrong_kinds_errors() {
        let configs = BgpConfigurations::from_objects(&[
            config(
                "default",
                json!({"asNumber": "x", "listenPort": 70000, "nodeToNodeMeshEnabled": "no"}),
            ),
            config("default", json!({"asNumber": 1})),
            config("cluster", json!({})),
        ])
        .unwrap();
        assert_eq!(configs.default, Some(BgpConfiguration::default()));
        assert_eq!(
            configs.notes,
            [
                "BGPConfiguration \"default\": spec.nodeToNodeMeshEnabled \"no\" is not true or \
                 false; ignored",
                "BGPConfiguration \"default\": spec.asNumber \"x\" is not an AS number; ignored",
                "BGPConfiguration \"default\": spec.listenPort 70000 is not a port from 1 to \
                 65535; ignored",
                "BGPConfiguration \"cluster\" is ignored: Calico reads only \"default\" and \
                 \"node.<nodename>\"",
            ]
        );
        let err = BgpConfigurations::from_objects(&[json!({"kind": "Node"})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "object 1: expected kind BGPConfiguration, found kind Node"
        );
        let err = BgpConfigurations::from_objects(&[json!([1])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "object 1: expected kind BGPConfiguration, found an array"
        );
        let nameless = json!({"kind": "BGPConfiguration", "metadata": {}});
        assert_eq!(
            BgpConfigurations::from_objects(&[nameless]).unwrap_err(),
            BgpConfigurationError::NoName { index: 1 }
        );
        let bad_spec = json!({"kind": "BGPConfiguration", "metadata": {"name": "default"},
                              "spec": [1]});
        assert_eq!(
            BgpConfigurations::from_objects(&[bad_spec])
                .unwrap_err()
                .to_string(),
            "BGPConfiguration \"default\": spec must be an object, found an array"
        );
    }

    #[test]
    fn notes_are_bounded_and_duplicates_keep_the_first() {
        let many: Vec<Value> = (0..1000)
            .map(|i| config(&format!("other-{i}"), json!({})))
            .chain([
                config("default", json!({"asNumber": 1})),
                config("default", json!({"asNumber": 2})),
            ])
            .collect();
        let configs = BgpConfigurations::from_objects(&many).unwrap();
        assert_eq!(configs.notes.len(), MAX_NOTES);
        assert_eq!(configs.notes[MAX_NOTES - 1], "981 more notes not shown");
        assert_eq!(
            configs.default_as(),
            Some((1, AsSource::DefaultConfiguration))
        );
    }

    #[test]
    fn webhook_mesh_warnings_fit_and_keep_the_instruction() {
        for mesh in [
            Mesh::from_default(None),
            Mesh::from_default(Some(&BgpConfiguration::default())),
            Mesh::from_default(Some(&BgpConfiguration {
                node_to_node_mesh_enabled: Some(true),
                ..BgpConfiguration::default()
            })),
        ] {
            for warning in [
                mesh.short_peer_selector_warning(),
                mesh.short_peer_ip_warning("n1"),
                mesh.short_peer_ip_warning(&"very-long-node-name.".repeat(20)),
            ] {
                assert!(warning.chars().count() <= MAX_LEN, "{warning}");
                assert!(warning.ends_with(MESH_FIX), "{warning}");
            }
        }
        assert_eq!(
            Mesh::from_default(Some(&BgpConfiguration::default())).short_peer_selector_warning(),
            "spec.peerSelector: node-to-node mesh is on (unset in BGPConfiguration default); \
             set nodeToNodeMeshEnabled: false"
        );
    }
}
