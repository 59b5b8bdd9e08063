//! The streaming YAML reader: documents one at a time from any `Read`, each turned into a JSON
//! value, the line of every list item, and the non-standard tags it carries.
//!
//! Only the reading goes through the `Read` it is given; everything else is pure. The stream is
//! parsed by serde-saphyr's streaming iterator with a per-document budget: the counters (nodes,
//! events, aliases, anchors, depth) start again at every document, so a stream of any length is
//! read while an alias bomb or a 100,000-level nesting in any one document is still refused. The
//! node and event counts grow with the document-size limit, so that any document under that
//! limit is read; the nesting depth (64) and the alias protections (at most 250,000 events
//! replayed by aliases per document) are fixed.
//!
//! Tags: every node is read through serde-saphyr's `Tagged` and `Spanned` wrappers, so the tag
//! and line of every value are seen (`nodeSelector: !has(x)` is an empty value tagged
//! `!has(x)`: in the JSON value it is only `null`).

use std::cell::Cell;
use std::fmt;
use std::io::Read;
use std::rc::Rc;

use bgppeer_core::bgppeer::tags::{Segment, Tagged as TaggedShape, YamlTag};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use serde_saphyr::{Spanned, Tagged};

use super::lists::{self, Root};
use super::messages;
use super::{Document, Limits, LoadError, Source};

/// The tags of YAML's core schema (`!!str`, ...; also `tag:yaml.org,2002:str` written out): the
/// standard types, which say nothing beyond the value. Every other tag is reported.
const STANDARD_TAGS: [&str; 7] = ["str", "int", "bool", "null", "float", "map", "seq"];

/// The prefix that `!!` stands for.
const YAML_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// The node budget: at least serde-saphyr's default, and enough for any document under the size
/// limit whose values average 8 bytes or more.
const MIN_NODES: usize = 250_000;

/// The stack of the parser thread. Reading a node takes several nested calls of the parser and
/// of serde per nesting level (tens of KiB per level in a debug build); 64 levels must fit with
/// room to spare whatever thread the caller runs on. Only the pages used are committed.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// How many parsed documents may wait for the caller: the parser stays at most this far ahead.
const DOCUMENTS_IN_FLIGHT: usize = 1;

/// How many parser events the aliases (`*name`) of one document may replay: an alias bomb is
/// stopped here, whatever the document-size limit (manifests rarely use aliases at all).
const MAX_REPLAYED_EVENTS: usize = 250_000;

/// Reads every document of a YAML stream and hands over its objects (lists opened). The stream
/// is parsed on a thread of its own (see [`PARSER_STACK_BYTES`]), at most
/// [`DOCUMENTS_IN_FLIGHT`] document ahead of `each`.
pub(super) fn read_stream(
    reader: Box<dyn Read + Send>,
    source: &Source,
    limits: Limits,
    each: &mut dyn FnMut(Document),
) -> Result<(), LoadError> {
    let (sender, receiver) = std::sync::mpsc::sync_channel(DOCUMENTS_IN_FLIGHT);
    let thread_source = source.clone();
    let parser = std::thread::Builder::new()
        .name("yaml-reader".to_owned())
        .stack_size(PARSER_STACK_BYTES)
        .spawn(move || parse_stream(reader, &thread_source, limits, &sender))
        .map_err(|error| LoadError::Read {
            source_name: source.to_string(),
            error,
        })?;
    let mut result = Ok(());
    for parsed in receiver {
        match parsed {
            Ok(root) => lists::expand(root, each),
            Err(error) => {
                result = Err(error);
                break;
            }
        }
    }
    if parser.join().is_err() && result.is_ok() {
        result = Err(LoadError::Parse {
            source_name: source.to_string(),
            line: None,
            column: None,
            message: "the YAML reader stopped unexpectedly".to_owned(),
        });
    }
    result
}

/// Parses the stream and sends each document (or the error that ends it) to `sender`; stops
/// early when the receiver is gone.
fn parse_stream(
    reader: Box<dyn Read + Send>,
    source: &Source,
    limits: Limits,
    sender: &std::sync::mpsc::SyncSender<Result<Root, LoadError>>,
) {
    let counted = Rc::new(Counter::default());
    let mut reader = CountingReader {
        inner: reader,
        counted: Rc::clone(&counted),
        limit: limits.max_document_bytes,
    };
    let mut index = 0usize;
    let documents = serde_saphyr::read_with_options::<_, Node>(&mut reader, options(limits));
    for document in documents {
        let parsed = match document {
            Ok(node) => {
                counted.bytes.set(0);
                index = index.saturating_add(1);
                Ok(root(index, node))
            }
            Err(error) => Err(if counted.over_limit.get() {
                LoadError::TooLarge {
                    source_name: source.to_string(),
                    document: Some(index.saturating_add(1)),
                    limit: limits.max_document_bytes,
                }
            } else {
                messages::yaml_error(source, &error, limits)
            }),
        };
        let stop = parsed.is_err();
        if sender.send(parsed).is_err() || stop {
            return;
        }
    }
}

/// The parser options: a per-document budget scaled to the document-size limit.
fn options(limits: Limits) -> serde_saphyr::Options {
    let bytes = usize::try_from(limits.max_document_bytes).unwrap_or(usize::MAX);
    let max_nodes = (bytes / 8).max(MIN_NODES);
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_reader_input_bytes: None,
            max_nodes: max_nodes,
            max_events: max_nodes.saturating_mul(4),
            max_total_scalar_bytes: bytes.max(64 * 1024 * 1024),
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_REPLAYED_EVENTS,
        },
        with_snippet: false,
    }
}

/// How many bytes the current document has taken so far, and whether it went over the limit.
#[derive(Default)]
struct Counter {
    bytes: Cell<u64>,
    over_limit: Cell<bool>,
}

/// How far the parser may read past the end of a document before handing it over: the bytes
/// read since the last document was handed over may exceed the limit by this much before the
/// document counts as too large.
const READ_AHEAD_BYTES: u64 = 64 * 1024;

/// A reader that fails once the current document (the bytes read since the last document was
/// handed over) exceeds the limit. The parser reads ahead, so the next document's first bytes
/// count toward the current one: at most [`READ_AHEAD_BYTES`] are allowed for that.
struct CountingReader {
    inner: Box<dyn Read + Send>,
    counted: Rc<Counter>,
    limit: u64,
}

impl Read for CountingReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.counted.bytes.get().saturating_add(n as u64);
        self.counted.bytes.set(total);
        if total > self.limit.saturating_add(READ_AHEAD_BYTES) {
            self.counted.over_limit.set(true);
            return Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "document too large",
            ));
        }
        Ok(n)
    }
}

/// A document as the parser gave it to the lists module: the JSON value, the line of each list
/// item, and the non-standard tags.
fn root(index: usize, node: Node) -> Root {
    let line = known_line(node.line);
    let item_lines = match &node.body {
        Body::Seq(items) => items.iter().map(|item| item.line).collect(),
        Body::Map(entries) => entries
            .iter()
            .find(|entry| entry.key == "items")
            .and_then(|entry| match &entry.value.body {
                Body::Seq(items) => Some(items.iter().map(|item| item.line).collect()),
                _ => None,
            })
            .unwrap_or_default(),
        Body::Scalar(_) => Vec::new(),
    };
    let mut tags = Vec::new();
    let mut path = Vec::new();
    let value = into_value(node, None, &mut path, &mut tags);
    Root {
        index,
        line,
        value,
        tags,
        item_lines,
    }
}

/// serde-saphyr reports line 0 when it does not know the location.
fn known_line(line: u64) -> Option<u64> {
    (line > 0).then_some(line)
}

/// One YAML node: its value, its tag (as the parser resolved it) and its line.
struct Node {
    body: Body,
    tag: Option<String>,
    line: u64,
}

/// The value of a node.
enum Body {
    Scalar(Value),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: the key (with its tag and line) and the value.
struct Entry {
    key: String,
    key_tag: Option<String>,
    key_line: u64,
    value: Node,
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Tagged(spanned, tag) = Tagged::<Spanned<Body>>::deserialize(deserializer)?;
        Ok(Node {
            line: spanned.referenced.line(),
            body: spanned.value,
            tag,
        })
    }
}

impl<'de> Deserialize<'de> for Body {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }
}

/// Builds a [`Body`] from whatever the parser found, as `serde_json::Value` would.
struct BodyVisitor;

impl<'de> Visitor<'de> for BodyVisitor {
    type Value = Body;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }

    fn visit_unit<E>(self) -> Result<Body, E> {
        Ok(Body::Scalar(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Body, E> {
        Ok(Body::Scalar(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Body, D::Error> {
        deserializer.deserialize_any(BodyVisitor)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Body, E> {
        Ok(Body::Scalar(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Body, E> {
        Ok(Body::Scalar(Value::Number(v.into())))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Body, E> {
        Ok(Body::Scalar(Value::Number(v.into())))
    }

    fn visit_i128<E>(self, v: i128) -> Result<Body, E> {
        Ok(Body::Scalar(match i64::try_from(v) {
            Ok(v) => Value::Number(v.into()),
            // As serde_json does for a number too large for 64 bits: a float.
            Err(_) => float(v as f64),
        }))
    }

    fn visit_u128<E>(self, v: u128) -> Result<Body, E> {
        Ok(Body::Scalar(match u64::try_from(v) {
            Ok(v) => Value::Number(v.into()),
            Err(_) => float(v as f64),
        }))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Body, E> {
        Ok(Body::Scalar(float(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Body, E> {
        Ok(Body::Scalar(Value::String(v.to_owned())))
    }

    fn visit_string<E>(self, v: String) -> Result<Body, E> {
        Ok(Body::Scalar(Value::String(v)))
    }

    fn visit_bytes<E>(self, v: &[u8]) -> Result<Body, E> {
        // `!!binary`: the decoded text, as Kubernetes' YAML reader gives it.
        Ok(Body::Scalar(Value::String(
            String::from_utf8_lossy(v).into_owned(),
        )))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Body, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Body::Seq(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Body, A::Error> {
        let mut entries = Vec::new();
        while let Some(Tagged(key, key_tag)) = map.next_key::<Tagged<Spanned<String>>>()? {
            let value = map.next_value::<Node>()?;
            entries.push(Entry {
                key_line: key.referenced.line(),
                key: key.value,
                key_tag,
                value,
            });
        }
        Ok(Body::Map(entries))
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, _data: A) -> Result<Body, A::Error> {
        Err(de::Error::custom(
            "a value of a type YAML has no plain form for",
        ))
    }
}

/// A float as JSON holds it: `null` for the non-finite ones (which the parser refuses anyway).
fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Turns a node into its JSON value, recording its non-standard tags (and those below it) with
/// their paths. `field_line` is the line of the key the node is the value of, when it is one:
/// the line a user looks at.
fn into_value(
    node: Node,
    field_line: Option<u64>,
    path: &mut Vec<Segment>,
    tags: &mut Vec<YamlTag>,
) -> Value {
    let Node { body, tag, line } = node;
    let tag = tag.filter(|tag| !is_standard(tag));
    if let Some(tag) = &tag {
        tags.push(YamlTag {
            path: path.clone(),
            tag: as_written(tag),
            line: field_line.or(known_line(line)),
            tagged: match &body {
                Body::Scalar(value) => TaggedShape::Scalar {
                    text: scalar_text(value),
                },
                Body::Seq(_) | Body::Map(_) => TaggedShape::Collection,
            },
        });
    }
    match body {
        Body::Scalar(value) => value,
        Body::Seq(items) => {
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.into_iter().enumerate() {
                path.push(Segment::Index(i));
                values.push(into_value(item, None, path, tags));
                path.pop();
            }
            Value::Array(values)
        }
        Body::Map(entries) => {
            let mut map = Map::new();
            for entry in entries {
                path.push(Segment::Key(entry.key.clone()));
                if let Some(tag) = entry.key_tag.filter(|tag| !is_standard(tag)) {
                    tags.push(YamlTag {
                        path: path.clone(),
                        tag: as_written(&tag),
                        line: known_line(entry.key_line),
                        tagged: TaggedShape::Scalar {
                            text: entry.key.clone(),
                        },
                    });
                }
                let value = into_value(entry.value, known_line(entry.key_line), path, tags);
                path.pop();
                map.insert(entry.key, value);
            }
            Value::Object(map)
        }
    }
}

/// Whether a tag is one of YAML's core types (`!!str`, `tag:yaml.org,2002:int`, ...).
fn is_standard(tag: &str) -> bool {
    tag.strip_prefix(YAML_TAG_PREFIX)
        .is_some_and(|name| STANDARD_TAGS.contains(&name))
}

/// The tag as the user wrote it: `!!foo` for the `tag:yaml.org,2002:` namespace, local tags
/// (`!has(x)`) as they are, any other resolved tag in its verbatim form `!<...>`.
fn as_written(tag: &str) -> String {
    if let Some(name) = tag.strip_prefix(YAML_TAG_PREFIX) {
        format!("!!{name}")
    } else if tag.starts_with('!') {
        tag.to_owned()
    } else {
        format!("!<{tag}>")
    }
}

/// A scalar as YAML read it, for the suggested fix: empty for null.
fn scalar_text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn read(text: &str) -> Result<Vec<Document>, LoadError> {
        read_limited(text, u64::MAX)
    }

    fn read_limited(text: &str, limit: u64) -> Result<Vec<Document>, LoadError> {
        let mut docs = Vec::new();
        read_stream(
            Box::new(std::io::Cursor::new(text.as_bytes().to_vec())),
            &Source::File(PathBuf::from("m.yaml")),
            Limits {
                max_document_bytes: limit,
            },
            &mut |doc| docs.push(doc),
        )?;
        Ok(docs)
    }

    #[test]
    fn an_unquoted_bang_is_a_tag_with_field_and_line() {
        let docs = read(
            "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: rr}\nspec:\n  \
             nodeSelector: !has(route-reflector)\n  peerSelector: !all()\n  asNumber: !foo 64512\n",
        )
        .unwrap();
        let tags = &docs[0].tags;
        assert_eq!(tags.len(), 3);
        assert_eq!(
            tags[0].path,
            vec![
                Segment::Key("spec".into()),
                Segment::Key("nodeSelector".into())
            ]
        );
        assert_eq!(tags[0].tag, "!has(route-reflector)");
        assert_eq!(tags[0].line, Some(5));
        assert_eq!(
            tags[0].tagged,
            TaggedShape::Scalar {
                text: String::new()
            }
        );
        assert_eq!((tags[1].tag.as_str(), tags[1].line), ("!all()", Some(6)));
        assert_eq!(
            tags[2].tagged,
            TaggedShape::Scalar {
                text: "64512".into()
            }
        );
        assert_eq!(docs[0].value["spec"]["nodeSelector"], Value::Null);
    }

    #[test]
    fn standard_tags_are_not_reported_and_others_are_written_as_the_user_did() {
        let docs = read(
            "a: !!str 1\nb: !<tag:yaml.org,2002:int> 2\nc: !!map {}\nd: !!seq []\ne: !!null\n\
             f: !!bool true\ng: !!float 1.5\nh: !!binary aGk=\ni: !<tag:example.com,2026:x> y\n\
             j: !local [1]\n",
        )
        .unwrap();
        let tags: Vec<&str> = docs[0].tags.iter().map(|t| t.tag.as_str()).collect();
        assert_eq!(tags, ["!!binary", "!<tag:example.com,2026:x>", "!local"]);
        assert_eq!(docs[0].value["a"], "1");
        assert_eq!(docs[0].value["h"], "hi");
        assert_eq!(docs[0].tags[2].tagged, TaggedShape::Collection);
    }

    #[test]
    fn tags_inside_aliases_merges_and_keys_are_found() {
        let docs = read("base: &b {x: !t 1}\nuse: *b\nmerged: {<<: *b}\n!k key: v\n").unwrap();
        let paths: Vec<String> = docs[0]
            .tags
            .iter()
            .map(|t| format!("{:?}", t.path))
            .collect();
        assert_eq!(paths.len(), 4, "{paths:?}");
    }

    #[test]
    fn list_items_have_their_lines() {
        let docs = read("kind: BGPPeerList\napiVersion: crd.projectcalico.org/v1\nitems:\n- metadata: {name: a}\n- metadata:\n    name: b\n").unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].line, Some(4));
        assert_eq!(docs[1].line, Some(5));
        assert_eq!(docs[1].value["kind"], "BGPPeer");
    }

    #[test]
    fn many_documents_are_read() {
        let text = "kind: ConfigMap\n---\n".repeat(5_000);
        assert_eq!(read(&text).unwrap().len(), 5_000);
    }

    #[test]
    fn the_document_size_limit_names_the_flag() {
        let text = format!("a: 1\n---\nb: {}\n", "x".repeat(200_000));
        let err = read_limited(&text, 50_000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "m.yaml:doc 2: a document is larger than 50000 bytes (the limit of \
             --max-document-bytes; raise it to read larger documents)"
        );
        assert!(read_limited(&text, 200_000).is_ok());
    }
}
