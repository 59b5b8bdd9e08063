//! Lists to the objects they hold (pure): `kind: List`, `kind: <Kind>List` (as `kubectl get -o
//! yaml|json` and the API server return them) and top-level arrays.
//!
//! The items of a `<Kind>List` that carry no `kind` or `apiVersion` (the API server leaves them
//! out) inherit `<Kind>` and the list's `apiVersion`: a `BGPPeerList` of
//! `crd.projectcalico.org/v1` holds BGPPeers of `crd.projectcalico.org/v1`. The items of a plain
//! `List` carry their own.

use bgppeer_core::bgppeer::tags::{Segment, YamlTag};
use serde_json::Value;

use super::Document;

/// One parsed document, before its lists are opened.
pub(crate) struct Root {
    /// The 1-based position of the document in its source.
    pub(crate) index: usize,
    /// The line where it starts (YAML).
    pub(crate) line: Option<u64>,
    /// The document.
    pub(crate) value: Value,
    /// Its non-standard tags, paths from the document's root.
    pub(crate) tags: Vec<YamlTag>,
    /// The line of each element of the list it holds (a top-level array, or `items`), when
    /// known: the location of every list item.
    pub(crate) item_lines: Vec<u64>,
}

/// Whether `value` is a list document: a `kind` ending in `List` and an `items` array.
pub(crate) fn is_list(value: &Value) -> bool {
    value
        .get("kind")
        .and_then(Value::as_str)
        .is_some_and(|kind| kind.ends_with("List"))
        && value.get("items").is_some_and(Value::is_array)
}

/// Hands over the objects of one document: the document itself, or the items of its list.
pub(crate) fn expand(root: Root, each: &mut dyn FnMut(Document)) {
    let Root {
        index,
        line,
        mut value,
        tags,
        item_lines,
    } = root;
    let (items, inherited, tag_prefix) = if value.is_array() {
        (value.take(), None, None)
    } else if is_list(&value) {
        let inherited = inherited_type(&value);
        let items = value.get_mut("items").map(Value::take).unwrap_or_default();
        (items, inherited, Some("items"))
    } else {
        each(Document {
            index,
            item: None,
            line,
            value,
            tags,
        });
        return;
    };
    let Value::Array(items) = items else {
        return;
    };
    // The tags of each item, paths from the item; tags outside the items belong to no object.
    let mut item_tags: Vec<Vec<YamlTag>> = vec![Vec::new(); items.len()];
    for mut tag in tags {
        let mut rest = tag.path.as_slice();
        if let Some(prefix) = tag_prefix {
            match rest.split_first() {
                Some((Segment::Key(key), tail)) if key == prefix => rest = tail,
                _ => continue,
            }
        }
        if let Some((Segment::Index(i), tail)) = rest.split_first()
            && let Some(slot) = item_tags.get_mut(*i)
        {
            tag.path = tail.to_vec();
            slot.push(tag);
        }
    }
    for (j, (mut item, tags)) in items.into_iter().zip(item_tags).enumerate() {
        if let (Some((kind, api_version)), Some(object)) = (&inherited, item.as_object_mut()) {
            object
                .entry("kind")
                .or_insert_with(|| Value::from(kind.as_str()));
            if let Some(api_version) = api_version {
                object
                    .entry("apiVersion")
                    .or_insert_with(|| Value::from(api_version.as_str()));
            }
        }
        each(Document {
            index,
            item: Some(j + 1),
            line: item_lines.get(j).copied().or(line),
            value: item,
            tags,
        });
    }
}

/// The kind and apiVersion the items of a `<Kind>List` inherit: `None` for a plain `List`.
fn inherited_type(list: &Value) -> Option<(String, Option<String>)> {
    let kind = list.get("kind")?.as_str()?.strip_suffix("List")?;
    if kind.is_empty() {
        return None;
    }
    let api_version = list
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(str::to_owned);
    Some((kind.to_owned(), api_version))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bgppeer_core::bgppeer::tags::Tagged;
    use serde_json::json;

    fn objects(value: Value, tags: Vec<YamlTag>, item_lines: Vec<u64>) -> Vec<Document> {
        let mut out = Vec::new();
        expand(
            Root {
                index: 3,
                line: Some(10),
                value,
                tags,
                item_lines,
            },
            &mut |doc| out.push(doc),
        );
        out
    }

    fn tag(path: Vec<Segment>) -> YamlTag {
        YamlTag {
            path,
            tag: "!t".to_owned(),
            line: Some(1),
            tagged: Tagged::Collection,
        }
    }

    #[test]
    fn a_bgppeer_list_lends_its_kind_and_api_version() {
        let list = json!({"apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeerList",
            "metadata": {"resourceVersion": "1"},
            "items": [{"metadata": {"name": "a"}},
                      {"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer", "metadata": {"name": "b"}}]});
        let docs = objects(list, Vec::new(), vec![12, 20]);
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].value["kind"], "BGPPeer");
        assert_eq!(docs[0].value["apiVersion"], "crd.projectcalico.org/v1");
        assert_eq!(docs[1].value["apiVersion"], "projectcalico.org/v3");
        assert_eq!(
            (docs[0].index, docs[0].item, docs[0].line),
            (3, Some(1), Some(12))
        );
        assert_eq!(docs[1].line, Some(20));
    }

    #[test]
    fn a_plain_list_lends_nothing() {
        let docs = objects(
            json!({"kind": "List", "items": [{"metadata": {}}]}),
            Vec::new(),
            Vec::new(),
        );
        assert_eq!(docs[0].value, json!({"metadata": {}}));
        assert_eq!(docs[0].line, Some(10));
    }

    #[test]
    fn arrays_are_opened_and_tags_follow_their_item() {
        let tags = vec![
            tag(vec![Segment::Index(1), Segment::Key("spec".to_owned())]),
            tag(vec![Segment::Index(9)]),
        ];
        let docs = objects(json!([{"kind": "A"}, {"kind": "B"}]), tags, Vec::new());
        assert_eq!(docs.len(), 2);
        assert!(docs[0].tags.is_empty());
        assert_eq!(docs[1].tags[0].path, vec![Segment::Key("spec".to_owned())]);
        let tags = vec![
            tag(vec![
                Segment::Key("items".to_owned()),
                Segment::Index(0),
                Segment::Key("x".to_owned()),
            ]),
            tag(vec![Segment::Key("metadata".to_owned())]),
        ];
        let docs = objects(json!({"kind": "List", "items": [{}]}), tags, Vec::new());
        assert_eq!(docs[0].tags.len(), 1);
        assert_eq!(docs[0].tags[0].path, vec![Segment::Key("x".to_owned())]);
    }

    #[test]
    fn not_a_list() {
        let docs = objects(
            json!({"kind": "List", "items": 7}),
            vec![tag(vec![])],
            Vec::new(),
        );
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].item, None);
        assert_eq!(docs[0].tags.len(), 1);
    }
}
