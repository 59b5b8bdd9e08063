//! Helpers that look at the objects inside a request as plain JSON, the form the validation
//! module works on. They borrow: no object is ever copied.

use serde_json::Value;

use super::decode::Request;

/// Whether `metadata.deletionTimestamp` is set: the object is being deleted and only waits for
/// its finalizers, so it must never be blocked.
pub(crate) fn is_being_deleted(object: &Value) -> bool {
    object
        .pointer("/metadata/deletionTimestamp")
        .is_some_and(|stamp| !stamp.is_null())
}

/// The name to report: the request's, or the object's own when the request has none.
pub(crate) fn name_of(request: &Request, object: &Value) -> String {
    if !request.name.is_empty() {
        return request.name.clone();
    }
    object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deletion_timestamp() {
        assert!(is_being_deleted(
            &json!({"metadata": {"deletionTimestamp": "2026-11-25T22:12:29Z"}})
        ));
        assert!(!is_being_deleted(
            &json!({"metadata": {"deletionTimestamp": null}})
        ));
        assert!(!is_being_deleted(&json!({"metadata": {}})));
        assert!(!is_being_deleted(&json!(null)));
    }
}
