//! The `explain` subcommand: which nodes each BGPPeer applies to and which BGP sessions they
//! will open, on the nodes of a `kubectl get nodes -o json` file or of a live cluster.
//!
//! Only I/O lives here (reading files, listing Nodes with the `kube` client); the decisions and
//! the three output formats are in [`bgppeer_core::explain`].
//!
//! Exit codes: 0 every BGPPeer is valid, 1 at least one is invalid (it is reported with its
//! validation errors and not explained), 2 the nodes or some manifest could not be read, or the
//! command line is wrong.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use serde_json::Value;

use crate::cmd::check::Location;
use crate::manifests::{self, Document, InputArgs, Source};
use bgppeer_core::bgppeer::api::BGP_PEER_KIND;
use bgppeer_core::bgppeer::tags::{YamlTag, validate_yaml_document};
use bgppeer_core::explain::{self, Explanation, PeerOutcome, nodes};

/// How many Nodes one list request asks the API server for; large clusters are read in pages.
const NODE_PAGE_SIZE: u32 = 500;

/// Arguments of `bgppeer-webhook explain`.
#[derive(Debug, clap::Args)]
#[command(
    group(
        clap::ArgGroup::new("node_source")
            .required(true)
            .args(["nodes", "kubeconfig"])
    ),
    after_help = "Exactly one of --nodes and --kubeconfig is required.\n\
                  Exit status: 0 all BGPPeers valid, 1 any invalid (reported, not explained), \
                  2 unreadable input or usage error."
)]
pub(crate) struct Args {
    /// The nodes: the output of `kubectl get nodes -o json` (a List of Nodes), a single Node,
    /// as JSON or YAML, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) nodes: Option<PathBuf>,

    /// List the nodes of the cluster that this kubeconfig file's current context points to.
    #[arg(long, value_name = "PATH")]
    pub(crate) kubeconfig: Option<PathBuf>,

    /// Output format: `text` (one block per BGPPeer), `json` (a stable schema, documented in the
    /// README) or `dot` (a Graphviz digraph of the peering graph).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    pub(crate) output: Format,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// BGPPeer manifests: files, directories (searched recursively for *.yaml, *.yml and
    /// *.json), or `-` for standard input.
    #[arg(required = true, value_name = "PEER")]
    pub(crate) paths: Vec<PathBuf>,
}

/// The output formats of `explain`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Human-readable blocks, one per BGPPeer.
    Text,
    /// One JSON object on stdout.
    Json,
    /// A Graphviz `digraph` (render with `dot -Tsvg`).
    Dot,
}

/// Runs `bgppeer-webhook explain`. Manifests that cannot be read are reported and the others
/// are still explained; nodes that cannot be read stop the command (exit 2).
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdin = Path::new("-");
    if args.nodes.as_deref() == Some(stdin) && args.paths.iter().any(|p| p == stdin) {
        anyhow::bail!("standard input (`-`) can be used for --nodes or for the peers, not both");
    }
    manifests::stdin_at_most_once(&args.paths).map_err(anyhow::Error::msg)?;
    let node_objects = match (&args.nodes, &args.kubeconfig) {
        (Some(path), _) => read_node_file(path, args.input.limits())?,
        (None, Some(kubeconfig)) => list_cluster_nodes(kubeconfig)?,
        (None, None) => anyhow::bail!("one of --nodes or --kubeconfig is required"),
    };
    let node_list = nodes::from_objects(&node_objects).context("reading the nodes")?;

    let mut input_errors = Vec::new();
    let mut documents = Documents::default();
    for path in &args.paths {
        let sources = match manifests::expand_paths(std::slice::from_ref(path)) {
            Ok(sources) => sources,
            Err(err) => {
                input_errors.push(err.to_string());
                continue;
            }
        };
        for source in sources {
            let read = manifests::read_documents(&source, args.input.limits(), &mut |doc| {
                documents.add(&source, doc);
            });
            if let Err(err) = read {
                input_errors.push(err.to_string());
            }
        }
    }

    let mut explanation: Explanation = explain::explain(
        documents
            .objects
            .iter()
            .map(|(source, value)| (source.clone(), value)),
        &node_list,
    );
    documents.report_tags(&mut explanation);
    explanation.input_errors = input_errors;
    for error in &explanation.input_errors {
        eprintln!("error: {error}");
    }
    match args.output {
        Format::Text => print!("{}", explain::text::render(&explanation)),
        Format::Json => println!("{}", explain::json::render(&explanation)),
        Format::Dot => print!("{}", explain::dot::render(&explanation)),
    }
    Ok(ExitCode::from(explanation.exit_code()))
}

/// The documents `explain` keeps: every BGPPeer whole, every other object only by its kind (all
/// `explain` says of it), and the YAML tags of the BGPPeers.
#[derive(Default)]
struct Documents {
    /// Each object with its location (`peers.yaml:doc 2`).
    objects: Vec<(String, Value)>,
    /// The non-standard YAML tags of each BGPPeer, in the order of the BGPPeers.
    peer_tags: Vec<Vec<YamlTag>>,
}

impl Documents {
    fn add(&mut self, source: &Source, doc: Document) {
        let location = Location {
            file: source.to_string(),
            document: doc.index,
            item: doc.item,
            line: doc.line,
        }
        .to_string();
        let kind = doc.value.get("kind").and_then(Value::as_str);
        if kind == Some(BGP_PEER_KIND) {
            self.peer_tags.push(doc.tags);
            self.objects.push((location, doc.value));
        } else {
            let kind = kind.map(Value::from);
            self.objects
                .push((location, serde_json::json!({ "kind": kind })));
        }
    }

    /// Marks every BGPPeer that carries a YAML tag invalid, with the tag errors first: a tag
    /// changes what the peer means (`nodeSelector: !has(x)` is an empty selector), so it is not
    /// explained.
    fn report_tags(&self, explanation: &mut Explanation) {
        let peers = self
            .objects
            .iter()
            .filter(|(_, value)| value.get("kind").and_then(Value::as_str) == Some(BGP_PEER_KIND));
        for ((peer, tags), (_, value)) in
            explanation.peers.iter_mut().zip(&self.peer_tags).zip(peers)
        {
            if !tags.is_empty() {
                peer.outcome = PeerOutcome::Invalid(validate_yaml_document(value, tags));
            }
        }
    }
}

/// Reads the Node objects of a file (or stdin), JSON or YAML, lists expanded.
fn read_node_file(path: &Path, limits: manifests::Limits) -> anyhow::Result<Vec<Value>> {
    let source = if path == Path::new("-") {
        Source::Stdin
    } else {
        Source::File(path.to_path_buf())
    };
    let mut objects = Vec::new();
    manifests::read_documents(&source, limits, &mut |doc| objects.push(doc.value))
        .context("reading --nodes")?;
    Ok(objects)
}

/// Lists every Node of the cluster the kubeconfig's current context points to, page by page.
fn list_cluster_nodes(kubeconfig: &Path) -> anyhow::Result<Vec<Value>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let config = kube::config::Kubeconfig::read_from(kubeconfig)
            .with_context(|| format!("reading kubeconfig {}", kubeconfig.display()))?;
        let config = kube::Config::from_custom_kubeconfig(
            config,
            &kube::config::KubeConfigOptions::default(),
        )
        .await
        .with_context(|| format!("loading kubeconfig {}", kubeconfig.display()))?;
        let cluster = config.cluster_url.to_string();
        let client = kube::Client::try_from(config).context("creating the Kubernetes client")?;
        let api: Api<Node> = Api::all(client);
        let mut objects = Vec::new();
        let mut params = ListParams::default().limit(NODE_PAGE_SIZE);
        loop {
            let page = api
                .list(&params)
                .await
                .with_context(|| format!("listing Nodes from {cluster}"))?;
            for node in page.items {
                let mut value =
                    serde_json::to_value(&node).context("encoding a Node from the API server")?;
                if let Some(object) = value.as_object_mut() {
                    object.entry("kind").or_insert_with(|| Value::from("Node"));
                }
                objects.push(value);
            }
            match page.metadata.continue_.filter(|token| !token.is_empty()) {
                Some(token) => params = params.continue_token(&token),
                None => break,
            }
        }
        Ok(objects)
    })
}
