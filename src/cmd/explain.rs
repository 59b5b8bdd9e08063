//! The `explain` subcommand: which nodes each BGPPeer applies to and which BGP sessions they
//! will open, on the nodes of a `kubectl get nodes -o json` file or of a live cluster (found as
//! kubectl finds it: [`crate::kubeconfig`]).
//!
//! Only I/O lives here (reading files, listing Nodes and BGPConfigurations with the `kube`
//! client); the decisions and the three output formats are in [`bgppeer_core::explain`], the
//! BGPConfiguration semantics in [`bgppeer_core::bgpconfig`].
//!
//! The BGPConfigurations (node-to-node mesh, default AS, listen ports) come from
//! `--bgp-configuration FILE`, else from the cluster with `--kubeconfig` (both Calico API groups;
//! a group the API server does not serve is skipped, a refused list leaves them unknown with a
//! note), else they are unknown and the output says so.
//!
//! Exit codes: 0 every BGPPeer is valid, 1 at least one is invalid (it is reported with its
//! validation errors and not explained), 2 the nodes or some manifest could not be read, or the
//! command line is wrong.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, DynamicObject, ListParams};
use serde_json::Value;

use crate::cluster::{api_error, resources};
use crate::cmd::check::Location;
use crate::cmd::output;
use crate::manifests::{self, Document, InputArgs, Source};
use bgppeer_core::bgpconfig::BgpConfigurations;
use bgppeer_core::bgppeer::api::BGP_PEER_KIND;
use bgppeer_core::bgppeer::tags::{YamlTag, validate_yaml_document};
use bgppeer_core::explain::{self, Explanation, PeerOutcome, nodes};

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

    /// The cluster's BGPConfigurations (`default` and `node.<name>`): one, a List, or several
    /// documents, as JSON or YAML, or `-` for standard input. They decide the node-to-node mesh,
    /// the default AS and the listen ports; with --kubeconfig and without this, they are listed
    /// from the cluster; without either, those are reported as unknown.
    #[arg(long, value_name = "FILE")]
    pub(crate) bgp_configuration: Option<PathBuf>,

    /// Output format: `text` (one block per BGPPeer), `json` (a stable schema, described by
    /// docs/schemas/explain.schema.json) or `dot` (a Graphviz digraph of the peering graph).
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
    let stdin_users: Vec<&str> = [
        (args.nodes.as_deref() == Some(stdin), "--nodes"),
        (
            args.bgp_configuration.as_deref() == Some(stdin),
            "--bgp-configuration",
        ),
        (args.paths.iter().any(|p| p == stdin), "the peers"),
    ]
    .into_iter()
    .filter_map(|(uses, name)| uses.then_some(name))
    .collect();
    if let [first, rest @ .., last] = stdin_users.as_slice() {
        let others: String = rest.iter().map(|name| format!(", for {name}")).collect();
        let how_many = if rest.is_empty() { "both" } else { "all" };
        anyhow::bail!(
            "standard input (`-`) can be used for {first}{others} or for {last}, not {how_many}"
        );
    }
    manifests::stdin_at_most_once(&args.paths).map_err(anyhow::Error::msg)?;
    let (node_objects, listed_configurations) = match &args.nodes {
        Some(path) => (read_node_file(path, args.input.limits())?, None),
        None => {
            let listed = list_cluster(
                args.kubeconfig.as_deref(),
                args.context.as_deref(),
                args.bgp_configuration.is_none(),
            )?;
            (listed.nodes, listed.bgp_configurations)
        }
    };
    let node_list = nodes::from_objects(&node_objects).context("reading the nodes")?;
    let bgp = match (&args.bgp_configuration, listed_configurations) {
        (Some(path), _) => {
            let objects =
                read_objects(path, args.input.limits()).context("reading --bgp-configuration")?;
            BgpConfigurations::from_objects(&objects).context("reading --bgp-configuration")?
        }
        (None, Some(Ok(objects))) => BgpConfigurations::from_objects(&objects)
            .context("reading the cluster's BGPConfigurations")?,
        (None, Some(Err(note))) => BgpConfigurations::unknown(note),
        (None, None) => BgpConfigurations::unknown(
            "no BGPConfiguration given (--bgp-configuration FILE, or --kubeconfig)",
        ),
    };

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

    let mut explanation: Explanation = explain::explain_with(
        documents
            .objects
            .iter()
            .map(|(source, value)| (source.clone(), value)),
        &node_list,
        bgp,
    );
    documents.report_tags(&mut explanation);
    explanation.input_errors = input_errors;
    for error in &explanation.input_errors {
        output::eprint_line(&format!("error: {error}"));
    }
    let report = match args.output {
        Format::Text => explain::text::render(&explanation),
        Format::Json => explain::json::render(&explanation) + "\n",
        Format::Dot => explain::dot::render(&explanation),
    };
    output::print(&report)?;
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
    read_objects(path, limits).context("reading --nodes")
}

/// Reads the objects of a file (or stdin), JSON or YAML, documents and lists expanded.
fn read_objects(path: &Path, limits: manifests::Limits) -> anyhow::Result<Vec<Value>> {
    let source = if path == Path::new("-") {
        Source::Stdin
    } else {
        Source::File(path.to_path_buf())
    };
    let mut objects = Vec::new();
    manifests::read_documents(&source, limits, &mut |doc| objects.push(doc.value))?;
    Ok(objects)
}

/// What `explain` reads from a cluster.
struct Listed {
    /// Every Node.
    nodes: Vec<Value>,
    /// The BGPConfigurations of both groups (`crd.projectcalico.org` first), or the note saying
    /// why they are unknown; `None` when not asked for.
    bgp_configurations: Option<Result<Vec<Value>, String>>,
}

/// Lists every Node of the cluster found from `kubeconfig` and `context` (as kubectl finds it),
/// page by page, and, when `configurations`, its BGPConfigurations.
fn list_cluster(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    configurations: bool,
) -> anyhow::Result<Listed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let (config, _origin) = crate::kubeconfig::discover(kubeconfig, context).await?;
        let cluster = config.cluster_url.to_string();
        let client = kube::Client::try_from(config)
            .with_context(|| format!("creating a Kubernetes client for {cluster}"))?;
        let api: Api<Node> = Api::all(client.clone());
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
        let bgp_configurations = if configurations {
            Some(list_bgp_configurations(&client).await)
        } else {
            None
        };
        Ok(Listed {
            nodes: objects,
            bgp_configurations,
        })
    })
}

/// Lists the BGPConfigurations of both API groups, `crd.projectcalico.org` first (the copy
/// calico-node reads wins when both serve one). Both groups serve the same objects, so one
/// group listed is enough: a group not served (404) or refused is skipped. When no group could
/// be listed, the note says why they are unknown (the first refusal, else "not served").
async fn list_bgp_configurations(client: &kube::Client) -> Result<Vec<Value>, String> {
    let mut objects = Vec::new();
    let mut served = false;
    let mut refusal: Option<String> = None;
    for group in resources::GROUPS {
        let resource = resources::bgpconfigurations(group);
        let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        match api.list(&ListParams::default()).await {
            Ok(list) => {
                served = true;
                for item in list.items {
                    let Ok(mut value) = serde_json::to_value(&item) else {
                        continue;
                    };
                    if let Some(object) = value.as_object_mut() {
                        object
                            .entry("kind")
                            .or_insert_with(|| Value::from(resource.kind.as_str()));
                    }
                    objects.push(value);
                }
            }
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(kube::Error::Api(status)) => {
                refusal.get_or_insert(format!(
                    "listing {}.{} was refused ({} {}): the mesh, the default AS and the listen \
                     ports are unknown",
                    resource.plural, resource.group, status.code, status.reason
                ));
            }
            Err(other) => {
                refusal.get_or_insert(format!(
                    "listing {}.{} failed ({other}): the mesh, the default AS and the listen \
                     ports are unknown",
                    resource.plural, resource.group
                ));
            }
        }
    }
    match (served, refusal) {
        (true, _) => Ok(objects),
        (false, Some(refusal)) => Err(refusal),
        (false, None) => Err(
            "the cluster serves no BGPConfiguration resource (is Calico installed?): the mesh, \
             the default AS and the listen ports are unknown"
                .to_owned(),
        ),
    }
}
