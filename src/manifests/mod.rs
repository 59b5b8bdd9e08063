//! Loading Kubernetes manifests for `check` and `explain`: files, directories (recursively,
//! `*.yaml`, `*.yml`, `*.json`), or `-` for stdin; multi-document YAML streams, lists in every
//! shape (`kind: List`, `kind: <Kind>List`, top-level arrays) and the YAML tags on each object.
//!
//! This module does the I/O (paths, files, stdin); the submodules are pure:
//! - `yaml`: the streaming YAML reader: one document at a time, so memory follows the largest
//!   document, not the stream; it keeps the parser's per-document protections (alias bombs,
//!   nesting depth, node and event counts) and records every non-standard tag.
//! - `lists`: lists and arrays to the objects they hold, items inheriting their list's kind.
//! - `messages`: the parser's errors in plain words.
//!
//! The one size limit is on a single document (`--max-document-bytes`, [`DEFAULT_MAX_DOCUMENT_BYTES`]);
//! a stream may hold any number of documents.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use bgppeer_core::bgppeer::tags::YamlTag;
use serde_json::Value;

mod lists;
mod messages;
mod yaml;

/// The largest document read by default (32 MiB: far above any real manifest, far below what
/// would hurt a CI runner). A `.json` file is one document.
pub const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 32 * 1024 * 1024;

/// The flag that raises [`Limits::max_document_bytes`], named in the error that the limit gives.
pub(crate) const MAX_DOCUMENT_BYTES_FLAG: &str = "--max-document-bytes";

/// The file-name extensions picked up when a directory is given.
pub(crate) const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// What is accepted as input, for the messages about inputs that hold nothing.
pub(crate) const ACCEPTED_INPUTS: &str = "give manifest files, directories holding *.yaml, \
    *.yml or *.json files (searched recursively), or - for standard input";

/// The limits of reading.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest document, in bytes (YAML: one `---` document, measured with up to 64 KiB of
    /// the parser's read-ahead allowed on top; JSON: the whole file, exactly).
    pub max_document_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_document_bytes: DEFAULT_MAX_DOCUMENT_BYTES,
        }
    }
}

/// The input options shared by `check` and `explain`.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct InputArgs {
    /// The largest single YAML document (or JSON file) read, in bytes. A stream may hold any
    /// number of documents; only each one's size is limited.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULT_MAX_DOCUMENT_BYTES,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) max_document_bytes: u64,
}

impl InputArgs {
    /// The limits these options set.
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_document_bytes: self.max_document_bytes,
        }
    }
}

/// Where manifests come from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Standard input (`-` on the command line).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Source {
    /// Whether the content is JSON (a `.json` file); everything else, stdin included, is YAML,
    /// of which JSON is in practice a subset.
    pub(crate) fn is_json(&self) -> bool {
        match self {
            Source::Stdin => false,
            Source::File(path) => path.extension().is_some_and(|ext| ext == "json"),
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("<stdin>"),
            Source::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why manifests could not be loaded. `Display` names the file (and the line, for YAML).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// A path that does not exist or cannot be read.
    #[error("{source_name}: {}", io_message(error))]
    Read {
        /// The file, directory or stdin.
        source_name: String,
        /// The underlying I/O error (part of the message, so not also the error's `source()`).
        error: std::io::Error,
    },
    /// A document larger than [`Limits::max_document_bytes`].
    #[error(
        "{source_name}{}: a document is larger than {limit} bytes (the limit of \
         {MAX_DOCUMENT_BYTES_FLAG}; raise it to read larger documents)",
        document.map(|n| format!(":doc {n}")).unwrap_or_default()
    )]
    TooLarge {
        /// The file or stdin.
        source_name: String,
        /// The 1-based number of the oversized document in a YAML stream.
        document: Option<usize>,
        /// The limit in force.
        limit: u64,
    },
    /// Content that is not UTF-8.
    #[error("{source_name}: not UTF-8 text")]
    NotUtf8 {
        /// The file or stdin.
        source_name: String,
    },
    /// Content that does not parse as YAML or JSON.
    #[error("{source_name}{}: {message}", position(*line, *column))]
    Parse {
        /// The file or stdin.
        source_name: String,
        /// The 1-based line of the problem, when known.
        line: Option<u64>,
        /// The 1-based column of the problem, when known.
        column: Option<u64>,
        /// What is wrong, in plain words.
        message: String,
    },
    /// A path given on the command line that does not exist.
    #[error(
        "{source_name}: No such file or directory (a shell pattern that matched nothing is \
         passed on as written); {ACCEPTED_INPUTS}"
    )]
    NoSuchPath {
        /// The path as given.
        source_name: String,
    },
    /// A directory without a single manifest file.
    #[error(
        "{source_name}: no *.yaml, *.yml or *.json file in this directory or below; {ACCEPTED_INPUTS}"
    )]
    NoManifests {
        /// The directory.
        source_name: String,
    },
}

/// An I/O error in plain words: the system's message without its `(os error N)` suffix.
fn io_message(error: &std::io::Error) -> String {
    crate::plain::without_os_error_code(&error.to_string()).to_owned()
}

/// `:line:column`, `:line` or nothing: the position part of an error.
fn position(line: Option<u64>, column: Option<u64>) -> String {
    match (line, column) {
        (Some(line), Some(column)) => format!(":{line}:{column}"),
        (Some(line), None) => format!(":{line}"),
        _ => String::new(),
    }
}

/// One Kubernetes object found in the input.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The 1-based position of the document in its file (empty documents are not counted).
    pub index: usize,
    /// The 1-based position within a list document's `items` (or a top-level array), for items.
    pub item: Option<usize>,
    /// The 1-based line where the document (or list item) starts, when known (YAML only).
    pub(crate) line: Option<u64>,
    /// The object.
    pub value: Value,
    /// The non-standard YAML tags on the object, in document order (YAML only).
    pub tags: Vec<YamlTag>,
}

/// Rejects `-` given more than once: standard input can be read only once.
pub(crate) fn stdin_at_most_once(paths: &[PathBuf]) -> Result<(), String> {
    if paths.iter().filter(|p| p.as_os_str() == "-").count() > 1 {
        return Err(
            "standard input (`-`) is given more than once; it can be read only once, so give it once"
                .to_owned(),
        );
    }
    Ok(())
}

/// Expands command-line paths into sources: `-` is stdin, files are taken as they are, and
/// directories are walked recursively for [`MANIFEST_EXTENSIONS`] in sorted order. Symbolic links
/// to directories are not followed (so a link cycle cannot loop). A directory without a single
/// manifest file is an error ([`LoadError::NoManifests`]), as is a path that does not exist.
pub(crate) fn expand_paths(paths: &[PathBuf]) -> Result<Vec<Source>, LoadError> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|error| {
            if error.kind() == std::io::ErrorKind::NotFound {
                LoadError::NoSuchPath {
                    source_name: path.display().to_string(),
                }
            } else {
                read_error(path, error)
            }
        })?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
            if found.is_empty() {
                return Err(LoadError::NoManifests {
                    source_name: path.display().to_string(),
                });
            }
            found.sort();
            sources.extend(found.into_iter().map(Source::File));
        } else {
            sources.push(Source::File(path.clone()));
        }
    }
    Ok(sources)
}

/// A read error that names the path.
fn read_error(path: &Path, error: std::io::Error) -> LoadError {
    LoadError::Read {
        source_name: path.display().to_string(),
        error,
    }
}

/// Collects the manifest files below `dir`.
fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let entries = std::fs::read_dir(dir).map_err(|error| read_error(dir, error))?;
    for entry in entries {
        let entry = entry.map_err(|error| read_error(dir, error))?;
        let path = entry.path();
        let file_type = entry
            .file_type()
            .map_err(|error| read_error(&path, error))?;
        if file_type.is_dir() {
            walk(&path, found)?;
        } else if is_manifest_name(&path) && (file_type.is_file() || path.is_file()) {
            found.push(path);
        }
    }
    Ok(())
}

/// Whether a file name ends in one of [`MANIFEST_EXTENSIONS`].
pub(crate) fn is_manifest_name(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| MANIFEST_EXTENSIONS.contains(&ext))
}

/// Reads every object of one source and hands each to `each`, one document at a time: a YAML
/// stream is never held whole, so memory follows the largest document. Objects handed over
/// before an error stay handed over; the error ends the source.
pub fn read_documents(
    source: &Source,
    limits: Limits,
    each: &mut dyn FnMut(Document),
) -> Result<(), LoadError> {
    let source_name = source.to_string();
    let read_failed = |error| LoadError::Read {
        source_name: source_name.clone(),
        error,
    };
    match source {
        Source::Stdin => yaml::read_stream(Box::new(std::io::stdin()), source, limits, each),
        Source::File(path) => {
            let mut file = std::fs::File::open(path).map_err(read_failed)?;
            if source.is_json() {
                let mut bytes = Vec::new();
                (&mut file)
                    .take(limits.max_document_bytes.saturating_add(1))
                    .read_to_end(&mut bytes)
                    .map_err(read_failed)?;
                if bytes.len() as u64 > limits.max_document_bytes {
                    return Err(LoadError::TooLarge {
                        source_name,
                        document: None,
                        limit: limits.max_document_bytes,
                    });
                }
                parse_json(source, &bytes, each)
            } else {
                yaml::read_stream(
                    Box::new(std::io::BufReader::new(file)),
                    source,
                    limits,
                    each,
                )
            }
        }
    }
}

/// Parses the text of one source into its objects (the whole text in memory: for tests and
/// fuzzing; the commands read with [`read_documents`]).
pub fn parse_documents(source: &Source, text: &str) -> Result<Vec<Document>, LoadError> {
    let mut documents = Vec::new();
    let mut push = |doc| documents.push(doc);
    if source.is_json() {
        parse_json(source, text.as_bytes(), &mut push)?;
    } else {
        yaml::read_stream(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            source,
            Limits {
                max_document_bytes: u64::MAX,
            },
            &mut push,
        )?;
    }
    Ok(documents)
}

/// Parses a JSON file (one document) and hands over its objects.
fn parse_json(
    source: &Source,
    bytes: &[u8],
    each: &mut dyn FnMut(Document),
) -> Result<(), LoadError> {
    if std::str::from_utf8(bytes).is_err() {
        return Err(LoadError::NotUtf8 {
            source_name: source.to_string(),
        });
    }
    let value: Value = serde_json::from_slice(bytes).map_err(|err| {
        let (line, column) = (err.line() as u64, err.column() as u64);
        LoadError::Parse {
            source_name: source.to_string(),
            line: Some(line),
            column: Some(column),
            message: messages::json_message(&err),
        }
    })?;
    lists::expand(
        lists::Root {
            index: 1,
            line: None,
            value,
            tags: Vec::new(),
            item_lines: Vec::new(),
        },
        each,
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(text: &str) -> Result<Vec<Document>, LoadError> {
        parse_documents(&Source::File(PathBuf::from("m.yaml")), text)
    }

    #[test]
    fn multi_document_yaml_with_lines() {
        let docs = yaml("a: 1\n---\n---\n\nb: 2\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!((docs[0].index, docs[0].line), (1, Some(1)));
        assert_eq!((docs[1].index, docs[1].line), (2, Some(5)));
        assert_eq!(docs[1].value["b"], 2);
    }

    #[test]
    fn lists_are_expanded() {
        let docs = yaml("kind: List\nitems:\n- kind: BGPPeer\n- kind: ConfigMap\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[1].item, Some(2));
        assert_eq!(docs[1].value["kind"], "ConfigMap");
        let docs = yaml("kind: BGPPeerList\nitems: []\n").unwrap();
        assert!(docs.is_empty());
    }

    #[test]
    fn yaml_errors_carry_the_line() {
        let err = yaml("a: 1\n---\nb: [1, 2\nc: 3\n").unwrap_err();
        let LoadError::Parse { line, .. } = &err else {
            panic!("{err}")
        };
        assert_eq!(*line, Some(4));
        assert_eq!(
            err.to_string(),
            "m.yaml:4:2: illegal placement of ':' indicator"
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
            prev = name;
        }
        assert!(matches!(yaml(&text), Err(LoadError::Parse { .. })));
    }

    #[test]
    fn deep_nesting_is_refused() {
        assert!(yaml(&"[".repeat(100_000)).is_err());
    }

    #[test]
    fn json_files() {
        let source = Source::File(PathBuf::from("m.json"));
        let docs = parse_documents(&source, r#"{"kind": "List", "items": [{"a": 1}]}"#).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].line, None);
        let err = parse_documents(&source, "{\n\"a\": }").unwrap_err();
        assert_eq!(err.to_string(), "m.json:2:6: expected value");
    }

    #[test]
    fn manifest_names() {
        assert!(is_manifest_name(Path::new("a/b.yaml")));
        assert!(is_manifest_name(Path::new("b.yml")));
        assert!(is_manifest_name(Path::new("b.json")));
        assert!(!is_manifest_name(Path::new("README.md")));
        assert!(!is_manifest_name(Path::new("yaml")));
    }
}
