//! The Graphviz output of `explain` (`-o dot`): the peering graph as a `digraph`.
//!
//! Vertices are the nodes of the node list (boxes, labelled with their BGP addresses), the
//! external peers by address (ellipses) and the local workloads a `localWorkloadSelector` peers
//! with (notes). Each session is an edge from the node that opens it, labelled with the BGPPeer's
//! name and the remote AS, then iBGP or eBGP and the port when known; a session that cannot open
//! (address families that do not meet) is a red dashed edge saying so. The graph's label is the
//! node-to-node mesh state. Every identifier is a quoted DOT string (`quote`), so no name,
//! selector or label can break the syntax.

use std::fmt::Write;

use super::nodes::NodeInfo;
use super::text::endpoint;
use super::{Explanation, Target};

/// The graph's name.
pub(crate) const GRAPH_NAME: &str = "bgp-peerings";

/// Renders the peering graph of the valid peers.
pub fn render(explanation: &Explanation) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "digraph {} {{", quote(GRAPH_NAME));
    let mesh = explanation.bgp.mesh();
    let _ = writeln!(
        out,
        "  graph [rankdir=\"LR\", label={}];",
        quote(&format!("node-to-node mesh: {}", mesh.state()))
    );
    out.push_str("  node [fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=\"10\"];\n");
    for node in &explanation.nodes {
        let _ = writeln!(
            out,
            "  {} [shape=\"box\", label={}];",
            quote(&node_id(&node.name)),
            label(&node_label(node))
        );
    }
    let mut extra: Vec<String> = Vec::new();
    let mut edges = String::new();
    for (peer, plan) in explanation.plans() {
        let peer_name = peer.name.as_deref().unwrap_or("(unnamed)");
        for session in &plan.sessions {
            let (to, as_text) = match &session.target {
                Target::Address {
                    ip,
                    port,
                    as_number,
                } => {
                    let address = endpoint(*ip, *port);
                    let id = format!("peer:{address}");
                    let as_text = as_number.map_or("AS unset".to_owned(), |n| format!("AS {n}"));
                    declare(&mut extra, &mut out, &id, || {
                        format!("shape=\"ellipse\", label={}", quote(&address))
                    });
                    (id, as_text)
                }
                Target::Node {
                    name, as_number, ..
                } => (
                    node_id(name),
                    as_number.map_or("default AS".to_owned(), |n| format!("AS {n}")),
                ),
                Target::LocalWorkloads {
                    selector,
                    as_number,
                } => {
                    let id = format!("workloads:{} AS {as_number}", selector);
                    declare(&mut extra, &mut out, &id, || {
                        format!(
                            "shape=\"note\", label={}",
                            label(&[
                                "local workloads".to_owned(),
                                selector.clone(),
                                format!("AS {as_number}")
                            ])
                        )
                    });
                    (id, format!("AS {as_number}"))
                }
            };
            let mut lines = vec![peer_name.to_owned(), as_text];
            let mut details: Vec<String> =
                session.bgp_type().map(str::to_owned).into_iter().collect();
            details.extend(session.port.map(|(port, _)| format!("port {port}")));
            if !details.is_empty() {
                lines.push(details.join(", "));
            }
            let style = if session.warnings.is_empty() {
                String::new()
            } else {
                lines.push("cannot open: address families differ".to_owned());
                ", color=\"red\", style=\"dashed\"".to_owned()
            };
            let _ = writeln!(
                edges,
                "  {} -> {} [label={}{style}];",
                quote(&node_id(&session.node)),
                quote(&to),
                label(&lines)
            );
        }
    }
    out.push_str(&edges);
    out.push_str("}\n");
    out
}

/// Writes a vertex the first time its id is seen.
fn declare(
    seen: &mut Vec<String>,
    out: &mut String,
    id: &str,
    attributes: impl FnOnce() -> String,
) {
    if seen.iter().any(|s| s == id) {
        return;
    }
    seen.push(id.to_owned());
    let _ = writeln!(out, "  {} [{}];", quote(id), attributes());
}

/// The vertex id of a node (prefixed so that it cannot collide with an address vertex).
fn node_id(name: &str) -> String {
    format!("node:{name}")
}

/// The label lines of a node: its name and addresses.
fn node_label(node: &NodeInfo) -> Vec<String> {
    let mut lines = vec![node.name.clone()];
    lines.extend(node.addresses.iter().map(|a| a.ip.to_string()));
    lines
}

/// A quoted DOT string: `"` and `\` are escaped and line breaks become `\n`, so that any text is
/// one ID token that Graphviz reads back unchanged.
pub(crate) fn quote(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\r' => {}
            _ => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A multi-line label: each line quoted as in [`quote`], joined with DOT's `\n` line break.
fn label(lines: &[String]) -> String {
    quote(&lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_escapes_quotes_backslashes_and_newlines() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote(r#"a == "x""#), r#""a == \"x\"""#);
        assert_eq!(quote("back\\slash\\"), r#""back\\slash\\""#);
        assert_eq!(quote("two\nlines\r\n"), r#""two\nlines\n""#);
        assert_eq!(quote(""), "\"\"");
    }
}
