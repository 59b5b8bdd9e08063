//! Defaults and normalisations, as RFC 6902 operations for the mutating webhook.
//!
//! The facts come from the typed [`Peer`] that validation parsed (which AS numbers were written
//! as strings, and their value); the operations address the raw JSON, so that content this crate
//! does not model is never touched, and an operation is emitted only where the object actually
//! changes:
//!
//! - `spec.sourceAddress` absent, `null` or `""` becomes `UseNodeIP` (Calico's runtime default,
//!   written down so that what is stored says what happens);
//! - `spec.asNumber` / `spec.localASNumber` written as a string (`"1.10"`, `"64512"`) becomes the
//!   integer. This is what makes dotted notation usable on `crd.projectcalico.org/v1`, whose
//!   schema (`type: integer`) would otherwise reject the string; the mutating webhook runs before
//!   the schema check. A string that does not convert is left alone for validation to report.

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, PatchOperation, ReplaceOperation};
use serde_json::{Map, Value};

use super::model::SourceAddress;
use super::peer::Peer;

/// The operations that default and normalise `object` (the whole BGPPeer), whose validation
/// gave `peer`.
pub(crate) fn operations(object: &Value, peer: &Peer) -> Vec<PatchOperation> {
    let Some(object) = object.as_object() else {
        return Vec::new();
    };
    let default_source = Value::from(SourceAddress::UseNodeIp.as_str());
    match object.get("spec") {
        None => vec![add(
            &["spec"],
            Value::Object(source_address_only(default_source)),
        )],
        Some(Value::Null) => vec![replace(
            &["spec"],
            Value::Object(source_address_only(default_source)),
        )],
        Some(Value::Object(spec)) => spec_operations(spec, peer, default_source),
        Some(_) => Vec::new(),
    }
}

/// `{"sourceAddress": "UseNodeIP"}`: the spec added when there is none.
fn source_address_only(default_source: Value) -> Map<String, Value> {
    let mut spec = Map::new();
    spec.insert("sourceAddress".to_owned(), default_source);
    spec
}

/// The operations inside an existing spec object.
fn spec_operations(
    spec: &Map<String, Value>,
    peer: &Peer,
    default_source: Value,
) -> Vec<PatchOperation> {
    let mut ops = Vec::new();
    for (field, number) in &peer.text_as_numbers {
        ops.push(replace(&["spec", field.name()], Value::from(*number)));
    }
    match spec.get("sourceAddress") {
        None => ops.push(add(&["spec", "sourceAddress"], default_source)),
        Some(Value::Null) => ops.push(replace(&["spec", "sourceAddress"], default_source)),
        Some(Value::String(text)) if text.is_empty() => {
            ops.push(replace(&["spec", "sourceAddress"], default_source));
        }
        Some(_) => {}
    }
    ops
}

/// An `add` operation at the path made of `tokens` (escaped as RFC 6901 requires).
fn add(tokens: &[&str], value: Value) -> PatchOperation {
    PatchOperation::Add(AddOperation {
        path: PointerBuf::from_tokens(tokens.iter().copied()),
        value,
    })
}

/// A `replace` operation at the path made of `tokens`.
fn replace(tokens: &[&str], value: Value) -> PatchOperation {
    PatchOperation::Replace(ReplaceOperation {
        path: PointerBuf::from_tokens(tokens.iter().copied()),
        value,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ops_of(object: &Value) -> Vec<PatchOperation> {
        crate::bgppeer::defaults(crate::bgppeer::ApiGroup::V3, object)
    }

    fn patched(object: Value) -> (Value, Value) {
        let ops = ops_of(&object);
        let mut doc = object;
        json_patch::patch(&mut doc, &ops).unwrap();
        (serde_json::to_value(&ops).unwrap(), doc)
    }

    #[test]
    fn adds_source_address() {
        let (ops, doc) = patched(json!({"spec": {"peerIP": "10.0.0.1", "asNumber": 1}}));
        assert_eq!(
            ops,
            json!([{"op": "add", "path": "/spec/sourceAddress", "value": "UseNodeIP"}])
        );
        assert_eq!(doc["spec"]["sourceAddress"], "UseNodeIP");
    }

    #[test]
    fn replaces_empty_source_address() {
        let (ops, _) = patched(json!({"spec": {"sourceAddress": ""}}));
        assert_eq!(
            ops,
            json!([{"op": "replace", "path": "/spec/sourceAddress", "value": "UseNodeIP"}])
        );
        let (ops, _) = patched(json!({"spec": {"sourceAddress": null}}));
        assert_eq!(ops[0]["op"], "replace");
    }

    #[test]
    fn leaves_set_source_address_alone() {
        assert!(ops_of(&json!({"spec": {"sourceAddress": "None"}})).is_empty());
        assert!(ops_of(&json!({"spec": {"sourceAddress": "Bogus"}})).is_empty());
        assert!(ops_of(&json!({"spec": {"sourceAddress": 5}})).is_empty());
    }

    #[test]
    fn adds_a_missing_spec() {
        let (ops, doc) = patched(json!({"metadata": {"name": "a"}}));
        assert_eq!(
            ops,
            json!([{"op": "add", "path": "/spec", "value": {"sourceAddress": "UseNodeIP"}}])
        );
        assert_eq!(doc["spec"], json!({"sourceAddress": "UseNodeIP"}));
        let (_, doc) = patched(json!({"spec": null}));
        assert_eq!(doc["spec"], json!({"sourceAddress": "UseNodeIP"}));
    }

    #[test]
    fn converts_string_as_numbers() {
        let (ops, doc) = patched(json!({"spec": {
            "asNumber": "1.10", "localASNumber": "64512", "sourceAddress": "None"
        }}));
        assert_eq!(
            ops,
            json!([
                {"op": "replace", "path": "/spec/asNumber", "value": 65546},
                {"op": "replace", "path": "/spec/localASNumber", "value": 64512}
            ])
        );
        assert_eq!(doc["spec"]["asNumber"], 65546);
    }

    #[test]
    fn leaves_bad_or_integer_as_numbers_alone() {
        let spec =
            json!({"spec": {"asNumber": "1.1.1", "localASNumber": 7, "sourceAddress": "None"}});
        assert!(ops_of(&spec).is_empty());
    }

    #[test]
    fn ignores_non_objects() {
        assert!(ops_of(&json!("x")).is_empty());
        assert!(ops_of(&json!({"spec": []})).is_empty());
    }
}
