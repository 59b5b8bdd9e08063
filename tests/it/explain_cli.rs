//! End-to-end tests of `bgppeer-webhook explain`: the real binary on the files in
//! `tests/fixtures/explain/`, asserting stdout, stderr and the exit code; `--kubeconfig` against
//! a small Kubernetes API endpoint served by the test itself.
//!
//! The `-o dot` output is always checked by [`dot_syntax`], a parser for the subset of the DOT
//! language that the command may emit (strict about quoting and statement structure), and is
//! additionally rendered with Graphviz's `dot -Tsvg` when `dot` is installed (`make tools`
//! installs it on Debian). Set `BGPPEER_WEBHOOK_REQUIRE_DOT=1` to make a missing `dot` a failure.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::binary;
use binary::{stderr, stdout};

const NODES: &str = "tests/fixtures/explain/nodes/nodes.json";
const PEERS: &str = "tests/fixtures/explain/peers/peers.yaml";
const PROBLEMS: &str = "tests/fixtures/explain/peers/problems.yaml";
const PEER_DIR: &str = "tests/fixtures/explain/peers";
const BGP_PEERS: &str = "tests/fixtures/explain/bgp/peers.yaml";
const MESH_UNSET: &str = "tests/fixtures/explain/bgp/mesh-unset.yaml";
const MESH_OFF: &str = "tests/fixtures/explain/bgp/mesh-off.json";

fn explain(args: &[&str]) -> Output {
    binary::run("explain", args, b"")
}

fn explain_with_stdin(args: &[&str], input: Option<&[u8]>) -> Output {
    binary::run("explain", args, input.unwrap_or_default())
}

#[test]
fn text_output_for_every_scope() {
    let output = explain(&["--nodes", NODES, PEERS]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    for expected in [
        "BGPPeer \"global-router\" (tests/fixtures/explain/peers/peers.yaml:doc 1)\n\
         \x20 scope: global (no node, no nodeSelector): every node\n\
         \x20 applies to: 4 of 4 nodes: rack1-host1, rack1-host2, rack2-host1, rr1\n\
         \x20 peers with: peerIP 192.0.2.1 (AS 64500)\n\
         \x20 sessions: 4\n",
        "  scope: node rack1-host1\n",
        "    rack1-host1 -> 10.1.0.1:179 (AS 64512)\n",
        "  scope: nodeSelector (rack == \"r1\" && !has(route-reflector))\n",
        "  peers with: nodes matching peerSelector route-reflector == \"true\": 1 node: rr1\n",
        "    rack2-host1 -> node rr1 at 10.1.0.2 (the cluster's default AS)\n",
        "    rr1 -> node rack1-host1 at 10.1.0.11, fd00:1::11 (AS 64601)\n",
        "    rr1 -> node rack2-host1 at 192.168.2.11 (InternalIP) (the cluster's default AS)\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        text.ends_with("\n5 BGPPeers on 4 nodes: 5 explained (13 sessions), 0 invalid\n"),
        "{text}"
    );
}

#[test]
fn invalid_peers_and_warnings_give_exit_code_1() {
    let output = explain(&["--nodes", NODES, PROBLEMS]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    for expected in [
        "  warning: node \"rack9-host1\" is not in the node list\n",
        "  warning: nodeSelector matches no node\n",
        "  warning: peerSelector matches no node\n",
        "BGPPeer \"invalid\" (tests/fixtures/explain/peers/problems.yaml:doc 4): invalid, not explained\n\
         \x20 error: spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535\n\
         \x20 error: spec.node: Forbidden: node and nodeSelector cannot both be set\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        text.ends_with(
            "4 BGPPeers on 4 nodes: 3 explained (0 sessions), 1 invalid; 1 other document skipped\n"
        ),
        "{text}"
    );
}

#[test]
fn json_output() {
    let output = explain(&["--nodes", NODES, "-o", "json", PEER_DIR]);
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(json["schemaVersion"], 1);
    assert_eq!(json["exitCode"], 1);
    assert_eq!(
        json["summary"],
        json!({"nodes": 4, "bgpPeers": 10, "explained": 9, "invalid": 1, "sessions": 14,
               "skipped": 1, "inputErrors": 0})
    );
    let peers = json["peers"].as_array().unwrap();
    let by_name = |name: &str| peers.iter().find(|p| p["name"] == name).unwrap();
    let mesh = by_name("rr1-mesh");
    assert_eq!(mesh["scope"], json!({"type": "node", "node": "rr1"}));
    assert_eq!(mesh["remote"]["type"], "peerSelector");
    assert_eq!(mesh["remote"]["matches"].as_array().unwrap().len(), 4);
    assert_eq!(
        mesh["sessions"][2],
        json!({"node": "rr1", "peer": {"type": "node", "name": "rack2-host1", "asNumber": null,
               "addresses": [{"ip": "192.168.2.11", "source": "internal-ip"}]},
               "localAs": {"asNumber": null, "source": "unknown"},
               "remoteAs": {"asNumber": null, "source": "unknown"},
               "bgpType": "unknown",
               "port": {"port": null, "source": "unknown"},
               "warnings": []})
    );
    let invalid = by_name("invalid");
    assert_eq!(invalid["valid"], false);
    assert_eq!(invalid["scope"], Value::Null);
    assert_eq!(invalid["errors"][0]["field"], "spec.peerIP");
    assert_eq!(invalid["errors"][0]["reason"], "FieldValueInvalid");
    let workloads = by_name("metallb-speakers");
    assert_eq!(
        workloads["sessions"],
        json!([{"node": "rack2-host1", "peer": {"type": "localWorkloads",
                "selector": "app == \"speaker\"", "asNumber": 64700},
                "localAs": {"asNumber": null, "source": "unknown"},
                "remoteAs": {"asNumber": 64700, "source": "bgpPeer"},
                "bgpType": "unknown",
                "port": {"port": 179, "source": "bgpDefault"},
                "warnings": []}])
    );
    assert_eq!(json["skipped"][0]["kind"], "ConfigMap");
}

#[test]
fn dot_output_is_a_valid_graph_of_every_session() {
    let output = explain(&["--nodes", NODES, "-o", "dot", PEERS]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dot = stdout(&output);
    let graph = dot_syntax::parse(dot).unwrap_or_else(|err| panic!("{err}\n{dot}"));
    assert_eq!(graph.name.as_deref(), Some("bgp-peerings"));
    let node_ids: Vec<&str> = graph.nodes.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        &node_ids[..4],
        [
            "node:rack1-host1",
            "node:rack1-host2",
            "node:rack2-host1",
            "node:rr1"
        ]
    );
    assert!(node_ids.contains(&"peer:192.0.2.1"));
    assert!(node_ids.contains(&"peer:10.1.0.1:179"));
    assert_eq!(graph.edges.len(), 13, "one edge per session");
    for (from, to, _) in &graph.edges {
        assert!(node_ids.contains(&from.as_str()), "undeclared {from}");
        assert!(node_ids.contains(&to.as_str()), "undeclared {to}");
    }
    assert!(graph.edges.contains(&(
        "node:rr1".to_owned(),
        "node:rack1-host1".to_owned(),
        vec![("label".to_owned(), "rr1-mesh\\nAS 64601".to_owned())]
    )));
    render_with_graphviz(dot);
}

#[test]
fn dot_output_survives_hostile_names() {
    let nodes = json!({"apiVersion": "v1", "kind": "List", "items": [
        {"kind": "Node", "metadata": {"name": "a\"] -> x; evil [", "labels": {"peer": "yes"}}},
        {"kind": "Node", "metadata": {"name": "b\\", "labels": {"peer": "yes"}}},
        {"kind": "Node", "metadata": {"name": "c\nd }", "labels": {"peer": "yes"}}}
    ]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nodes.json");
    std::fs::write(&path, nodes.to_string()).unwrap();
    let peer = b"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: mesh}\n\
                 spec: {peerSelector: \"peer == 'yes'\"}\n";
    let output = explain_with_stdin(
        &["--nodes", path.to_str().unwrap(), "-o", "dot", "-"],
        Some(peer),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dot = stdout(&output);
    let graph = dot_syntax::parse(dot).unwrap_or_else(|err| panic!("{err}\n{dot}"));
    let ids: Vec<&str> = graph.nodes.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(
        ids,
        ["node:a\"] -> x; evil [", "node:b\\\\", "node:c\\nd }"]
    );
    assert_eq!(graph.edges.len(), 6);
    render_with_graphviz(dot);
}

#[test]
fn a_single_yaml_node() {
    let output = explain(&["--nodes", "tests/fixtures/explain/nodes/node.yaml", PEERS]);
    assert_eq!(output.status.code(), Some(0));
    let text = stdout(&output);
    assert!(
        text.contains("  applies to: 1 of 1 node: rack1-host1\n"),
        "{text}"
    );
    assert!(
        text.contains("  warning: node \"rr1\" is not in the node list\n"),
        "{text}"
    );
}

#[test]
fn nodes_from_stdin() {
    let nodes = std::fs::read(format!("{}/{NODES}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    let output = explain_with_stdin(&["--nodes", "-", "-o", "json", PEERS], Some(&nodes));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(json["summary"]["sessions"], 13);
}

#[test]
fn unreadable_input_gives_exit_code_2() {
    let output = explain(&[
        "--nodes",
        "tests/fixtures/explain/nodes/missing.json",
        PEERS,
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output)
            .starts_with("error: reading --nodes: tests/fixtures/explain/nodes/missing.json: "),
        "{}",
        stderr(&output)
    );
    assert_eq!(stdout(&output), "");

    let output = explain(&["--nodes", PEERS, PEERS]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: reading the nodes: object 1: expected kind Node (the output of \
         `kubectl get nodes -o json`), found kind BGPPeer\n"
    );

    // A missing manifest is reported; the others are still explained.
    let output = explain(&["--nodes", NODES, "nope.yaml", PEERS]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: nope.yaml: "),
        "{}",
        stderr(&output)
    );
    assert!(stdout(&output).contains("5 explained (13 sessions)"));
    let output = explain(&["--nodes", NODES, "-o", "json", "nope.yaml"]);
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(json["exitCode"], 2);
    assert_eq!(json["inputErrors"].as_array().unwrap().len(), 1);
}

#[test]
fn usage_errors_give_exit_code_2() {
    for args in [
        vec![PEERS],
        vec!["--nodes", NODES, "--kubeconfig", "kubeconfig", PEERS],
        vec!["--nodes", NODES],
        vec!["--nodes", NODES, "-o", "svg", PEERS],
    ] {
        let output = explain(&args);
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&output).contains("error:"),
            "{args:?}: {}",
            stderr(&output)
        );
        assert_eq!(stdout(&output), "", "{args:?}");
    }
    // Without --nodes the cluster is found as kubectl finds it; the tests' environment has none.
    let output = explain(&[PEERS]);
    assert!(
        stderr(&output)
            .starts_with("error: cannot find the cluster: no --kubeconfig, KUBECONFIG is not set"),
        "{}",
        stderr(&output)
    );
    let output = explain(&["--nodes", "-", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: standard input (`-`) can be used for --nodes or for the peers, not both\n"
    );
}

/// A Kubernetes API endpoint that answers `GET /api/v1/nodes` from the fixture node list in two
/// pages (so that the client has to follow the `continue` token) and records the request lines.
/// It serves no BGPConfiguration (404, as a cluster without Calico's CRDs).
fn serve_nodes() -> (u16, Arc<Mutex<Vec<String>>>) {
    serve_cluster(None)
}

/// [`serve_nodes`], also serving `configurations` as the crd.projectcalico.org/v1
/// BGPConfigurations when given (the projectcalico.org/v3 group is not served: 404); the
/// string `"forbidden"` instead refuses that list with 403, as without RBAC.
fn serve_cluster(configurations: Option<Value>) -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let recorded = Arc::clone(&requests);
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{}/{NODES}", env!("CARGO_MANIFEST_DIR"))).unwrap(),
    )
    .unwrap();
    let items = fixture["items"].as_array().unwrap().clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            if reader.read_line(&mut request_line).is_err() {
                continue;
            }
            let mut authorization = String::new();
            loop {
                let mut header = String::new();
                if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
                    break;
                }
                if header.to_ascii_lowercase().starts_with("authorization:") {
                    authorization = header.trim_end().to_owned();
                }
            }
            let target = request_line.split(' ').nth(1).unwrap_or("").to_owned();
            recorded
                .lock()
                .unwrap()
                .push(format!("{target} {authorization}"));
            let configs_path = "/apis/crd.projectcalico.org/v1/bgpconfigurations?";
            let (status, body) = if target.starts_with(configs_path)
                && configurations.as_ref().is_some_and(|c| c == "forbidden")
            {
                (
                    "403 Forbidden",
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                           "reason": "Forbidden", "code": 403,
                           "message": "bgpconfigurations is forbidden"}),
                )
            } else if let (true, Some(items)) = (target.starts_with(configs_path), &configurations)
            {
                (
                    "200 OK",
                    json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfigurationList",
                           "metadata": {"resourceVersion": "3"}, "items": items}),
                )
            } else if !target.starts_with("/api/v1/nodes?") {
                ("404 Not Found", json!({"kind": "Status", "code": 404}))
            } else if target.contains("continue=page-2") {
                (
                    "200 OK",
                    json!({"apiVersion": "v1", "kind": "NodeList",
                           "metadata": {"resourceVersion": "2"}, "items": items[2..]}),
                )
            } else {
                (
                    "200 OK",
                    json!({"apiVersion": "v1", "kind": "NodeList",
                           "metadata": {"resourceVersion": "1", "continue": "page-2"},
                           "items": items[..2]}),
                )
            };
            let body = body.to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = reader.read(&mut [0u8; 0]);
        }
    });
    (port, requests)
}

fn kubeconfig(dir: &std::path::Path, port: u16) -> String {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: test\n\
             clusters:\n- name: test\n  cluster:\n    server: http://127.0.0.1:{port}\n\
             contexts:\n- name: test\n  context:\n    cluster: test\n    user: test\n\
             users:\n- name: test\n  user:\n    token: test-token\n"
        ),
    )
    .unwrap();
    path.to_str().unwrap().to_owned()
}

#[test]
fn nodes_from_a_cluster() {
    let (port, requests) = serve_nodes();
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), port);
    let output = explain(&["--kubeconfig", &config, "-o", "json", PEERS]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(json["summary"]["nodes"], 4);
    assert_eq!(json["summary"]["sessions"], 13);
    assert_eq!(
        json["nodes"][0]["addresses"][0],
        json!({"ip": "10.1.0.11", "source": "calico-annotation"})
    );
    let requests = requests.lock().unwrap().clone();
    assert_eq!(
        requests,
        [
            "/api/v1/nodes?&limit=500 authorization: Bearer test-token",
            "/api/v1/nodes?&limit=500&continue=page-2 authorization: Bearer test-token",
            "/apis/crd.projectcalico.org/v1/bgpconfigurations? authorization: Bearer test-token",
            "/apis/projectcalico.org/v3/bgpconfigurations? authorization: Bearer test-token",
        ]
    );
    // Neither group serves BGPConfigurations here: unknown, with a note saying why.
    assert_eq!(json["bgpConfiguration"]["given"], false);
    assert_eq!(json["bgpConfiguration"]["mesh"]["state"], "unknown");
    assert_eq!(
        json["bgpConfiguration"]["notes"],
        json!([
            "the cluster serves no BGPConfiguration resource (is Calico installed?): the \
                mesh, the default AS and the listen ports are unknown"
        ])
    );
}

#[test]
fn an_unreachable_cluster_gives_exit_code_2() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), port);
    let output = explain(&["--kubeconfig", &config, PEERS]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with(&format!(
            "error: listing Nodes from http://127.0.0.1:{port}/: "
        )),
        "{}",
        stderr(&output)
    );
    let output = explain(&["--kubeconfig", "no-such-kubeconfig", PEERS]);
    assert_eq!(output.status.code(), Some(2));
    // The file is named once and the cause said once.
    assert_eq!(
        stderr(&output),
        format!(
            "error: cannot read the kubeconfig no-such-kubeconfig: {}\n",
            std::io::Error::from_raw_os_error(rustix::io::Errno::NOENT.raw_os_error())
        )
    );
}

/// Renders the graph with Graphviz when `dot` is installed; the structural check has run already.
fn render_with_graphviz(dot: &str) {
    let child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            assert!(
                std::env::var_os("BGPPEER_WEBHOOK_REQUIRE_DOT").is_none(),
                "BGPPEER_WEBHOOK_REQUIRE_DOT is set but `dot` cannot run: {err}"
            );
            eprintln!("note: `dot` not found ({err}); checked the DOT syntax only");
            return;
        }
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(dot.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "dot -Tsvg failed: {}\n{dot}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("<svg"));
}

/// A parser for the subset of the DOT language (<https://graphviz.org/doc/info/lang.html>) that
/// `explain -o dot` emits: one `digraph` of node, edge, attribute and `ID = ID` statements.
/// Anything outside that subset (subgraphs, HTML strings, comments, undirected edges) is an
/// error, as is any quoting mistake.
mod dot_syntax {
    /// Attributes as (name, value), values with DOT escapes left in place (`\n`, `\\`, `\"`
    /// become `\n`, `\\` and `"`).
    pub type Attributes = Vec<(String, String)>;

    /// The parsed graph.
    #[derive(Debug)]
    pub struct Graph {
        pub name: Option<String>,
        pub nodes: Vec<(String, Attributes)>,
        pub edges: Vec<(String, String, Attributes)>,
    }

    #[derive(Clone, Debug, PartialEq)]
    enum Token {
        /// An ID: a quoted string (unescaped), a name or a numeral.
        Id {
            text: String,
            quoted: bool,
        },
        Punct(&'static str),
    }

    fn tokenize(input: &str) -> Result<Vec<Token>, String> {
        let mut tokens = Vec::new();
        let chars: Vec<char> = input.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            match c {
                ' ' | '\t' | '\n' | '\r' => i += 1,
                '{' | '}' | '[' | ']' | '=' | ';' | ',' => {
                    tokens.push(Token::Punct(match c {
                        '{' => "{",
                        '}' => "}",
                        '[' => "[",
                        ']' => "]",
                        '=' => "=",
                        ';' => ";",
                        _ => ",",
                    }));
                    i += 1;
                }
                '-' if chars.get(i + 1) == Some(&'>') => {
                    tokens.push(Token::Punct("->"));
                    i += 2;
                }
                '-' if chars.get(i + 1) == Some(&'-') => {
                    return Err(format!("undirected edge `--` at char {i}"));
                }
                '"' => {
                    let start = i;
                    i += 1;
                    let mut text = String::new();
                    loop {
                        match chars.get(i) {
                            None => return Err(format!("unterminated string at char {start}")),
                            Some('"') => break,
                            Some('\n') => {
                                return Err(format!("raw line break in string at char {start}"));
                            }
                            Some('\\') => match chars.get(i + 1) {
                                Some('"') => {
                                    text.push('"');
                                    i += 2;
                                }
                                Some(&next) if next != '\n' => {
                                    text.push('\\');
                                    text.push(next);
                                    i += 2;
                                }
                                _ => return Err(format!("dangling backslash at char {i}")),
                            },
                            Some(&other) => {
                                text.push(other);
                                i += 1;
                            }
                        }
                    }
                    i += 1;
                    tokens.push(Token::Id { text, quoted: true });
                }
                c if c.is_ascii_alphabetic() || c == '_' || !c.is_ascii() => {
                    let start = i;
                    while i < chars.len()
                        && (chars[i].is_ascii_alphanumeric()
                            || chars[i] == '_'
                            || !chars[i].is_ascii())
                    {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    tokens.push(Token::Id {
                        text,
                        quoted: false,
                    });
                }
                c if c.is_ascii_digit() || c == '.' || c == '-' => {
                    let start = i;
                    i += 1;
                    while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                        i += 1;
                    }
                    let text: String = chars[start..i].iter().collect();
                    if text.matches('.').count() > 1 || !text.chars().any(|c| c.is_ascii_digit()) {
                        return Err(format!("bad numeral {text:?} at char {start}"));
                    }
                    tokens.push(Token::Id {
                        text,
                        quoted: false,
                    });
                }
                other => return Err(format!("unexpected {other:?} at char {i}")),
            }
        }
        Ok(tokens)
    }

    struct Parser {
        tokens: Vec<Token>,
        at: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<&Token> {
            self.tokens.get(self.at)
        }

        fn next(&mut self) -> Result<Token, String> {
            let token = self.peek().cloned().ok_or("unexpected end of input")?;
            self.at += 1;
            Ok(token)
        }

        fn eat(&mut self, punct: &'static str) -> bool {
            if self.peek() == Some(&Token::Punct(punct)) {
                self.at += 1;
                true
            } else {
                false
            }
        }

        fn expect(&mut self, punct: &'static str) -> Result<(), String> {
            if self.eat(punct) {
                Ok(())
            } else {
                Err(format!(
                    "expected {punct:?} at token {}, found {:?}",
                    self.at,
                    self.peek()
                ))
            }
        }

        /// An ID that is not a keyword.
        fn id(&mut self) -> Result<String, String> {
            match self.next()? {
                Token::Id { text, quoted } if quoted || !is_keyword(&text) => Ok(text),
                other => Err(format!(
                    "expected an ID at token {}, found {other:?}",
                    self.at - 1
                )),
            }
        }

        fn keyword(&mut self) -> Option<String> {
            match self.peek() {
                Some(Token::Id {
                    text,
                    quoted: false,
                }) if is_keyword(text) => {
                    let keyword = text.to_ascii_lowercase();
                    self.at += 1;
                    Some(keyword)
                }
                _ => None,
            }
        }

        fn attr_lists(&mut self) -> Result<Attributes, String> {
            let mut attributes = Vec::new();
            while self.eat("[") {
                while !self.eat("]") {
                    let name = self.id()?;
                    self.expect("=")?;
                    let value = self.id()?;
                    attributes.push((name, value));
                    if !self.eat(",") {
                        self.eat(";");
                    }
                }
            }
            Ok(attributes)
        }
    }

    fn is_keyword(text: &str) -> bool {
        ["node", "edge", "graph", "digraph", "subgraph", "strict"]
            .contains(&text.to_ascii_lowercase().as_str())
    }

    /// Parses a whole document.
    pub fn parse(input: &str) -> Result<Graph, String> {
        let mut parser = Parser {
            tokens: tokenize(input)?,
            at: 0,
        };
        if parser.keyword().as_deref() != Some("digraph") {
            return Err("the graph must start with `digraph`".into());
        }
        let name = match parser.peek() {
            Some(Token::Id { .. }) => Some(parser.id()?),
            _ => None,
        };
        parser.expect("{")?;
        let mut graph = Graph {
            name,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        while !parser.eat("}") {
            match parser.keyword().as_deref() {
                Some("graph" | "node" | "edge") => {
                    if !matches!(parser.peek(), Some(Token::Punct("["))) {
                        return Err(format!(
                            "attribute statement without [ at token {}",
                            parser.at
                        ));
                    }
                    parser.attr_lists()?;
                }
                Some(other) => return Err(format!("unsupported statement `{other}`")),
                None => {
                    let first = parser.id()?;
                    if parser.eat("=") {
                        parser.id()?;
                    } else if parser.eat("->") {
                        let mut ends = vec![first, parser.id()?];
                        while parser.eat("->") {
                            ends.push(parser.id()?);
                        }
                        let attributes = parser.attr_lists()?;
                        for pair in ends.windows(2) {
                            graph.edges.push((
                                pair[0].clone(),
                                pair[1].clone(),
                                attributes.clone(),
                            ));
                        }
                    } else {
                        let attributes = parser.attr_lists()?;
                        if graph.nodes.iter().any(|(id, _)| *id == first) {
                            return Err(format!("node {first:?} declared twice"));
                        }
                        graph.nodes.push((first, attributes));
                    }
                }
            }
            parser.eat(";");
        }
        if parser.at != parser.tokens.len() {
            return Err(format!("content after the graph at token {}", parser.at));
        }
        Ok(graph)
    }

    #[test]
    fn accepts_well_formed_graphs() {
        let graph = parse(
            "digraph \"g\" {\n graph [rankdir=\"LR\"];\n \"a\\\"b\" [label=\"x\\ny\", shape=box];\n\
             b; a = 1.5\n \"a\\\"b\" -> b -> \"c\" [label=\"e\"]\n}\n",
        )
        .unwrap();
        assert_eq!(graph.name.as_deref(), Some("g"));
        assert_eq!(graph.nodes.len(), 2);
        assert_eq!(graph.nodes[0].0, "a\"b");
        assert_eq!(
            graph.nodes[0].1[0],
            ("label".to_owned(), "x\\ny".to_owned())
        );
        assert_eq!(graph.edges.len(), 2);
        assert_eq!(graph.edges[1].1, "c");
    }

    #[test]
    fn rejects_malformed_graphs() {
        for bad in [
            "graph g { a -- b }",
            "digraph g { a -> b ",
            "digraph g { \"a\" b\" }",
            "digraph g { \"a }",
            "digraph g { \"a\nb\" }",
            "digraph g { a [label=] }",
            "digraph g { a [label=\"x\"] } extra",
            "digraph g { node; }",
            "digraph g { subgraph s { a } }",
            "digraph g { a -> }",
            "digraph g { <b>html</b> }",
            "digraph g { // comment\n }",
            "digraph g { a; a; }",
            "digraph g { \"x\\",
            "digraph g { -> b }",
        ] {
            assert!(parse(bad).is_err(), "accepted {bad:?}");
        }
    }
}

#[test]
fn a_huge_invalid_object_gives_bounded_output() {
    let filters = vec![Value::from("A"); 50_000];
    let document = json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
        "metadata": {"name": "huge"},
        "spec": {"peerIP": "192.0.2.1", "asNumber": 64512, "filters": filters}
    });
    let input = serde_json::to_vec(&document).unwrap();
    for format in ["text", "json"] {
        let output = explain_with_stdin(&["--nodes", NODES, "-o", format, "-"], Some(&input));
        assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
        let text = stdout(&output);
        // JSON carries each error twice (message and text), pretty-printed, plus the nodes.
        let limit = if format == "json" { 128 } else { 64 } * 1024;
        assert!(text.len() < limit, "{format}: {} bytes", text.len());
        assert!(
            text.contains("spec.filters: Too many: 49,900 more errors not shown"),
            "{format}: {text}"
        );
    }
}

/// The sessions of the peer named `name` in a JSON explanation.
fn sessions_of<'a>(json: &'a Value, name: &str) -> &'a Vec<Value> {
    json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|peer| peer["name"] == name)
        .unwrap_or_else(|| panic!("no peer {name}"))["sessions"]
        .as_array()
        .unwrap()
}

#[test]
fn a_bgp_configuration_file_resolves_as_numbers_ports_and_the_mesh() {
    let output = explain(&[
        "--nodes",
        NODES,
        "--bgp-configuration",
        MESH_UNSET,
        BGP_PEERS,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(stderr(&output), "");
    let text = stdout(&output);
    for expected in [
        "BGP configuration: read\n\
         \x20 node-to-node mesh: on (BGPConfiguration \"default\" spec.nodeToNodeMeshEnabled is \
         unset, so true)\n\
         \x20 default AS: 64512 (BGPConfiguration default)\n\
         \x20 listen port: 1179 (BGPConfiguration default listenPort); node rr1: 2179\n\
         \x20 note: BGPConfiguration \"node.rr1\": spec.asNumber is cluster-wide, read from \
         \"default\" only; ignored here as Calico ignores it\n",
        // Default AS against the peer's: eBGP, to BGP's port.
        "    rack1-host2 -> 192.0.2.1 (AS 64500)\n\
         \x20     eBGP: local AS 64512 (BGPConfiguration default), remote AS 64500 (BGPPeer \
         asNumber); port 179 (BGP's default)\n",
        // A node's own AS (its annotation) overrides the default; rr1 listens on its own port.
        "    rack1-host1 -> node rr1 at 10.1.0.2 (the cluster's default AS)\n\
         \x20     eBGP: local AS 64601 (the node's own), remote AS 64512 (BGPConfiguration \
         default); port 2179 (BGPConfiguration node.rr1 listenPort)\n",
        "    rack1-host2 -> node rr1 at 10.1.0.2 (the cluster's default AS)\n\
         \x20     iBGP: local AS 64512 (BGPConfiguration default), remote AS 64512 \
         (BGPConfiguration default); port 2179 (BGPConfiguration node.rr1 listenPort)\n",
        // A peerIP that is a Calico node without a port: that node's listen port and AS.
        "    rack2-host1 -> 10.1.0.2 (AS unset)\n\
         \x20     iBGP: local AS 64512 (BGPConfiguration default), remote AS 64512 \
         (BGPConfiguration default); port 2179 (BGPConfiguration node.rr1 listenPort)\n",
        "  warning: peerSelector selects cluster nodes while the node-to-node mesh is on \
         (BGPConfiguration \"default\" spec.nodeToNodeMeshEnabled is unset, so true): these \
         nodes already peer through the mesh; set nodeToNodeMeshEnabled: false to peer them \
         through BGPPeers\n",
        "  warning: peerIP is the BGP address of node \"rr1\" while the node-to-node mesh is on",
        // An IPv4-only node and an IPv6 peer: the session cannot open.
        "    rack1-host2 -> 2001:db8::1 (AS 65000)\n\
         \x20     eBGP: local AS 64512 (BGPConfiguration default), remote AS 65000 (BGPPeer \
         asNumber); port 179 (BGP's default)\n\
         \x20     warning: cannot open: node \"rack1-host2\" has only IPv4 BGP addresses and \
         peerIP 2001:db8::1 is IPv6\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
}

#[test]
fn with_the_mesh_off_there_is_no_mesh_warning() {
    let output = explain(&[
        "--nodes",
        NODES,
        "--bgp-configuration",
        MESH_OFF,
        "-o",
        "json",
        BGP_PEERS,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    let bgp = &json["bgpConfiguration"];
    assert_eq!(
        bgp["mesh"],
        json!({"state": "off",
               "reason": "BGPConfiguration \"default\" spec.nodeToNodeMeshEnabled is false"})
    );
    assert_eq!(
        bgp["defaultAs"],
        json!({"asNumber": 65010, "source": "bgpConfiguration"})
    );
    assert_eq!(
        bgp["listenPort"],
        json!({"port": 179, "source": "bgpDefault"})
    );
    let all_warnings = json["peers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|peer| peer["warnings"].as_array().unwrap().iter())
        .filter_map(Value::as_str)
        .collect::<Vec<_>>();
    assert!(
        all_warnings.iter().all(|w| !w.contains("mesh")),
        "{all_warnings:?}"
    );
    let to_rr = sessions_of(&json, "to-rr");
    assert_eq!(
        to_rr[1],
        json!({"node": "rack1-host2",
               "peer": {"type": "node", "name": "rr1", "asNumber": null,
                        "addresses": [{"ip": "10.1.0.2", "source": "calico-annotation"}]},
               "localAs": {"asNumber": 65010, "source": "bgpConfiguration"},
               "remoteAs": {"asNumber": 65010, "source": "bgpConfiguration"},
               "bgpType": "iBGP",
               "port": {"port": 179, "source": "bgpDefault"},
               "warnings": []})
    );
    assert_eq!(to_rr[0]["bgpType"], "eBGP");
    let v6 = sessions_of(&json, "v6-on-v4-node");
    assert_eq!(
        v6[0]["warnings"],
        json!([
            "cannot open: node \"rack1-host2\" has only IPv4 BGP addresses and peerIP \
                2001:db8::1 is IPv6"
        ])
    );
}

#[test]
fn without_bgp_configurations_the_unknowns_are_said_not_guessed() {
    let output = explain(&["--nodes", NODES, BGP_PEERS]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for expected in [
        "BGP configuration: unknown\n\
         \x20 node-to-node mesh: unknown (no BGPConfiguration could be read)\n\
         \x20 default AS unknown: no BGPConfiguration given; Calico's built-in default is 64512\n\
         \x20 listen port unknown: no BGPConfiguration given; BGP's default is 179\n\
         \x20 note: no BGPConfiguration given (--bgp-configuration FILE, or --kubeconfig)\n",
        "    rack1-host2 -> 192.0.2.1 (AS 64500)\n\
         \x20     iBGP or eBGP unknown: local AS unknown, remote AS 64500 (BGPPeer asNumber); \
         port 179 (BGP's default)\n",
        // rack1-host1 has its own AS, rr1 the cluster's unknown one; rr1's port is unknown too.
        "    rack1-host1 -> node rr1 at 10.1.0.2 (the cluster's default AS)\n\
         \x20     iBGP or eBGP unknown: local AS 64601 (the node's own), remote AS unknown; port \
         unknown (the remote node's listenPort; BGP's default is 179)\n",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(!text.contains("mesh is on"), "{text}");
}

#[test]
fn bgp_configurations_from_a_cluster() {
    let configurations = json!([
        {"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
         "metadata": {"name": "default"}, "spec": {"asNumber": 64512}},
        {"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPConfiguration",
         "metadata": {"name": "node.rr1"}, "spec": {"listenPort": 2179}}
    ]);
    let (port, _requests) = serve_cluster(Some(configurations));
    let dir = tempfile::tempdir().unwrap();
    let config = kubeconfig(dir.path(), port);
    let output = explain(&["--kubeconfig", &config, "-o", "json", BGP_PEERS]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    let bgp = &json["bgpConfiguration"];
    assert_eq!(bgp["given"], true);
    assert_eq!(bgp["mesh"]["state"], "on");
    assert_eq!(bgp["nodeListenPorts"], json!({"rr1": 2179}));
    let to_rr = sessions_of(&json, "to-rr");
    assert_eq!(
        to_rr[0]["port"],
        json!({"port": 2179, "source": "nodeBgpConfiguration"})
    );
    // A file given with --kubeconfig wins over the cluster's.
    let output = explain(&[
        "--kubeconfig",
        &config,
        "--bgp-configuration",
        MESH_OFF,
        "-o",
        "json",
        BGP_PEERS,
    ]);
    let json: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(json["bgpConfiguration"]["mesh"]["state"], "off");

    // Not allowed to list them: unknown, with a note, and still explained.
    let (port, _requests) = serve_cluster(Some(json!("forbidden")));
    let config = kubeconfig(dir.path(), port);
    let output = explain(&["--kubeconfig", &config, BGP_PEERS]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with(
            "BGP configuration: unknown\n\
             \x20 node-to-node mesh: unknown (no BGPConfiguration could be read)\n"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "  note: listing bgpconfigurations.crd.projectcalico.org was refused (403 Forbidden): \
             the mesh, the default AS and the listen ports are unknown\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("4 BGPPeers on 4 nodes: 4 explained"),
        "{text}"
    );
}

#[test]
fn unreadable_bgp_configurations_give_exit_code_2() {
    let output = explain(&["--nodes", NODES, "--bgp-configuration", NODES, BGP_PEERS]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: reading --bgp-configuration: object 1: expected kind BGPConfiguration, found \
         kind Node\n"
    );
    let output = explain_with_stdin(
        &["--nodes", "-", "--bgp-configuration", "-", BGP_PEERS],
        Some(b""),
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: standard input (`-`) can be used for --nodes or for --bgp-configuration, not \
         both\n"
    );
}

#[test]
fn dot_output_shows_the_mesh_type_port_and_sessions_that_cannot_open() {
    let output = explain(&[
        "--nodes",
        NODES,
        "--bgp-configuration",
        MESH_UNSET,
        "-o",
        "dot",
        BGP_PEERS,
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let dot = stdout(&output);
    let graph = dot_syntax::parse(dot).unwrap_or_else(|err| panic!("{err}\n{dot}"));
    assert!(
        dot.contains("  graph [rankdir=\"LR\", label=\"node-to-node mesh: on\"];\n"),
        "{dot}"
    );
    assert!(graph.edges.contains(&(
        "node:rack1-host1".to_owned(),
        "node:rr1".to_owned(),
        vec![(
            "label".to_owned(),
            "to-rr\\ndefault AS\\neBGP, port 2179".to_owned()
        )]
    )));
    assert!(graph.edges.contains(&(
        "node:rack1-host2".to_owned(),
        "peer:2001:db8::1".to_owned(),
        vec![
            (
                "label".to_owned(),
                "v6-on-v4-node\\nAS 65000\\neBGP, port 179\\ncannot open: address families differ"
                    .to_owned()
            ),
            ("color".to_owned(), "red".to_owned()),
            ("style".to_owned(), "dashed".to_owned()),
        ]
    )));
    render_with_graphviz(dot);
}

/// Validates explain's JSON against docs/schemas/explain.schema.json.
fn assert_matches_schema(validator: &jsonschema::Validator, json: &Value, run: &str) {
    let errors: Vec<String> = validator
        .iter_errors(json)
        .map(|error| format!("{} at {}", error, error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{run}: {errors:#?}");
}

#[test]
fn json_output_matches_its_schema() {
    let path = format!(
        "{}/docs/schemas/explain.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "not a valid JSON Schema"
    );
    let validator = jsonschema::draft202012::new(&schema).unwrap();
    let runs: [&[&str]; 6] = [
        &["--nodes", NODES, PEER_DIR],
        &["--nodes", NODES, PROBLEMS],
        &[
            "--nodes",
            NODES,
            "--bgp-configuration",
            MESH_UNSET,
            BGP_PEERS,
        ],
        &[
            "--nodes",
            NODES,
            "--bgp-configuration",
            MESH_OFF,
            BGP_PEERS,
            PEERS,
        ],
        &["--nodes", "tests/fixtures/explain/nodes/node.yaml", PEERS],
        &["--nodes", NODES, "nope.yaml", PEERS],
    ];
    for run in runs {
        let mut args = vec!["-o", "json"];
        args.extend_from_slice(run);
        let output = explain(&args);
        let json: Value = serde_json::from_str(stdout(&output))
            .unwrap_or_else(|err| panic!("{run:?}: {err}: {}", stdout(&output)));
        assert_matches_schema(&validator, &json, &format!("{run:?}"));
    }
    // The schema is strict: an undocumented field, or a missing one, is refused.
    let output = explain(&["-o", "json", "--nodes", NODES, PEERS]);
    let mut json: Value = serde_json::from_str(stdout(&output)).unwrap();
    json["peers"][0]["sessions"][0]["undocumented"] = json!(1);
    assert!(!validator.is_valid(&json));
    let mut json: Value = serde_json::from_str(stdout(&output)).unwrap();
    json["bgpConfiguration"]
        .as_object_mut()
        .unwrap()
        .remove("mesh");
    assert!(!validator.is_valid(&json));
}

#[test]
fn an_unquoted_bang_is_reported_and_the_peer_not_explained() {
    let tags = "tests/fixtures/manifests/tags";
    for (name, field, tag, line) in [
        (
            "node-selector.yaml",
            "spec.nodeSelector",
            "!has(route-reflector)",
            5,
        ),
        ("peer-selector.yaml", "spec.peerSelector", "!all()", 6),
        ("as-number.yaml", "spec.asNumber", "!foo", 12),
    ] {
        let file = format!("{tags}/{name}");
        let output = explain(&["--nodes", NODES, &file]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stdout(&output));
        let text = stdout(&output);
        let error = format!(
            "  error: {field}: Invalid value: \"{tag}\": line {line}: an unquoted value that starts with \"!\" is a YAML tag"
        );
        assert!(text.contains(&error), "missing {error:?} in\n{text}");
        assert!(text.contains("invalid, not explained"), "{text}");
        assert!(!text.contains("scope: global"), "{text}");
        assert!(text.contains("quote it: "), "{text}");

        let output = explain(&["--nodes", NODES, "-o", "json", &file]);
        assert_eq!(output.status.code(), Some(1));
        let json: Value = serde_json::from_str(stdout(&output)).unwrap();
        let peer = &json["peers"][0];
        assert_eq!(peer["valid"], false, "{name}");
        assert_eq!(peer["scope"], Value::Null, "{name}");
        assert_eq!(peer["errors"][0]["field"], field, "{name}");
        let message = peer["errors"][0]["message"].as_str().unwrap();
        assert!(
            message.starts_with(&format!("Invalid value: \"{tag}\": line {line}: ")),
            "{message}"
        );
        assert!(message.contains("; quote it: "), "{message}");
    }
    let output = explain(&["--nodes", NODES, &format!("{tags}/quoted.yaml")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert!(
        stdout(&output).contains("scope: nodeSelector !has(route-reflector)\n"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn the_summary_counts_the_inputs_that_could_not_be_read() {
    let empty = tempfile::tempdir().unwrap();
    let empty = empty.path().to_str().unwrap();
    let output = explain(&["--nodes", NODES, PEERS, "missing.yaml", empty]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stdout(&output).ends_with(
            "5 BGPPeers on 4 nodes: 5 explained (13 sessions), 0 invalid; 2 inputs could not be read\n"
        ),
        "{}",
        stdout(&output)
    );
    let err = stderr(&output);
    assert!(
        err.contains("error: missing.yaml: No such file or directory"),
        "{err}"
    );
    assert!(
        err.contains(&format!("error: {empty}: no *.yaml, *.yml or *.json file")),
        "{err}"
    );

    let output = explain(&["--nodes", NODES, "-", "-"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("standard input (`-`) is given more than once"));
}

#[test]
fn peers_from_every_list_shape() {
    let output = explain(&[
        "--nodes",
        NODES,
        "tests/fixtures/manifests/lists/api-bgppeerlist-v3.yaml",
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("BGPPeer \"rack1-tor\" (tests/fixtures/manifests/lists/api-bgppeerlist-v3.yaml:doc 1 item 1)"), "{text}");
    assert!(
        text.ends_with("2 BGPPeers on 4 nodes: 1 explained (1 session), 1 invalid\n"),
        "{text}"
    );
}
