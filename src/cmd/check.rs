//! The `check` subcommand: validate BGPPeer manifests offline, for GitOps pipelines.
//!
//! The same rules as the admission webhook ([`bgppeer_core::bgppeer::validate_document`]), applied to
//! files, directories and stdin. Documents of other kinds are skipped and counted.
//!
//! Exit codes, the same in every output format: 0 every BGPPeer is valid, 1 at least one is
//! invalid, 2 some input could not be read or parsed (the others are still checked and reported).
//!
//! Output: this module reads and checks; the formats are rendered by its `text`, `json`, `junit`
//! and `github` modules (pure functions of the [`Outcome`]) and written by `cmd::output`, which
//! ends quietly when the reader of standard output has gone away.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

use crate::manifests::{self, Document, InputArgs, Limits, LoadError, Source};
use bgppeer_core::bgppeer::Report;
use bgppeer_core::bgppeer::api::BGP_PEER_KIND;
use bgppeer_core::bgppeer::tags::validate_yaml_document;

mod github;
mod json;
mod junit;
mod text;

use super::output;

/// Arguments of `bgppeer-webhook check`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status (every output format): 0 all BGPPeers valid, 1 any invalid, \
                        2 unreadable input, unparseable YAML/JSON, a path that holds no \
                        manifest, or no BGPPeer at all with --require-peers. When standard \
                        output is closed early (`| head`), the rest of the report is dropped \
                        silently and the exit status is still the verdict's."
)]
pub(crate) struct Args {
    /// Output format: `text` (one line per error, then warnings, then a summary), `json` (a
    /// stable schema: docs/schemas/check.schema.json), `junit` (JUnit XML for GitLab's and
    /// Jenkins' test reports: one test case per BGPPeer) or `github` (GitHub Actions
    /// `::error`/`::warning` annotations, then the summary).
    #[arg(
        short = 'o',
        long,
        value_enum,
        default_value_t = Format::Text,
        env = "BGPPEER_WEBHOOK_CHECK_OUTPUT"
    )]
    pub(crate) output: Format,

    /// Fail (exit status 2) when the inputs hold no BGPPeer at all.
    #[arg(long)]
    pub(crate) require_peers: bool,

    #[command(flatten)]
    pub(crate) input: InputArgs,

    /// Manifest files, directories (searched recursively for *.yaml, *.yml and *.json), or `-`
    /// for standard input (at most once).
    #[arg(required = true, value_name = "PATH")]
    pub(crate) paths: Vec<PathBuf>,
}

/// The output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object on stdout.
    Json,
    /// JUnit XML: a test suite per input file, a test case per BGPPeer.
    Junit,
    /// GitHub Actions workflow commands: an annotation per error and warning.
    Github,
}

impl Format {
    /// The whole report in this format. Unreadable inputs are part of every report; the text
    /// format also names them on standard error, which this returns as its second part.
    fn render(self, outcome: &Outcome) -> (String, Vec<String>) {
        match self {
            Format::Text => (
                text::render(outcome),
                outcome
                    .failures
                    .iter()
                    .map(|failure| format!("error: {failure}"))
                    .collect(),
            ),
            Format::Json => (json::render(outcome) + "\n", Vec::new()),
            Format::Junit => (junit::render(outcome), Vec::new()),
            Format::Github => (github::render(outcome), Vec::new()),
        }
    }
}

/// Runs `bgppeer-webhook check`. A path that cannot be read is reported and the others are
/// still checked.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    manifests::stdin_at_most_once(&args.paths).map_err(anyhow::Error::msg)?;
    let mut sources = Vec::new();
    let mut unreadable = Vec::new();
    for path in &args.paths {
        match manifests::expand_paths(std::slice::from_ref(path)) {
            Ok(found) => sources.extend(found),
            Err(err) => unreadable.push(err),
        }
    }
    let mut outcome = check_sources(&sources, args.input.limits());
    outcome.files += unreadable.len();
    outcome.failures.splice(0..0, unreadable);
    outcome.no_peers = args.require_peers && outcome.peers.is_empty();
    if outcome.no_peers {
        output::eprint_line(&format!(
            "error: no BGPPeer in any input, and --require-peers is set; {}",
            if outcome.failures.is_empty() {
                "check that the right files are given"
            } else {
                "some inputs could not be read"
            }
        ));
    }
    let (report, notes) = args.output.render(&outcome);
    for note in &notes {
        output::eprint_line(note);
    }
    output::print(&report)?;
    Ok(ExitCode::from(outcome.exit_code()))
}

/// Everything `check` found.
#[derive(Debug, Default)]
pub struct Outcome {
    /// How many sources were read (successfully or not).
    pub(crate) files: usize,
    /// The BGPPeers, in input order.
    pub(crate) peers: Vec<PeerResult>,
    /// Documents of other kinds, in input order.
    pub(crate) skipped: Vec<Skipped>,
    /// Sources that could not be read or parsed.
    pub(crate) failures: Vec<LoadError>,
    /// `--require-peers` is set and no input holds a BGPPeer.
    pub(crate) no_peers: bool,
}

impl Outcome {
    /// 2 if any input failed (or `--require-peers` found none), else 1 if any BGPPeer is
    /// invalid, else 0.
    pub fn exit_code(&self) -> u8 {
        if !self.failures.is_empty() || self.no_peers {
            2
        } else if self.peers.iter().any(|p| !p.report.is_valid()) {
            1
        } else {
            0
        }
    }
}

/// Where a document is: `file:doc N` (and the list item and line, when there are).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Location {
    /// The file (or `<stdin>`).
    pub(crate) file: String,
    /// The 1-based document number in the file.
    pub(crate) document: usize,
    /// The 1-based item number in a `kind: List` document.
    pub(crate) item: Option<usize>,
    /// The 1-based line where the document starts (YAML only).
    pub(crate) line: Option<u64>,
}

impl Location {
    fn of(source: &Source, doc: &Document) -> Self {
        Self {
            file: source.to_string(),
            document: doc.index,
            item: doc.item,
            line: doc.line,
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:doc {}", self.file, self.document)?;
        if let Some(item) = self.item {
            write!(f, " item {item}")?;
        }
        Ok(())
    }
}

/// The result for one BGPPeer.
#[derive(Debug)]
pub(crate) struct PeerResult {
    /// Where it is.
    pub(crate) location: Location,
    /// Its `apiVersion`, if a string.
    pub(crate) api_version: Option<String>,
    /// Its `metadata.name` (or `generateName`), if any.
    pub(crate) name: Option<String>,
    /// The verdict.
    pub(crate) report: Report,
    /// The line of each non-standard YAML tag: the errors about them come first in
    /// `report.errors`, in this order (so an annotation can point at the tag's own line).
    pub(crate) tag_lines: Vec<Option<u64>>,
}

/// A document that is not a BGPPeer.
#[derive(Debug)]
pub(crate) struct Skipped {
    /// Where it is.
    pub(crate) location: Location,
    /// Its `apiVersion`, if a string.
    pub(crate) api_version: Option<String>,
    /// Its `kind`, if a string (`None` for documents that are not Kubernetes objects).
    pub(crate) kind: Option<String>,
}

/// Reads, parses and validates every source, one document at a time (each is checked and
/// dropped before the next is read).
pub(crate) fn check_sources(sources: &[Source], limits: Limits) -> Outcome {
    let mut outcome = Outcome {
        files: sources.len(),
        ..Outcome::default()
    };
    for source in sources {
        let read = manifests::read_documents(source, limits, &mut |doc| {
            check_document(source, &doc, &mut outcome);
        });
        if let Err(err) = read {
            outcome.failures.push(err);
        }
    }
    outcome
}

/// Validates the BGPPeers among `documents` and records the others as skipped.
pub fn check_documents(source: &Source, documents: &[Document], outcome: &mut Outcome) {
    for doc in documents {
        check_document(source, doc, outcome);
    }
}

/// Validates one document if it is a BGPPeer (its YAML tags included), or records it as
/// skipped.
fn check_document(source: &Source, doc: &Document, outcome: &mut Outcome) {
    let location = Location::of(source, doc);
    let api_version = string_at(&doc.value, &["apiVersion"]);
    let kind = string_at(&doc.value, &["kind"]);
    if kind.as_deref() != Some(BGP_PEER_KIND) {
        outcome.skipped.push(Skipped {
            location,
            api_version,
            kind,
        });
        return;
    }
    let name = string_at(&doc.value, &["metadata", "name"])
        .filter(|n| !n.is_empty())
        .or_else(|| string_at(&doc.value, &["metadata", "generateName"]));
    outcome.peers.push(PeerResult {
        location,
        api_version,
        name,
        report: validate_yaml_document(&doc.value, &doc.tags),
        tag_lines: doc.tags.iter().map(|tag| tag.line).collect(),
    });
}

/// The string at a key path (`["metadata", "name"]`), if there is one.
fn string_at(value: &Value, path: &[&str]) -> Option<String> {
    path.iter()
        .try_fold(value, |v, key| v.get(key))
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn outcome_for(text: &str) -> Outcome {
        let source = Source::File(PathBuf::from("peers.yaml"));
        let documents = manifests::parse_documents(&source, text).unwrap();
        let mut outcome = Outcome {
            files: 1,
            ..Outcome::default()
        };
        check_documents(&source, &documents, &mut outcome);
        outcome
    }

    const MIXED: &str = "\
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: good}
spec: {peerIP: 10.0.0.1, asNumber: 64512}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c}
---
apiVersion: crd.projectcalico.org/v1
kind: BGPPeer
metadata: {name: bad}
spec: {peerIP: '10.0.0.1:0'}
";

    #[test]
    fn text_report() {
        let outcome = outcome_for(MIXED);
        assert_eq!(outcome.exit_code(), 1);
        assert_eq!(
            text::render(&outcome),
            "peers.yaml:doc 3: BGPPeer \"bad\": spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535\n\
             peers.yaml:doc 3: BGPPeer \"bad\": warning: peerIP set without asNumber: works only if the peer is a Calico node\n\
             2 BGPPeers checked in 1 file: 1 valid, 1 invalid (1 error), 1 warning; 1 other document skipped\n"
        );
    }

    #[test]
    fn json_report() {
        let outcome = outcome_for(MIXED);
        let json: Value = serde_json::from_str(&json::render(&outcome)).unwrap();
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(json["valid"], false);
        assert_eq!(json["exitCode"], 1);
        assert_eq!(json["summary"]["bgpPeers"], 2);
        assert_eq!(json["summary"]["skipped"], 1);
        let bad = &json["results"][1];
        assert_eq!(bad["file"], "peers.yaml");
        assert_eq!(bad["document"], 3);
        assert_eq!(bad["line"], 10);
        assert_eq!(bad["name"], "bad");
        assert_eq!(bad["errors"][0]["field"], "spec.peerIP");
        assert_eq!(bad["errors"][0]["reason"], "FieldValueInvalid");
        assert_eq!(
            bad["errors"][0]["message"],
            "Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535"
        );
        assert_eq!(json["skipped"][0]["kind"], "ConfigMap");
    }

    #[test]
    fn unnamed_and_list_items() {
        let outcome = outcome_for(
            "kind: List\nitems:\n- apiVersion: projectcalico.org/v3\n  kind: BGPPeer\n  spec: {}\n",
        );
        assert_eq!(outcome.peers.len(), 1);
        let text = text::render(&outcome);
        assert!(
            text.starts_with(
                "peers.yaml:doc 1 item 1: BGPPeer (unnamed): metadata.name: Required value"
            ),
            "{text}"
        );
    }

    #[test]
    fn nothing_to_check_is_success() {
        let outcome = outcome_for("kind: ConfigMap\n");
        assert_eq!(outcome.exit_code(), 0);
        assert_eq!(
            text::render(&outcome),
            "0 BGPPeers checked in 1 file: 0 valid, 0 invalid (0 errors), 0 warnings; 1 other document skipped\n"
        );
    }
}
