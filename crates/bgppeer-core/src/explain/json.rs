//! The JSON output of `explain` (`-o json`): one object with a stable schema, versioned by
//! `JSON_SCHEMA_VERSION`, described by `docs/schemas/explain.schema.json` (a test validates real
//! output against it). Fields are only ever added within a version.

use serde_json::{Value, json};

use super::nodes::NodeAddress;
use super::{Explanation, PeerOutcome, PeerReport, Plan, Remote, Scope, Session, Target};
use crate::bgpconfig::{AsSource, BgpConfigurations, PortSource};
use crate::field::{MAX_NAME_LEN, shorten};

/// The version of the `-o json` schema; bumped only on incompatible changes.
pub(crate) const JSON_SCHEMA_VERSION: u32 = 1;

/// Renders the whole explanation as pretty-printed JSON (no trailing newline).
pub fn render(explanation: &Explanation) -> String {
    let value = to_value(explanation);
    serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string())
}

/// The explanation as a JSON value, as described by `docs/schemas/explain.schema.json`.
pub(crate) fn to_value(explanation: &Explanation) -> Value {
    let explained = explanation.plans().count();
    json!({
        "schemaVersion": JSON_SCHEMA_VERSION,
        "exitCode": explanation.exit_code(),
        "summary": {
            "nodes": explanation.nodes.len(),
            "bgpPeers": explanation.peers.len(),
            "explained": explained,
            "invalid": explanation.peers.len() - explained,
            "sessions": explanation.session_count(),
            "skipped": explanation.skipped.len(),
            "inputErrors": explanation.input_errors.len(),
        },
        "nodes": explanation.nodes.iter().map(|node| json!({
            "name": node.name,
            "labels": node.labels,
            "addresses": addresses(&node.addresses),
            "asNumber": node.as_number,
        })).collect::<Vec<_>>(),
        "nodeWarnings": explanation.node_warnings,
        "bgpConfiguration": bgp(&explanation.bgp),
        "peers": explanation.peers.iter().map(peer).collect::<Vec<_>>(),
        "skipped": explanation.skipped.iter().map(|(source, kind)| json!({
            "source": source,
            "kind": kind,
        })).collect::<Vec<_>>(),
        "inputErrors": explanation.input_errors,
    })
}

/// One BGPPeer.
fn peer(report: &PeerReport) -> Value {
    match &report.outcome {
        PeerOutcome::Invalid(validation) => json!({
            "source": report.source,
            "name": report.name.as_deref().map(|name| shorten(name, MAX_NAME_LEN)),
            "valid": false,
            "scope": null,
            "appliesTo": [],
            "remote": null,
            "sessions": [],
            "warnings": validation.warnings,
            "errors": validation.errors.shown().map(|error| json!({
                "field": error.path.to_string(),
                "reason": error.error_type.reason(),
                "message": error.body(),
                "text": error.to_string(),
            })).collect::<Vec<_>>(),
        }),
        PeerOutcome::Explained(plan) => json!({
            "source": report.source,
            "name": report.name.as_deref().map(|name| shorten(name, MAX_NAME_LEN)),
            "valid": true,
            "scope": scope(&plan.scope),
            "appliesTo": plan.applies_to,
            "remote": remote(plan),
            "sessions": plan.sessions.iter().map(session).collect::<Vec<_>>(),
            "warnings": plan.warnings,
            "errors": [],
        }),
    }
}

/// One session: the two ends, the AS numbers, iBGP or eBGP, the port, and why it cannot open.
fn session(session: &Session) -> Value {
    json!({
        "node": session.node,
        "peer": target(&session.target),
        "localAs": as_value(session.local_as),
        "remoteAs": as_value(session.remote_as),
        "bgpType": session.bgp_type().unwrap_or("unknown"),
        "port": port_value(session.port),
        "warnings": session.warnings,
    })
}

/// `{"asNumber": 64512 | null, "source": "bgpPeer" | "node" | ... | "unknown"}`.
fn as_value(value: Option<(u32, AsSource)>) -> Value {
    match value {
        Some((as_number, source)) => json!({"asNumber": as_number, "source": source.as_str()}),
        None => json!({"asNumber": null, "source": "unknown"}),
    }
}

/// `{"port": 179 | null, "source": "peerIP" | ... | "unknown"}`.
fn port_value(value: Option<(u16, PortSource)>) -> Value {
    match value {
        Some((port, source)) => json!({"port": port, "source": source.as_str()}),
        None => json!({"port": null, "source": "unknown"}),
    }
}

/// The BGP configuration the sessions were resolved with.
fn bgp(bgp: &BgpConfigurations) -> Value {
    let mesh = bgp.mesh();
    json!({
        "given": bgp.given(),
        "mesh": {"state": mesh.state(), "reason": mesh.reason()},
        "defaultAs": as_value(bgp.default_as()),
        "listenPort": port_value(bgp.default_listen_port()),
        "nodeListenPorts": bgp.per_node().iter()
            .filter_map(|(node, config)| Some((node.clone(), json!(config.listen_port?))))
            .collect::<serde_json::Map<String, Value>>(),
        "notes": bgp.notes(),
    })
}

/// `{"type": "global" | "node" | "nodeSelector", ...}`.
fn scope(scope: &Scope) -> Value {
    match scope {
        Scope::Global => json!({"type": "global"}),
        Scope::Node(node) => json!({"type": "node", "node": node}),
        Scope::NodeSelector(selector) => {
            json!({"type": "nodeSelector", "selector": selector.to_string()})
        }
    }
}

/// `{"type": "peerIP" | "peerSelector" | "localWorkloads" | "none", ...}`.
fn remote(plan: &Plan) -> Value {
    match &plan.remote {
        Remote::PeerIp { address, as_number } => json!({
            "type": "peerIP",
            "ip": address.ip.to_string(),
            "port": address.port,
            "asNumber": as_number,
        }),
        Remote::PeerSelector {
            selector,
            matches,
            manual_reverse,
        } => json!({
            "type": "peerSelector",
            "selector": selector,
            "matches": matches,
            "reversePeering": if *manual_reverse { "Manual" } else { "Auto" },
        }),
        Remote::LocalWorkloads {
            selector,
            as_number,
        } => json!({
            "type": "localWorkloads",
            "selector": selector,
            "asNumber": as_number,
        }),
        Remote::Nothing => json!({"type": "none"}),
    }
}

/// `{"type": "address" | "node" | "localWorkloads", ...}`.
fn target(target: &Target) -> Value {
    match target {
        Target::Address {
            ip,
            port,
            as_number,
        } => json!({
            "type": "address",
            "ip": ip.to_string(),
            "port": port,
            "asNumber": as_number,
        }),
        Target::Node {
            name,
            addresses: node_addresses,
            as_number,
        } => json!({
            "type": "node",
            "name": name,
            "addresses": addresses(node_addresses),
            "asNumber": as_number,
        }),
        Target::LocalWorkloads {
            selector,
            as_number,
        } => json!({
            "type": "localWorkloads",
            "selector": selector,
            "asNumber": as_number,
        }),
    }
}

/// `[{"ip": "10.0.0.11", "source": "calico-annotation" | "internal-ip"}]`.
fn addresses(addresses: &[NodeAddress]) -> Vec<Value> {
    addresses
        .iter()
        .map(|a| json!({"ip": a.ip.to_string(), "source": a.source.as_str()}))
        .collect()
}
