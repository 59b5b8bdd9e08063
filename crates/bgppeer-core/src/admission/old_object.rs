//! The stored object of an UPDATE, read only as far as ratcheting needs it.
//!
//! An UPDATE review carries two objects of up to 3 MiB each. Parsed as JSON trees, a 3 MiB list
//! of short names takes about 45 MiB; holding both trees would double what the worst request
//! costs. Yet ratcheting (see `validate::ratchet`) only asks two things of the old object: is
//! the value at a path unchanged, and which errors did the old object have in the fields whose
//! value changed. So the old object is first compared with the new one, field by field of its
//! `spec`, straight from its JSON text ([`EqualTo`] compares without building anything), and
//! only then parsed, leaving out the `spec` fields that are equal to the new object's and whose
//! errors depend on their own value alone (every field outside
//! [`CROSS_FIELD_NAMES`](crate::bgppeer::rules::CROSS_FIELD_NAMES)). A label-only update of a
//! peer with a huge list therefore holds one copy of the list, not two.
//!
//! Pure: no I/O.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::bgppeer::rules::CROSS_FIELD_NAMES;

/// The stored object of an UPDATE: everything but the `spec` fields that equal the new
/// object's and decide their own errors (see the module documentation).
#[derive(Clone, Debug, PartialEq)]
pub struct OldObject {
    /// The old object without the fields named in `same_as_new` (in the form `decode` gives
    /// every object).
    partial: Value,
    /// The `spec` fields left out of `partial` because they equal the new object's.
    same_as_new: BTreeSet<String>,
}

impl OldObject {
    /// Reads the stored object `raw`, leaving out what equals `new` (the object of the same
    /// request); `shape` gives the parsed part the form every decoded object has.
    pub(crate) fn read(
        raw: &RawValue,
        new: Option<&Value>,
        shape: impl FnOnce(Value) -> Result<Value, serde_json::Error>,
    ) -> Result<Self, serde_json::Error> {
        let new_spec = new
            .and_then(|new| new.get("spec"))
            .and_then(Value::as_object);
        // The top level and `spec` as slices of the text. A repeated key keeps its last value,
        // as parsing does; anything that is not an object leaves nothing out.
        let fields = new_spec.and_then(|_| fields_of(raw));
        let spec = fields
            .as_ref()
            .and_then(|fields| fields_of(fields.get("spec")?));
        let same_as_new: BTreeSet<String> = match (new_spec, &spec) {
            (Some(new_spec), Some(spec)) => spec
                .iter()
                .filter(|(field, text)| {
                    !CROSS_FIELD_NAMES.contains(&field.as_str())
                        && new_spec
                            .get(field.as_str())
                            .is_some_and(|new| equal(new, text))
                })
                .map(|(field, _)| field.clone())
                .collect(),
            _ => BTreeSet::new(),
        };
        let partial = match (fields, spec) {
            (Some(fields), Some(spec)) if !same_as_new.is_empty() => {
                let mut object = Map::new();
                for (key, text) in fields {
                    let value = if key == "spec" {
                        let mut kept = Map::new();
                        for (field, text) in &spec {
                            if !same_as_new.contains(field) {
                                kept.insert(field.clone(), serde_json::from_str(text.get())?);
                            }
                        }
                        Value::Object(kept)
                    } else {
                        serde_json::from_str(text.get())?
                    };
                    object.insert(key, value);
                }
                Value::Object(object)
            }
            _ => serde_json::from_str(raw.get())?,
        };
        Ok(Self {
            partial: shape(partial)?,
            same_as_new,
        })
    }

    #[cfg(test)]
    /// The old object whole (nothing left out): for callers that have it as a tree already.
    pub(crate) fn whole(object: Value) -> Self {
        Self {
            partial: object,
            same_as_new: BTreeSet::new(),
        }
    }

    /// Whether the old object is being deleted (`metadata.deletionTimestamp` set).
    pub(crate) fn is_being_deleted(&self) -> bool {
        super::object::is_being_deleted(&self.partial)
    }

    /// The old object without the `spec` fields that equal the new object's: its errors are
    /// the whole old object's errors in every other field.
    pub(crate) fn partial(&self) -> &Value {
        &self.partial
    }

    /// Whether `new` (the object this one was read against) has the same value as the old
    /// object at `pointer` (a JSON Pointer; both missing counts as the same).
    pub(crate) fn unchanged_at(&self, new: &Value, pointer: &str) -> bool {
        let mut tokens = pointer.split('/').skip(1);
        match (tokens.next(), tokens.next()) {
            (Some("spec"), Some(field)) if self.is_same_as_new(field) => true,
            (Some("spec"), Some(_)) => new.pointer(pointer) == self.partial.pointer(pointer),
            (Some("spec"), None) => self.same_spec(new.get("spec"), self.partial.get("spec")),
            (None, _) => self.same_object(new, &self.partial),
            _ => new.pointer(pointer) == self.partial.pointer(pointer),
        }
    }

    fn is_same_as_new(&self, field: &str) -> bool {
        self.same_as_new.contains(field)
    }

    fn same_object(&self, new: &Value, partial: &Value) -> bool {
        match (new.as_object(), partial.as_object()) {
            (Some(new), Some(partial)) => {
                new.len() == partial.len()
                    && new.iter().all(|(key, value)| match key.as_str() {
                        "spec" => self.same_spec(Some(value), partial.get("spec")),
                        _ => partial.get(key) == Some(value),
                    })
            }
            _ => new == partial,
        }
    }

    /// Whether the new `spec` equals the old one, whose `partial` form lacks the fields known
    /// to be equal.
    fn same_spec(&self, new: Option<&Value>, partial: Option<&Value>) -> bool {
        if self.same_as_new.is_empty() {
            return new == partial;
        }
        let (Some(Value::Object(new)), Some(Value::Object(partial))) = (new, partial) else {
            // Fields were left out only of an object spec that the new object also has.
            return false;
        };
        partial.keys().all(|key| new.contains_key(key))
            && new
                .iter()
                .all(|(key, value)| self.is_same_as_new(key) || partial.get(key) == Some(value))
    }
}

/// The members of a JSON object as slices of its text, or `None` when it is not an object.
fn fields_of(raw: &RawValue) -> Option<BTreeMap<String, &RawValue>> {
    serde_json::from_str(raw.get()).ok()
}

/// Whether `text` parses to a value equal to `value` (see [`EqualTo`]).
fn equal(value: &Value, text: &RawValue) -> bool {
    let mut reader = serde_json::Deserializer::from_str(text.get());
    EqualTo(value).deserialize(&mut reader).unwrap_or(false)
}

/// Compares JSON as it is read with a [`Value`], building nothing: `true` exactly when parsing
/// the input would give a value `==` to it (numbers compare as `serde_json` does: `1` is not
/// `1.0`). Objects whose input repeats a key compare unequal (the conservative answer).
pub(crate) struct EqualTo<'a>(pub &'a Value);

impl<'de> DeserializeSeed<'de> for EqualTo<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<bool, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for EqualTo<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<bool, E> {
        Ok(self.0.as_bool() == Some(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<bool, E> {
        Ok(matches!(self.0, Value::Number(n) if n.as_i64() == Some(value) && !n.is_f64()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<bool, E> {
        Ok(matches!(self.0, Value::Number(n) if n.as_u64() == Some(value)))
    }

    fn visit_f64<E>(self, value: f64) -> Result<bool, E> {
        Ok(matches!(self.0, Value::Number(n) if n.is_f64() && n.as_f64() == Some(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<bool, E> {
        Ok(self.0.as_str() == Some(value))
    }

    fn visit_unit<E>(self) -> Result<bool, E> {
        Ok(self.0.is_null())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<bool, A::Error> {
        let expected = self.0.as_array();
        let mut equal = expected.is_some();
        let mut index = 0usize;
        loop {
            let item = expected
                .and_then(|items| items.get(index))
                .filter(|_| equal);
            let more = match item {
                Some(item) => match seq.next_element_seed(EqualTo(item))? {
                    Some(same) => {
                        equal &= same;
                        true
                    }
                    None => false,
                },
                None => match seq.next_element::<IgnoredAny>()? {
                    // More items than expected (or already unequal): read the rest.
                    Some(_) => {
                        equal = false;
                        true
                    }
                    None => false,
                },
            };
            if !more {
                break;
            }
            index = index.saturating_add(1);
        }
        Ok(equal && expected.is_some_and(|items| items.len() == index))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<bool, A::Error> {
        let expected = self.0.as_object();
        let mut equal = expected.is_some();
        let mut keys = 0usize;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            keys = keys.saturating_add(1);
            match expected.and_then(|object| object.get(key.as_ref())) {
                Some(value) if equal => equal &= map.next_value_seed(EqualTo(value))?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    equal = false;
                }
            }
        }
        Ok(equal && expected.is_some_and(|object| object.len() == keys))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn equal(value: &Value, text: &str) -> bool {
        let mut reader = serde_json::Deserializer::from_str(text);
        let same = EqualTo(value).deserialize(&mut reader).unwrap();
        reader.end().unwrap();
        same
    }

    #[test]
    fn compares_like_parsing_then_eq() {
        let values = [
            json!(null),
            json!(true),
            json!(1),
            json!(-1),
            json!(1.0),
            json!(18446744073709551615u64),
            json!("a"),
            json!("a\"b"),
            json!([]),
            json!([1, 2]),
            json!([1, 2, 3]),
            json!([2, 1]),
            json!({}),
            json!({"a": 1}),
            json!({"a": 1, "b": [true, {"c": null}]}),
            json!({"b": [true, {"c": null}], "a": 1}),
            json!({"a": 2}),
            json!({"a": 1, "b": 2}),
        ];
        for value in &values {
            for other in &values {
                let text = other.to_string();
                assert_eq!(equal(value, &text), value == other, "{value} vs {text}");
            }
        }
        // A repeated key is read as unequal, whatever the values.
        assert!(!equal(&json!({"a": 1}), r#"{"a": 1, "a": 1}"#));
    }

    fn json_value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-3i64..3).prop_map(Value::from),
            prop_oneof![Just(1.0f64), Just(-0.5), Just(2.0)].prop_map(Value::from),
            "[ab\"]{0,2}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map("[abc]", inner, 0..4)
                    .prop_map(|map| Value::Object(map.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn equal_to_agrees_with_parsing_then_eq(a in json_value(), b in json_value()) {
            prop_assert_eq!(equal(&a, &b.to_string()), a == b);
            prop_assert!(equal(&a, &a.to_string()));
        }

        #[test]
        fn reading_against_a_new_object_ratchets_like_reading_it_whole(
            old_spec in prop::collection::btree_map(
                prop_oneof![Just("filters"), Just("peerIP"), Just("ttlSecurity"), Just("x")],
                json_value(), 0..4),
            changes in prop::collection::btree_map(
                prop_oneof![Just("filters"), Just("peerIP"), Just("ttlSecurity"), Just("y")],
                json_value(), 0..3),
        ) {
            let old = json!({"metadata": {"name": "p"}, "spec": old_spec});
            let mut new = old.clone();
            for (key, value) in changes {
                new["spec"][key] = value;
            }
            let partial = read(&old, &new);
            let whole = OldObject::whole(old.clone());
            for pointer in ["", "/metadata", "/spec", "/spec/filters", "/spec/filters/0",
                            "/spec/peerIP", "/spec/ttlSecurity", "/spec/x", "/spec/y"] {
                prop_assert_eq!(partial.unchanged_at(&new, pointer),
                                whole.unchanged_at(&new, pointer), "{}", pointer);
            }
        }
    }

    fn read(old: &Value, new: &Value) -> OldObject {
        let raw = serde_json::value::to_raw_value(old).unwrap();
        OldObject::read(&raw, Some(new), Ok).unwrap()
    }

    #[test]
    fn leaves_out_equal_fields_outside_the_cross_field_rules() {
        let old = json!({"metadata": {"name": "p"},
            "spec": {"peerIP": "10.0.0.1:0", "filters": ["a", "b"], "ttlSecurity": 1}});
        let mut new = old.clone();
        new["spec"]["sourceAddress"] = json!("UseNodeIP");
        new["spec"]["ttlSecurity"] = json!(2);
        let read = read(&old, &new);
        assert_eq!(read.same_as_new, BTreeSet::from(["filters".to_owned()]));
        assert_eq!(
            read.partial(),
            &json!({"metadata": {"name": "p"}, "spec": {"peerIP": "10.0.0.1:0", "ttlSecurity": 1}})
        );
        assert!(read.unchanged_at(&new, "/spec/filters"));
        assert!(read.unchanged_at(&new, "/spec/filters/1"));
        assert!(read.unchanged_at(&new, "/spec/peerIP"));
        assert!(read.unchanged_at(&new, "/metadata"));
        assert!(!read.unchanged_at(&new, "/spec/ttlSecurity"));
        assert!(!read.unchanged_at(&new, "/spec/sourceAddress"));
        assert!(!read.unchanged_at(&new, "/spec"));
        assert!(!read.unchanged_at(&new, ""));

        // Equal apart from the fields left out: the whole spec and object are unchanged.
        let mut same = old.clone();
        same["metadata"]["labels"] = json!({"a": "b"});
        let read_same = super::tests::read(&old, &same);
        assert_eq!(
            read_same.same_as_new,
            BTreeSet::from(["filters".to_owned(), "ttlSecurity".to_owned()])
        );
        assert!(read_same.unchanged_at(&same, "/spec"));
        assert!(!read_same.unchanged_at(&same, ""));
        assert!(!read_same.unchanged_at(&same, "/metadata"));
        let read_identical = super::tests::read(&old, &old);
        assert!(read_identical.unchanged_at(&old, ""));
    }

    #[test]
    fn objects_that_are_not_shaped_like_peers_are_read_whole() {
        for old in [
            json!("text"),
            json!({"spec": [1]}),
            json!({"spec": {"filters": 1}}),
        ] {
            let new = json!({"spec": {"filters": 2}});
            let read = read(&old, &new);
            assert_eq!(read.partial(), &old);
            assert!(read.same_as_new.is_empty());
        }
    }
}
