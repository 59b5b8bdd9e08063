//! The text output of `explain` (`-o text`): the BGP configuration (mesh, default AS, listen
//! port), one block per BGPPeer (scope, nodes, remote, sessions with their AS numbers, type and
//! port, warnings), then a summary line.

use std::fmt::Write;
use std::net::{IpAddr, SocketAddr};

use super::nodes::{AddressSource, NodeAddress, NodeInfo};
use super::{Explanation, PeerOutcome, Plan, Remote, Scope, Session, Target};
use crate::bgpconfig::{AsSource, BUILT_IN_AS, BgpConfigurations, PortSource};

/// Renders the whole explanation.
pub fn render(explanation: &Explanation) -> String {
    let mut out = String::new();
    render_bgp(&mut out, &explanation.bgp);
    for warning in &explanation.node_warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
    for peer in &explanation.peers {
        if !out.is_empty() {
            out.push('\n');
        }
        match &peer.outcome {
            PeerOutcome::Invalid(report) => {
                let _ = writeln!(
                    out,
                    "BGPPeer {} ({}): invalid, not explained",
                    peer.display_name(),
                    peer.source
                );
                for error in report.errors.shown() {
                    let _ = writeln!(out, "  error: {error}");
                }
                for warning in &report.warnings {
                    let _ = writeln!(out, "  warning: {warning}");
                }
            }
            PeerOutcome::Explained(plan) => {
                let _ = writeln!(out, "BGPPeer {} ({})", peer.display_name(), peer.source);
                render_plan(&mut out, plan, &explanation.nodes);
            }
        }
    }
    if !out.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(out, "{}", summary(explanation));
    out
}

/// The body of one valid peer's block.
fn render_plan(out: &mut String, plan: &Plan, nodes: &[NodeInfo]) {
    let node_count = nodes.len();
    let scope = match &plan.scope {
        Scope::Global => "global (no node, no nodeSelector): every node".to_owned(),
        Scope::Node(name) => format!("node {name}"),
        Scope::NodeSelector(selector) => format!("nodeSelector {selector}"),
    };
    let _ = writeln!(out, "  scope: {scope}");
    let _ = writeln!(
        out,
        "  applies to: {} of {} {}{}",
        plan.applies_to.len(),
        node_count,
        plural(node_count, "node", "nodes"),
        names_suffix(&plan.applies_to)
    );
    let remote = match &plan.remote {
        Remote::PeerIp { address, as_number } => format!(
            "peerIP {} ({})",
            endpoint(address.ip, address.port),
            as_text(*as_number, "AS unset: expected to be a Calico node")
        ),
        Remote::PeerSelector {
            selector,
            matches,
            manual_reverse,
        } => format!(
            "nodes matching peerSelector {selector}: {} {}{}{}",
            matches.len(),
            plural(matches.len(), "node", "nodes"),
            names_suffix(matches),
            if *manual_reverse {
                " (reversePeering: Manual)"
            } else {
                ""
            }
        ),
        Remote::LocalWorkloads {
            selector,
            as_number,
        } => format!(
            "local workloads matching localWorkloadSelector {selector} (AS {as_number}) on each \
             node; workloads are not in the node list"
        ),
        Remote::Nothing => "nothing".to_owned(),
    };
    let _ = writeln!(out, "  peers with: {remote}");
    if plan.sessions.is_empty() {
        let _ = writeln!(out, "  sessions: none");
    } else {
        let _ = writeln!(out, "  sessions: {}", plan.sessions.len());
        for session in &plan.sessions {
            let _ = writeln!(out, "    {} -> {}", session.node, target(&session.target));
            let _ = writeln!(out, "      {}", resolution(session, nodes));
            for warning in &session.warnings {
                let _ = writeln!(out, "      warning: {warning}");
            }
        }
    }
    for warning in &plan.warnings {
        let _ = writeln!(out, "  warning: {warning}");
    }
}

/// The BGP configuration block: mesh, default AS, listen ports, notes.
fn render_bgp(out: &mut String, bgp: &BgpConfigurations) {
    let mesh = bgp.mesh();
    let _ = writeln!(
        out,
        "BGP configuration: {}",
        if bgp.given() { "read" } else { "unknown" }
    );
    let _ = writeln!(
        out,
        "  node-to-node mesh: {} ({})",
        mesh.state(),
        mesh.reason()
    );
    match bgp.default_as() {
        Some((as_number, source)) => {
            let _ = writeln!(out, "  default AS: {as_number} ({})", as_source(source));
        }
        None => {
            let _ = writeln!(
                out,
                "  default AS unknown: no BGPConfiguration given; Calico's built-in default is \
                 {BUILT_IN_AS}"
            );
        }
    }
    match bgp.default_listen_port() {
        Some((port, source)) => {
            let mut line = format!("  listen port: {port} ({})", port_source(source, ""));
            for (node, config) in bgp.per_node() {
                if let Some(port) = config.listen_port {
                    let _ = write!(line, "; node {node}: {port}");
                }
            }
            let _ = writeln!(out, "{line}");
        }
        None => {
            let _ = writeln!(
                out,
                "  listen port unknown: no BGPConfiguration given; BGP's default is 179"
            );
        }
    }
    for note in bgp.notes() {
        let _ = writeln!(out, "  note: {note}");
    }
}

/// `eBGP: local AS 64512 (BGPConfiguration default), remote AS 64500 (BGPPeer asNumber); port
/// 179 (BGP's default)`.
fn resolution(session: &Session, nodes: &[NodeInfo]) -> String {
    let kind = session.bgp_type().unwrap_or("iBGP or eBGP unknown");
    let as_part = |label: &str, value: Option<(u32, AsSource)>| match value {
        Some((n, source)) => format!("{label} AS {n} ({})", as_source(source)),
        None => format!("{label} AS unknown"),
    };
    // The node whose listen port it is, to name its BGPConfiguration.
    let remote_node = match (&session.target, session.port) {
        (Target::Node { name, .. }, _) => name.as_str(),
        (Target::Address { ip, .. }, Some((_, PortSource::NodeConfiguration))) => nodes
            .iter()
            .find(|node| node.addresses.iter().any(|a| a.ip == *ip))
            .map_or("", |node| node.name.as_str()),
        _ => "",
    };
    let port = match session.port {
        Some((port, source)) => format!("port {port} ({})", port_source(source, remote_node)),
        None => "port unknown (the remote node's listenPort; BGP's default is 179)".to_owned(),
    };
    format!(
        "{kind}: {}, {}; {port}",
        as_part("local", session.local_as),
        as_part("remote", session.remote_as)
    )
}

/// Where an AS number comes from, in words.
fn as_source(source: AsSource) -> &'static str {
    match source {
        AsSource::Peer => "BGPPeer asNumber",
        AsSource::Node => "the node's own",
        AsSource::DefaultConfiguration => "BGPConfiguration default",
        AsSource::BuiltIn => "Calico's built-in default",
    }
}

/// Where a port comes from, in words (`node` names the remote node, when the session goes to
/// one).
fn port_source(source: PortSource, node: &str) -> String {
    match source {
        PortSource::PeerIp => "peerIP".to_owned(),
        PortSource::NodeConfiguration if !node.is_empty() => {
            format!("BGPConfiguration node.{node} listenPort")
        }
        PortSource::NodeConfiguration => "the node's BGPConfiguration listenPort".to_owned(),
        PortSource::DefaultConfiguration => "BGPConfiguration default listenPort".to_owned(),
        PortSource::BgpDefault => "BGP's default".to_owned(),
    }
}

/// The remote end of a session, for one line.
fn target(target: &Target) -> String {
    match target {
        Target::Address {
            ip,
            port,
            as_number,
        } => format!(
            "{} ({})",
            endpoint(*ip, *port),
            as_text(*as_number, "AS unset")
        ),
        Target::Node {
            name,
            addresses,
            as_number,
        } => format!(
            "node {name} at {} ({})",
            addresses_text(addresses),
            as_text(*as_number, "the cluster's default AS")
        ),
        Target::LocalWorkloads {
            selector,
            as_number,
        } => format!("local workloads matching {selector} (AS {as_number})"),
    }
}

/// `10.0.0.1`, `10.0.0.1:179` or `[2001:db8::1]:179`.
pub(crate) fn endpoint(ip: IpAddr, port: Option<u16>) -> String {
    match port {
        Some(port) => SocketAddr::new(ip, port).to_string(),
        None => ip.to_string(),
    }
}

/// `AS 64512`, or what an unset AS number means here.
fn as_text(as_number: Option<u32>, unset: &str) -> String {
    match as_number {
        Some(n) => format!("AS {n}"),
        None => unset.to_owned(),
    }
}

/// `10.0.0.12, fd00::12`, marking guessed addresses, or `an unknown address`.
fn addresses_text(addresses: &[NodeAddress]) -> String {
    if addresses.is_empty() {
        return "an unknown address".to_owned();
    }
    addresses
        .iter()
        .map(|a| match a.source {
            AddressSource::CalicoAnnotation | AddressSource::CalicoNode => a.ip.to_string(),
            AddressSource::InternalIp => format!("{} (InternalIP)", a.ip),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `: a, b` or nothing.
fn names_suffix(names: &[String]) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(": {}", names.join(", "))
    }
}

/// The word for a count.
fn plural<'a>(count: usize, one: &'a str, many: &'a str) -> &'a str {
    if count == 1 { one } else { many }
}

/// `3 BGPPeers on 4 nodes: 2 explained (5 sessions), 1 invalid; 1 other document skipped; 1
/// input could not be read`.
fn summary(explanation: &Explanation) -> String {
    let total = explanation.peers.len();
    let explained = explanation.plans().count();
    let sessions = explanation.session_count();
    let nodes = explanation.nodes.len();
    let mut line = format!(
        "{total} {} on {nodes} {}: {explained} explained ({sessions} {}), {} invalid",
        plural(total, "BGPPeer", "BGPPeers"),
        plural(nodes, "node", "nodes"),
        plural(sessions, "session", "sessions"),
        total - explained
    );
    let skipped = explanation.skipped.len();
    if skipped > 0 {
        let _ = write!(
            line,
            "; {skipped} other {} skipped",
            plural(skipped, "document", "documents")
        );
    }
    let unreadable = explanation.input_errors.len();
    if unreadable > 0 {
        let _ = write!(
            line,
            "; {unreadable} {} could not be read",
            plural(unreadable, "input", "inputs")
        );
    }
    line
}
