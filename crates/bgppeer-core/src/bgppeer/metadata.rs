//! `metadata` rules (R2.1–R2.3): the name, label keys and values, annotation keys and total size.
//!
//! The object may be partial, as in an admission request for `generateName`: the mutating webhook
//! sees the object before the API server picks the name. So a missing `name` is an error only
//! when `generateName` is missing too (the API server's own rule: `name or generateName is
//! required`); a name that is present is checked in full.

use std::borrow::Cow;

use serde_json::{Map, Value};

use super::names;
use super::peer::Field;
use crate::field::{ErrorList, FieldError, Path};

/// The largest total size of all annotation keys and values, in bytes.
pub(crate) const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;

/// Validates `metadata` (`None` when the object has none), appending errors and warnings, and
/// returns the name: `Unset` when there is none (a `generateName` creation, or an error), `Invalid`
/// when it is present but not a valid name.
pub(crate) fn validate(
    metadata: Option<&Value>,
    errors: &mut ErrorList,
    warnings: &mut Vec<String>,
) -> Field<String> {
    let path = Path::new("metadata");
    let map = match metadata {
        None | Some(Value::Null) => {
            errors.push(FieldError::required(
                path.child("name"),
                "name or generateName is required",
            ));
            return Field::Unset;
        }
        Some(Value::Object(map)) => map,
        Some(other) => {
            errors.push(FieldError::type_invalid(path, other, "an object"));
            return Field::Invalid;
        }
    };
    let name = validate_name(map, &path, errors);
    validate_labels(map.get("labels"), &path.child("labels"), errors);
    validate_annotations(map.get("annotations"), &path.child("annotations"), errors);
    if let Some(Value::String(namespace)) = map.get("namespace")
        && !namespace.is_empty()
    {
        warnings.push(
            "metadata.namespace is ignored: BGPPeer is cluster-scoped (remove the namespace)"
                .to_owned(),
        );
    }
    name
}

/// R2.1: a DNS-1123 subdomain of at most 253 bytes; `name or generateName is required`.
fn validate_name(map: &Map<String, Value>, path: &Path, errors: &mut ErrorList) -> Field<String> {
    let name_path = path.child("name");
    match map.get("name") {
        Some(Value::String(name)) if !name.is_empty() => {
            let problems = names::dns1123_subdomain(name);
            if problems.is_empty() {
                return Field::Valid(name.clone());
            }
            for msg in problems {
                errors.push(FieldError::invalid(name_path.clone(), name.as_str(), msg));
            }
            Field::Invalid
        }
        None | Some(Value::Null) | Some(Value::String(_)) => {
            let has_generate_name =
                matches!(map.get("generateName"), Some(Value::String(g)) if !g.is_empty());
            if !has_generate_name {
                errors.push(FieldError::required(
                    name_path,
                    "name or generateName is required",
                ));
            }
            Field::Unset
        }
        Some(other) => {
            errors.push(FieldError::type_invalid(name_path, other, "a string"));
            Field::Invalid
        }
    }
}

/// R2.2: keys are qualified names, values are label values. Errors are reported at
/// `metadata.labels`, as Kubernetes does.
fn validate_labels(labels: Option<&Value>, path: &Path, errors: &mut ErrorList) {
    let Some(map) = object_or_error(labels, path, errors) else {
        return;
    };
    for (key, value) in map {
        for msg in names::qualified_name(key) {
            errors.push_with(path, || {
                FieldError::invalid(path.clone(), key.as_str(), msg)
            });
        }
        match value {
            Value::String(text) => {
                for msg in names::label_value(text) {
                    errors.push_with(path, || {
                        FieldError::invalid(path.clone(), text.as_str(), msg)
                    });
                }
            }
            other => errors.push_with(path, || {
                FieldError::type_invalid(path.key(key), other, "a string")
            }),
        }
    }
}

/// R2.3: lower-cased keys are qualified names, and keys plus values total at most 256 KiB.
fn validate_annotations(annotations: Option<&Value>, path: &Path, errors: &mut ErrorList) {
    let Some(map) = object_or_error(annotations, path, errors) else {
        return;
    };
    let mut total = 0usize;
    for (key, value) in map {
        let lowered: Cow<'_, str> = if key.chars().any(char::is_uppercase) {
            Cow::Owned(key.to_lowercase())
        } else {
            Cow::Borrowed(key)
        };
        for msg in names::qualified_name(&lowered) {
            errors.push_with(path, || {
                FieldError::invalid(path.clone(), key.as_str(), msg)
            });
        }
        total = total.saturating_add(key.len());
        match value {
            Value::String(text) => total = total.saturating_add(text.len()),
            other => errors.push_with(path, || {
                FieldError::type_invalid(path.key(key), other, "a string")
            }),
        }
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errors.push(FieldError::too_long(
            path.clone(),
            total,
            TOTAL_ANNOTATION_SIZE_LIMIT,
        ));
    }
}

/// The map of an optional object field; a wrong type is reported and gives `None`.
fn object_or_error<'a>(
    value: Option<&'a Value>,
    path: &Path,
    errors: &mut ErrorList,
) -> Option<&'a Map<String, Value>> {
    match value {
        None | Some(Value::Null) => None,
        Some(Value::Object(map)) => Some(map),
        Some(other) => {
            errors.push(FieldError::type_invalid(path.clone(), other, "an object"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(metadata: Value) -> (ErrorList, Vec<String>) {
        let mut errors = ErrorList::new();
        let mut warnings = Vec::new();
        validate(Some(&metadata), &mut errors, &mut warnings);
        (errors, warnings)
    }

    #[test]
    fn names() {
        assert!(check(json!({"name": "bgppeer-name-123abc"})).0.is_empty());
        assert!(check(json!({"name": "x".repeat(253)})).0.is_empty());
        let (errors, _) = check(json!({"name": "test$set"}));
        assert_eq!(errors.len(), 1);
        assert!(errors.joined().starts_with(
            "metadata.name: Invalid value: \"test$set\": a lowercase RFC 1123 subdomain"
        ));
        let (errors, _) = check(json!({"name": "X".repeat(254)}));
        assert_eq!(
            errors.len(),
            2,
            "too long and wrong characters are both reported"
        );
        let (errors, _) = check(json!({"name": 5}));
        assert_eq!(
            errors.joined(),
            "metadata.name: Invalid value: 5: must be a string, not a number"
        );
    }

    #[test]
    fn generate_name_stands_in_for_a_missing_name() {
        assert!(check(json!({"generateName": "peer-"})).0.is_empty());
        assert_eq!(
            check(json!({})).0.joined(),
            "metadata.name: Required value: name or generateName is required"
        );
        assert_eq!(check(json!({"name": ""})).0.len(), 1);
        let mut errors = ErrorList::new();
        validate(None, &mut errors, &mut Vec::new());
        assert_eq!(errors.len(), 1);
    }

    #[test]
    fn labels() {
        let (errors, _) = check(json!({"name": "a", "labels": {"ProjectCalico.org/label": "v"}}));
        assert_eq!(errors.len(), 1);
        assert!(errors.joined().starts_with(
            "metadata.labels: Invalid value: \"ProjectCalico.org/label\": prefix part a lowercase"
        ));
        assert!(
            check(json!({"name": "a", "labels": {"projectcalico.org/Label": "v"}}))
                .0
                .is_empty()
        );
        let (errors, _) = check(json!({"name": "a", "labels": {"k": "x".repeat(64)}}));
        assert!(
            errors
                .joined()
                .ends_with("must be no more than 63 characters")
        );
        let (errors, _) = check(json!({"name": "a", "labels": {"k": 1}}));
        assert_eq!(
            errors.joined(),
            "metadata.labels[k]: Invalid value: 1: must be a string, not a number"
        );
        assert_eq!(check(json!({"name": "a", "labels": []})).0.len(), 1);
    }

    #[test]
    fn annotations() {
        assert!(
            check(json!({"name": "a", "annotations": {"ProjectCalico.org/Label": "v"}}))
                .0
                .is_empty()
        );
        assert_eq!(
            check(json!({"name": "a", "annotations": {"projectcalico.org$label": "v"}}))
                .0
                .len(),
            1
        );
        let fits = json!({"name": "a", "annotations": {"key": "x".repeat(262_141)}});
        assert!(check(fits).0.is_empty());
        let (errors, _) = check(json!({"name": "a", "annotations": {"key": "x".repeat(262_142)}}));
        assert_eq!(
            errors.joined(),
            "metadata.annotations: Too long: may not be more than 262144 bytes (it is 262145)"
        );
    }

    #[test]
    fn namespace_warns() {
        let (errors, warnings) = check(json!({"name": "a", "namespace": "default"}));
        assert!(errors.is_empty());
        assert_eq!(warnings.len(), 1);
    }
}
