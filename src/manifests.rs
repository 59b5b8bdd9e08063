//! Loading Kubernetes manifests for `bgppeer-webhook check`: files, directories (recursively,
//! `*.yaml`, `*.yml`, `*.json`), or `-` for stdin; multi-document YAML and `kind: List`.
//!
//! Parsing ([`parse_documents`]) is pure and separate from reading ([`read_source`]), which caps
//! the input at `MAX_INPUT_BYTES`. YAML is parsed with serde-saphyr's default budget, which
//! rejects alias bombs ("billion laughs"), excessive nesting and runaway event counts with an
//! error instead of exhausting memory.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The largest input read from one file or stdin (32 MiB: far above any real manifest set, far
/// below what would hurt a CI runner).
pub(crate) const MAX_INPUT_BYTES: u64 = 32 * 1024 * 1024;

/// The file-name extensions picked up when a directory is given.
pub(crate) const MANIFEST_EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

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
    #[error("{source_name}: {error}")]
    Read {
        /// The file, directory or stdin.
        source_name: String,
        /// The underlying I/O error (part of the message, so not also the error's `source()`).
        error: std::io::Error,
    },
    /// Input larger than `MAX_INPUT_BYTES`.
    #[error("{source_name}: larger than {MAX_INPUT_BYTES} bytes; split it into smaller files")]
    TooLarge {
        /// The file or stdin.
        source_name: String,
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
        /// What the parser said.
        message: String,
    },
}

/// `:line:column`, `:line` or nothing: the position part of a parse error.
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
    /// The 1-based position within a `kind: List` document's `items`, for list items.
    pub item: Option<usize>,
    /// The 1-based line where the document (or list item) starts, when known (YAML only).
    pub(crate) line: Option<u64>,
    /// The object.
    pub value: Value,
}

/// Expands command-line paths into sources: `-` is stdin, files are taken as they are, and
/// directories are walked recursively for [`MANIFEST_EXTENSIONS`] in sorted order. Symbolic links
/// to directories are not followed (so a link cycle cannot loop).
pub(crate) fn expand_paths(paths: &[PathBuf]) -> Result<Vec<Source>, LoadError> {
    let mut sources = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            sources.push(Source::Stdin);
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|error| read_error(path, error))?;
        if metadata.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found)?;
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

/// Reads a source as text, refusing more than `MAX_INPUT_BYTES`.
pub fn read_source(source: &Source) -> Result<String, LoadError> {
    let source_name = source.to_string();
    let mut bytes = Vec::new();
    let result = match source {
        Source::Stdin => std::io::stdin()
            .lock()
            .take(MAX_INPUT_BYTES + 1)
            .read_to_end(&mut bytes),
        Source::File(path) => std::fs::File::open(path)
            .and_then(|file| file.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes)),
    };
    result.map_err(|error| LoadError::Read {
        source_name: source_name.clone(),
        error,
    })?;
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(LoadError::TooLarge { source_name });
    }
    String::from_utf8(bytes).map_err(|_| LoadError::NotUtf8 { source_name })
}

/// Parses the text of one source into its documents, expanding `kind: List` items.
pub fn parse_documents(source: &Source, text: &str) -> Result<Vec<Document>, LoadError> {
    let source_name = source.to_string();
    let roots: Vec<(Option<u64>, Value)> = if source.is_json() {
        let value: Value = serde_json::from_str(text).map_err(|err| {
            let (line, column) = (err.line() as u64, err.column() as u64);
            let text = err.to_string();
            let suffix = format!(" at line {line} column {column}");
            LoadError::Parse {
                source_name,
                line: Some(line),
                column: Some(column),
                message: text.strip_suffix(&suffix).unwrap_or(&text).to_owned(),
            }
        })?;
        vec![(None, value)]
    } else {
        let options = serde_saphyr::options! { with_snippet: false };
        let docs: Vec<serde_saphyr::Spanned<Value>> =
            serde_saphyr::from_multiple_with_options(text, options).map_err(|err| {
                let location = err.location().filter(|l| l.line() > 0);
                let mut message = err.to_string();
                if let Some(l) = &location {
                    // The position is reported as `file:line:column`; drop the parser's own
                    // " at line L, column C" so that it is not said twice.
                    let suffix = format!(" at line {}, column {}", l.line(), l.column());
                    if let Some(stripped) = message.strip_suffix(&suffix) {
                        message = stripped.to_owned();
                    }
                }
                LoadError::Parse {
                    source_name,
                    line: location.as_ref().map(|l| l.line()),
                    column: location.as_ref().map(|l| l.column()),
                    message,
                }
            })?;
        docs.into_iter()
            .map(|doc| (known_line(doc.referenced.line()), doc.value))
            .collect()
    };
    let mut documents = Vec::new();
    for (i, (line, value)) in roots.into_iter().enumerate() {
        let index = i + 1;
        match list_items(&value) {
            Some(items) => {
                documents.extend(items.iter().enumerate().map(|(j, item)| Document {
                    index,
                    item: Some(j + 1),
                    line,
                    value: item.clone(),
                }));
            }
            None => documents.push(Document {
                index,
                item: None,
                line,
                value,
            }),
        }
    }
    Ok(documents)
}

/// serde-saphyr reports line 0 when it does not know the location.
fn known_line(line: u64) -> Option<u64> {
    (line > 0).then_some(line)
}

/// The items of a list document (`kind: List`, or `kind: <Kind>List` with `items`).
fn list_items(value: &Value) -> Option<&Vec<Value>> {
    let kind = value.get("kind")?.as_str()?;
    if !kind.ends_with("List") {
        return None;
    }
    value.get("items")?.as_array()
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
