//! The nodes `explain` evaluates peers against, read from Kubernetes `Node` objects as JSON
//! (`kubectl get nodes -o json`, a single Node, or the objects the API server lists), or from
//! Calico `Node` resources (`projectcalico.org/v3`, `calicoctl get nodes -o json`), whose
//! `spec.bgp` holds the BGP addresses and the node's own AS number.
//!
//! Only what decides BGP sessions is kept: the name (what `spec.node` names), the labels (what
//! `nodeSelector` and `peerSelector` match; Calico copies Kubernetes node labels to its own
//! nodes), the address a `peerSelector` session goes to and the node's AS number when known.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde_json::Value;

use crate::bgppeer::asnumber;
use crate::field::json_type_name;

/// The annotation in which calico-node publishes the node's BGP IPv4 address (`10.0.0.11/24`).
pub const CALICO_IPV4_ANNOTATION: &str = "projectcalico.org/IPv4Address";
/// The annotation in which calico-node publishes the node's BGP IPv6 address.
pub const CALICO_IPV6_ANNOTATION: &str = "projectcalico.org/IPv6Address";
/// The annotation in which calico-node publishes the node's own AS number, when it has one.
pub(crate) const CALICO_AS_ANNOTATION: &str = "projectcalico.org/ASNumber";

/// One node, as far as BGP peering is concerned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeInfo {
    /// `metadata.name`: the name `BGPPeer.spec.node` refers to.
    pub name: String,
    /// `metadata.labels`: what `nodeSelector` and `peerSelector` are evaluated against.
    pub labels: BTreeMap<String, String>,
    /// The addresses a BGP session to this node goes to (empty when none is known).
    pub addresses: Vec<NodeAddress>,
    /// The node's own AS number (`CALICO_AS_ANNOTATION` on a Kubernetes Node, `spec.bgp.asNumber`
    /// on a Calico Node); `None` means the cluster default (`BGPConfiguration.spec.asNumber`),
    /// which is not in the node list.
    pub as_number: Option<u32>,
}

impl NodeInfo {
    #[cfg(test)]
    /// A node known only by its name and labels (no address, the cluster's default AS): what
    /// selectors and scopes need.
    pub(crate) fn with_labels(name: &str, labels: &[(&str, &str)]) -> Self {
        Self {
            name: name.to_owned(),
            labels: labels
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
            ..Self::default()
        }
    }
}

/// A BGP address of a node and where it was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NodeAddress {
    /// The address.
    pub ip: IpAddr,
    /// Where it came from, so that the output can say how sure it is.
    pub source: AddressSource,
}

/// Where a node's BGP address was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressSource {
    /// calico-node's own annotation: the address BIRD really uses.
    CalicoAnnotation,
    /// A Calico Node's `spec.bgp.ipv4Address` / `ipv6Address`: the same address, from the
    /// Calico resource.
    CalicoNode,
    /// The Kubernetes `InternalIP`: a best guess for nodes calico-node has not annotated (it is
    /// what `IP_AUTODETECTION_METHOD=kubernetes-internal-ip` picks).
    InternalIp,
}

impl AddressSource {
    /// The spelling used in the JSON output.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            AddressSource::CalicoAnnotation => "calico-annotation",
            AddressSource::CalicoNode => "calico-node",
            AddressSource::InternalIp => "internal-ip",
        }
    }
}

/// The nodes read from the input and what was odd about them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeList {
    /// The nodes, sorted by name.
    pub nodes: Vec<NodeInfo>,
    /// Problems that did not prevent reading a node (an unparseable address annotation, ...).
    pub warnings: Vec<String>,
}

/// Why the node input cannot be used. `Display` says which object and what is accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NodeListError {
    /// An object that is not a `v1` `Node`.
    #[error(
        "object {index}: expected kind Node (the output of `kubectl get nodes -o json`), \
         found {found}"
    )]
    NotANode {
        /// The 1-based position of the object in the input.
        index: usize,
        /// What was found instead (`kind ConfigMap`, `a string`, ...).
        found: String,
    },
    /// A Node without a usable `metadata.name`.
    #[error("object {index}: Node has no metadata.name")]
    NoName {
        /// The 1-based position of the object in the input.
        index: usize,
    },
    /// A field of the wrong type.
    #[error("Node {name:?}: {field} must be {expected}")]
    WrongType {
        /// The node.
        name: String,
        /// The field (`metadata.labels`).
        field: &'static str,
        /// What is accepted.
        expected: &'static str,
    },
    /// Two Nodes with the same name.
    #[error("Node {name:?} appears more than once")]
    Duplicate {
        /// The node.
        name: String,
    },
}

/// Reads nodes from Kubernetes objects (list items already expanded). Every object must be a
/// Node; problems with the optional BGP details (annotations, addresses) are warnings, because
/// the labels alone already answer most questions.
pub fn from_objects<'a>(
    objects: impl IntoIterator<Item = &'a Value>,
) -> Result<NodeList, NodeListError> {
    let mut list = NodeList::default();
    for (i, object) in objects.into_iter().enumerate() {
        let node = from_object(i + 1, object, &mut list.warnings)?;
        list.nodes.push(node);
    }
    list.nodes.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = list
        .nodes
        .windows(2)
        .find(|pair| pair[0].name == pair[1].name)
    {
        return Err(NodeListError::Duplicate {
            name: pair[0].name.clone(),
        });
    }
    Ok(list)
}

/// Reads one Node object.
fn from_object(
    index: usize,
    object: &Value,
    warnings: &mut Vec<String>,
) -> Result<NodeInfo, NodeListError> {
    match object.get("kind").and_then(Value::as_str) {
        Some("Node") => {}
        Some(kind) => {
            return Err(NodeListError::NotANode {
                index,
                found: format!("kind {kind}"),
            });
        }
        None => {
            let found = if object.is_object() {
                "an object without a kind".to_owned()
            } else {
                json_type_name(object).to_owned()
            };
            return Err(NodeListError::NotANode { index, found });
        }
    }
    let metadata = object.get("metadata");
    let name = metadata
        .and_then(|m| m.get("name"))
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or(NodeListError::NoName { index })?
        .to_owned();
    let labels = string_map(
        metadata.and_then(|m| m.get("labels")),
        &name,
        "metadata.labels",
    )?;
    let annotations = string_map(
        metadata.and_then(|m| m.get("annotations")),
        &name,
        "metadata.annotations",
    )?;
    let calico_bgp = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .filter(|v| v.starts_with("projectcalico.org/") || v.starts_with("crd.projectcalico.org/"))
        .and_then(|_| object.get("spec")?.get("bgp"));
    let mut addresses = calico_addresses(&name, &annotations, warnings);
    if addresses.is_empty()
        && let Some(bgp) = calico_bgp
    {
        addresses = calico_node_addresses(&name, bgp, warnings);
    }
    if addresses.is_empty() {
        addresses = internal_ips(&name, object.get("status"), warnings);
    }
    let mut as_number = annotations.get(CALICO_AS_ANNOTATION).and_then(|text| {
        let parsed = asnumber::parse_str(text).filter(|n| *n != 0);
        if parsed.is_none() {
            warnings.push(format!(
                "Node {name:?}: annotation {CALICO_AS_ANNOTATION} {text:?} is not an AS number; ignored"
            ));
        }
        parsed
    });
    if as_number.is_none()
        && let Some(value) = calico_bgp.and_then(|bgp| bgp.get("asNumber"))
        && !value.is_null()
    {
        as_number = asnumber::from_json(value)
            .ok()
            .map(|form| form.value())
            .filter(|n| *n != 0);
        if as_number.is_none() {
            warnings.push(format!(
                "Node {name:?}: spec.bgp.asNumber is not an AS number; ignored"
            ));
        }
    }
    Ok(NodeInfo {
        name,
        labels,
        addresses,
        as_number,
    })
}

/// A map of strings (labels, annotations); absent or `null` is empty.
fn string_map(
    value: Option<&Value>,
    name: &str,
    field: &'static str,
) -> Result<BTreeMap<String, String>, NodeListError> {
    let wrong_type = || NodeListError::WrongType {
        name: name.to_owned(),
        field,
        expected: "a map of strings to strings",
    };
    match value {
        None | Some(Value::Null) => Ok(BTreeMap::new()),
        Some(Value::Object(map)) => map
            .iter()
            .map(|(key, value)| {
                value
                    .as_str()
                    .map(|v| (key.clone(), v.to_owned()))
                    .ok_or_else(wrong_type)
            })
            .collect(),
        Some(_) => Err(wrong_type()),
    }
}

/// The addresses calico-node published in its annotations (`10.0.0.11/24` or a bare address).
fn calico_addresses(
    name: &str,
    annotations: &BTreeMap<String, String>,
    warnings: &mut Vec<String>,
) -> Vec<NodeAddress> {
    let mut addresses = Vec::new();
    for key in [CALICO_IPV4_ANNOTATION, CALICO_IPV6_ANNOTATION] {
        let Some(text) = annotations.get(key) else {
            continue;
        };
        match bgp_address(text) {
            Some(ip) => addresses.push(NodeAddress {
                ip,
                source: AddressSource::CalicoAnnotation,
            }),
            None => warnings.push(format!(
                "Node {name:?}: annotation {key} {text:?} is not an address or CIDR; ignored"
            )),
        }
    }
    addresses
}

/// The addresses of a Calico Node's `spec.bgp` (`ipv4Address`, `ipv6Address`).
fn calico_node_addresses(name: &str, bgp: &Value, warnings: &mut Vec<String>) -> Vec<NodeAddress> {
    let mut addresses = Vec::new();
    for field in ["ipv4Address", "ipv6Address"] {
        let Some(value) = bgp.get(field).filter(|v| !v.is_null()) else {
            continue;
        };
        match value.as_str().and_then(bgp_address) {
            Some(ip) => addresses.push(NodeAddress {
                ip,
                source: AddressSource::CalicoNode,
            }),
            None => warnings.push(format!(
                "Node {name:?}: spec.bgp.{field} is not an address or CIDR; ignored"
            )),
        }
    }
    addresses
}

/// The address in a calico-node address annotation or a Calico Node's `spec.bgp.ipv4Address`:
/// `10.0.0.11/24` or a bare address; `None` when it is neither.
pub fn bgp_address(text: &str) -> Option<IpAddr> {
    let host = text.split_once('/').map_or(text, |(host, _)| host);
    host.trim().parse::<IpAddr>().ok()
}

/// The `InternalIP` entries of `status.addresses`, at most one per address family.
fn internal_ips(
    name: &str,
    status: Option<&Value>,
    warnings: &mut Vec<String>,
) -> Vec<NodeAddress> {
    let entries = status
        .and_then(|s| s.get("addresses"))
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut addresses: Vec<NodeAddress> = Vec::new();
    for entry in entries {
        if entry.get("type").and_then(Value::as_str) != Some("InternalIP") {
            continue;
        }
        let text = entry.get("address").and_then(Value::as_str).unwrap_or("");
        match text.parse::<IpAddr>() {
            Ok(ip) if addresses.iter().all(|a| a.ip.is_ipv4() != ip.is_ipv4()) => {
                addresses.push(NodeAddress {
                    ip,
                    source: AddressSource::InternalIp,
                });
            }
            Ok(_) => {}
            Err(_) => warnings.push(format!(
                "Node {name:?}: InternalIP {text:?} is not an address; ignored"
            )),
        }
    }
    addresses
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_names_labels_and_calico_addresses() {
        let node = json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": "n1", "labels": {"rack": "r1"},
                "annotations": {
                    CALICO_IPV4_ANNOTATION: "10.0.0.11/24",
                    CALICO_IPV6_ANNOTATION: "fd00::11/64",
                    CALICO_AS_ANNOTATION: "64512"
                }
            },
            "status": {"addresses": [{"type": "InternalIP", "address": "192.168.0.11"}]}
        });
        let list = from_objects([&node]).unwrap();
        let n1 = &list.nodes[0];
        assert_eq!(n1.name, "n1");
        assert_eq!(n1.labels["rack"], "r1");
        let ips: Vec<String> = n1.addresses.iter().map(|a| a.ip.to_string()).collect();
        assert_eq!(ips, ["10.0.0.11", "fd00::11"]);
        assert!(
            n1.addresses
                .iter()
                .all(|a| a.source == AddressSource::CalicoAnnotation)
        );
        assert_eq!(n1.as_number, Some(64512));
        assert!(list.warnings.is_empty());
    }

    #[test]
    fn falls_back_to_one_internal_ip_per_family() {
        let node = json!({"kind": "Node", "metadata": {"name": "n2"}, "status": {"addresses": [
            {"type": "Hostname", "address": "n2"},
            {"type": "InternalIP", "address": "10.0.0.12"},
            {"type": "InternalIP", "address": "10.0.0.99"},
            {"type": "InternalIP", "address": "fd00::12"},
            {"type": "InternalIP", "address": "bogus"}
        ]}});
        let list = from_objects([&node]).unwrap();
        let addresses = &list.nodes[0].addresses;
        assert_eq!(addresses.len(), 2);
        assert_eq!(addresses[0].ip.to_string(), "10.0.0.12");
        assert_eq!(addresses[0].source, AddressSource::InternalIp);
        assert_eq!(addresses[1].ip.to_string(), "fd00::12");
        assert_eq!(
            list.warnings,
            ["Node \"n2\": InternalIP \"bogus\" is not an address; ignored"]
        );
    }

    #[test]
    fn bad_annotations_are_warnings() {
        let node = json!({"kind": "Node", "metadata": {"name": "n3", "annotations": {
            CALICO_IPV4_ANNOTATION: "not-an-ip/24", CALICO_AS_ANNOTATION: "x"
        }}});
        let list = from_objects([&node]).unwrap();
        assert!(list.nodes[0].addresses.is_empty());
        assert_eq!(list.nodes[0].as_number, None);
        assert_eq!(list.warnings.len(), 2);
    }

    #[test]
    fn refuses_what_is_not_a_node_list() {
        let err = from_objects([&json!({"kind": "Pod"})]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "object 1: expected kind Node (the output of `kubectl get nodes -o json`), found kind Pod"
        );
        let err = from_objects([&json!("text")]).unwrap_err();
        assert!(err.to_string().ends_with("found a string"), "{err}");
        let err = from_objects([&json!({"metadata": {}})]).unwrap_err();
        assert!(
            err.to_string().ends_with("found an object without a kind"),
            "{err}"
        );
        let err = from_objects([&json!({"kind": "Node", "metadata": {}})]).unwrap_err();
        assert_eq!(err, NodeListError::NoName { index: 1 });
        let node = json!({"kind": "Node", "metadata": {"name": "a", "labels": {"x": 1}}});
        assert_eq!(
            from_objects([&node]).unwrap_err().to_string(),
            "Node \"a\": metadata.labels must be a map of strings to strings"
        );
        let a = json!({"kind": "Node", "metadata": {"name": "a"}});
        assert_eq!(
            from_objects([&a, &a]).unwrap_err(),
            NodeListError::Duplicate { name: "a".into() }
        );
    }

    #[test]
    fn calico_nodes_give_their_bgp_spec() {
        let node = json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": "c1", "labels": {"rack": "r1"}},
            "spec": {"bgp": {"ipv4Address": "10.0.0.21/24", "asNumber": "1.10"}}});
        let list = from_objects([&node]).unwrap();
        let c1 = &list.nodes[0];
        assert_eq!(c1.as_number, Some(65546));
        assert_eq!(c1.addresses.len(), 1);
        assert_eq!(c1.addresses[0].ip.to_string(), "10.0.0.21");
        assert_eq!(c1.addresses[0].source, AddressSource::CalicoNode);
        assert!(list.warnings.is_empty());
        // A Kubernetes Node's spec.bgp means nothing.
        let k8s = json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "k1"},
            "spec": {"bgp": {"asNumber": 1}}});
        assert_eq!(from_objects([&k8s]).unwrap().nodes[0].as_number, None);
        let bad = json!({"apiVersion": "projectcalico.org/v3", "kind": "Node",
            "metadata": {"name": "c2"}, "spec": {"bgp": {"ipv6Address": 7, "asNumber": "x"}}});
        assert_eq!(from_objects([&bad]).unwrap().warnings.len(), 2);
    }

    #[test]
    fn nodes_are_sorted_by_name() {
        let b = json!({"kind": "Node", "metadata": {"name": "b"}});
        let a = json!({"kind": "Node", "metadata": {"name": "a"}});
        let names: Vec<String> = from_objects([&b, &a])
            .unwrap()
            .nodes
            .into_iter()
            .map(|n| n.name)
            .collect();
        assert_eq!(names, ["a", "b"]);
    }
}
