//! YAML tags on a BGPPeer document: errors, never meanings. Pure: the YAML reader of the caller
//! finds the tags (a tag is invisible in the JSON value), this module words the errors.
//!
//! YAML reads an unquoted value that starts with `!` as a *tag* on the value, not as part of it:
//! `nodeSelector: !has(route-reflector)` is an empty `nodeSelector` tagged `!has(route-reflector)`,
//! and the peer silently becomes global. Kubernetes gives tags no meaning, so every tag other
//! than YAML's standard types (`!!str`, `!!int`, ...; the reader filters those) on a BGPPeer is
//! an error that names the field, the tag, the line and the fix.

use serde_json::Value;

use super::Report;
use crate::field::{ErrorList, FieldError, MAX_PATH_NAME_LEN, MAX_VALUE_LEN, Path, shorten};

/// One step of the path to a tagged node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A sequence index (0-based).
    Index(usize),
}

/// What the tagged node holds, as far as the fix is concerned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tagged {
    /// A scalar: `text` is what YAML read after the tag (empty for `!has(x)` alone).
    Scalar {
        /// The scalar as read, without the tag (`64512` for `!foo 64512`).
        text: String,
    },
    /// A mapping or a sequence.
    Collection,
}

/// A non-standard YAML tag found on a node of a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct YamlTag {
    /// Where the tagged node is, from the document's root.
    pub path: Vec<Segment>,
    /// The tag as written (`!has(route-reflector)`).
    pub tag: String,
    /// The 1-based line of the field that carries the tag, when known.
    pub line: Option<u64>,
    /// What the node holds.
    pub tagged: Tagged,
}

/// Validates a BGPPeer read from YAML: one error per tag (first, in document order), then the
/// errors of [`validate_document`](super::validate_document).
pub fn validate_yaml_document(object: &Value, tags: &[YamlTag]) -> Report {
    let mut report = super::validate_document(object);
    if tags.is_empty() {
        return report;
    }
    let mut errors = ErrorList::new();
    for tag in tags {
        errors.push(tag_error(tag));
    }
    errors.extend(std::mem::take(&mut report.errors));
    report.errors = errors;
    report
}

/// The error for one tag:
/// `spec.nodeSelector: Invalid value: "!has(route-reflector)": line 5: ...; quote it: ...`.
pub(crate) fn tag_error(tag: &YamlTag) -> FieldError {
    let path = field_path(&tag.path);
    let shown_tag = shorten(&tag.tag, MAX_VALUE_LEN).into_owned();
    let line = tag.line.map(|l| format!("line {l}: ")).unwrap_or_default();
    let detail = match &tag.tagged {
        Tagged::Scalar { text } => {
            let read_as = if text.is_empty() {
                "so the field is left empty".to_owned()
            } else {
                format!(
                    "and the value is read as {}",
                    crate::field::go_quote(&shorten(text, MAX_VALUE_LEN))
                )
            };
            let written = if text.is_empty() {
                shown_tag.clone()
            } else {
                format!("{shown_tag} {}", shorten(text, MAX_VALUE_LEN))
            };
            format!(
                "{line}an unquoted value that starts with \"!\" is a YAML tag, which Kubernetes \
                 ignores, {read_as}; quote it: {}{}",
                fix_prefix(&tag.path),
                crate::field::go_quote(&written)
            )
        }
        Tagged::Collection => format!(
            "{line}an unquoted \"!\" before a mapping or list is a YAML tag, which Kubernetes \
             ignores; remove the tag"
        ),
    };
    FieldError::invalid(path, Value::String(shown_tag), detail)
}

/// `nodeSelector: ` for a mapping entry, `- ` for a list element, nothing for the document.
fn fix_prefix(path: &[Segment]) -> String {
    match path.last() {
        Some(Segment::Key(key)) => format!("{}: ", shorten(key, MAX_PATH_NAME_LEN)),
        Some(Segment::Index(_)) => "- ".to_owned(),
        None => String::new(),
    }
}

/// The field path as Kubernetes renders it (`spec.nodeSelector`, `metadata.labels[app]`,
/// `spec.filters[0]`); `object` for the document itself.
fn field_path(segments: &[Segment]) -> Path {
    let mut path: Option<Path> = None;
    for segment in segments {
        path = Some(match (path, segment) {
            (None, Segment::Key(key)) => Path::new(key),
            (None, Segment::Index(i)) => Path::new("object").index(*i),
            (Some(parent), Segment::Index(i)) => parent.index(*i),
            (Some(parent), Segment::Key(key)) => {
                if matches!(parent.as_str(), "metadata.labels" | "metadata.annotations") {
                    parent.key(key)
                } else {
                    parent.child(key)
                }
            }
        });
    }
    path.unwrap_or_else(|| Path::new("object"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    fn peer() -> Value {
        json!({"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer",
            "metadata": {"name": "rr-mesh"},
            "spec": {"nodeSelector": null, "peerSelector": "route-reflector == 'true'"}})
    }

    #[test]
    fn an_empty_tagged_selector_is_an_error_with_the_fix() {
        let tags = [YamlTag {
            path: vec![key("spec"), key("nodeSelector")],
            tag: "!has(route-reflector)".to_owned(),
            line: Some(5),
            tagged: Tagged::Scalar {
                text: String::new(),
            },
        }];
        assert!(super::super::validate_document(&peer()).is_valid());
        let report = validate_yaml_document(&peer(), &tags);
        assert_eq!(report.errors.len(), 1);
        assert_eq!(
            report.errors.joined(),
            "spec.nodeSelector: Invalid value: \"!has(route-reflector)\": line 5: an unquoted \
             value that starts with \"!\" is a YAML tag, which Kubernetes ignores, so the field \
             is left empty; quote it: nodeSelector: \"!has(route-reflector)\""
        );
    }

    #[test]
    fn tags_on_other_fields_and_collections() {
        let tags = [
            YamlTag {
                path: vec![key("spec"), key("asNumber")],
                tag: "!foo".to_owned(),
                line: Some(7),
                tagged: Tagged::Scalar {
                    text: "64512".to_owned(),
                },
            },
            YamlTag {
                path: vec![key("metadata"), key("labels"), key("app")],
                tag: "!x".to_owned(),
                line: None,
                tagged: Tagged::Collection,
            },
            YamlTag {
                path: vec![key("spec"), key("filters"), Segment::Index(1)],
                tag: "!f".to_owned(),
                line: Some(9),
                tagged: Tagged::Scalar {
                    text: "a\"b".to_owned(),
                },
            },
        ];
        let errors: Vec<String> = tags.iter().map(|t| tag_error(t).to_string()).collect();
        assert!(
            errors[0].starts_with("spec.asNumber: Invalid value: \"!foo\": line 7: "),
            "{}",
            errors[0]
        );
        assert!(
            errors[0].ends_with(
                "and the value is read as \"64512\"; quote it: asNumber: \"!foo 64512\""
            ),
            "{}",
            errors[0]
        );
        assert!(
            errors[1].starts_with("metadata.labels[app]: Invalid value: \"!x\": an unquoted"),
            "{}",
            errors[1]
        );
        assert!(errors[1].ends_with("remove the tag"), "{}", errors[1]);
        assert!(
            errors[2].starts_with("spec.filters[1]: Invalid value: \"!f\": line 9"),
            "{}",
            errors[2]
        );
        assert!(
            errors[2].ends_with("quote it: - \"!f a\\\"b\""),
            "{}",
            errors[2]
        );
    }

    #[test]
    fn long_tags_and_values_are_cut() {
        let tag = YamlTag {
            path: vec![],
            tag: format!("!{}", "t".repeat(10_000)),
            line: Some(1),
            tagged: Tagged::Scalar {
                text: "v".repeat(10_000),
            },
        };
        let error = tag_error(&tag).to_string();
        assert!(error.starts_with("object: Invalid value: "), "{error}");
        assert!(error.len() < 1024, "{} bytes", error.len());
    }
}
