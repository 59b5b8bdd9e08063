//! The `explain` subcommand: which nodes each BGPPeer applies to and which BGP sessions they
//! will open, on the nodes of a `kubectl get nodes -o json` file or of a live cluster (found as
//! kubectl finds it: [`crate::kubeconfig`]).
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

use crate::cluster::api_error;
use crate::cmd::check::Location;
use crate::manifests::{self, Source};
use bgppeer_core::explain::{self, Explanation, nodes};

/// How many Nodes one list request asks the API server for; large clusters are read in pages.
const NODE_PAGE_SIZE: u32 = 500;

/// Arguments of `bgppeer-webhook explain`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Without --nodes, the nodes are listed from the cluster found as kubectl \
                        finds it: --kubeconfig, else the files in KUBECONFIG, else \
                        ~/.kube/config, else the pod's service account (--context picks a \
                        context).\n\
                        Exit status: 0 all BGPPeers valid, 1 any invalid (reported, not explained), \
                        2 unreadable input or usage error."
)]
pub(crate) struct Args {
    /// The nodes: the output of `kubectl get nodes -o json` (a List of Nodes), a single Node,
    /// as JSON or YAML, or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub(crate) nodes: Option<PathBuf>,

    /// List the nodes of the cluster this kubeconfig file points to (default: the files in
    /// KUBECONFIG, else ~/.kube/config, else the pod's service account).
    #[arg(long, value_name = "PATH", conflicts_with = "nodes")]
    pub(crate) kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to list the nodes of, instead of its current context.
    #[arg(long, value_name = "NAME", conflicts_with = "nodes")]
    pub(crate) context: Option<String>,

    /// Output format: `text` (one block per BGPPeer), `json` (a stable schema, documented in the
    /// README) or `dot` (a Graphviz digraph of the peering graph).
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    pub(crate) output: Format,

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
    let node_objects = match &args.nodes {
        Some(path) => read_node_file(path)?,
        None => list_cluster_nodes(args.kubeconfig.as_deref(), args.context.as_deref())?,
    };
    let node_list = nodes::from_objects(&node_objects).context("reading the nodes")?;

    let mut input_errors = Vec::new();
    let mut documents: Vec<(String, Value)> = Vec::new();
    for path in &args.paths {
        let sources = match manifests::expand_paths(std::slice::from_ref(path)) {
            Ok(sources) => sources,
            Err(err) => {
                input_errors.push(err.to_string());
                continue;
            }
        };
        for source in sources {
            let parsed = manifests::read_source(&source)
                .and_then(|text| manifests::parse_documents(&source, &text));
            match parsed {
                Ok(found) => documents.extend(found.into_iter().map(|doc| {
                    let location = Location {
                        file: source.to_string(),
                        document: doc.index,
                        item: doc.item,
                        line: doc.line,
                    };
                    (location.to_string(), doc.value)
                })),
                Err(err) => input_errors.push(err.to_string()),
            }
        }
    }

    let mut explanation: Explanation = explain::explain(
        documents
            .iter()
            .map(|(source, value)| (source.clone(), value)),
        &node_list,
    );
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

/// Reads the Node objects of a file (or stdin), JSON or YAML, lists expanded.
fn read_node_file(path: &Path) -> anyhow::Result<Vec<Value>> {
    let source = if path == Path::new("-") {
        Source::Stdin
    } else {
        Source::File(path.to_path_buf())
    };
    let text = manifests::read_source(&source).context("reading --nodes")?;
    let documents = manifests::parse_documents(&source, &text).context("reading --nodes")?;
    Ok(documents.into_iter().map(|doc| doc.value).collect())
}

/// Lists every Node of the cluster found from `kubeconfig` and `context` (as kubectl finds it),
/// page by page.
fn list_cluster_nodes(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> anyhow::Result<Vec<Value>> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (config, _origin) = crate::kubeconfig::discover(kubeconfig, context).await?;
        let cluster = config.cluster_url.to_string();
        let client = kube::Client::try_from(config)
            .with_context(|| format!("creating a Kubernetes client for {cluster}"))?;
        let api: Api<Node> = Api::all(client);
        let mut objects = Vec::new();
        let mut params = ListParams::default().limit(NODE_PAGE_SIZE);
        loop {
            let page = api.list(&params).await.map_err(|error| {
                let request = api_error::Request {
                    verb: "list",
                    resource: "nodes",
                    namespace: None,
                    server: &cluster,
                };
                anyhow::anyhow!(
                    "listing Nodes from {cluster}: {}",
                    api_error::plain(&error, &request)
                )
            })?;
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
