//! Cross-field rules (R4.19–R4.22): which fields may be combined.
//!
//! Calico states most of these twice, in Go (`validateBGPPeerSpec`) and as CEL rules on the CRD;
//! each violated rule is reported once, with the CEL message and type (Forbidden, or Invalid for
//! the missing `asNumber`), at the path of the field that should change. "Set" follows CEL's
//! `has(x) && size(x) > 0`: a present value of the wrong type counts as set (its own error is
//! reported separately).

use serde_json::{Map, Value};

use super::asnumber;
use super::ip;
use super::spec::CheckedSpec;
use crate::field::{ErrorList, FieldError, Path};

/// Every `spec` field a cross-field rule reads or reports at: the errors of any other field
/// depend on that field's value alone (UPDATE ratcheting relies on it).
pub(crate) const CROSS_FIELD_NAMES: &[&str] = &[
    "node",
    "nodeSelector",
    "peerIP",
    "peerSelector",
    "asNumber",
    "localWorkloadSelector",
    "reachableBy",
    "keepOriginalNextHop",
    "nextHopMode",
];

/// Appends the errors of every violated cross-field rule, in Calico's CEL order.
pub(crate) fn check(
    raw: &Map<String, Value>,
    checked: &CheckedSpec,
    path: &Path,
    errors: &mut ErrorList,
) {
    let set = |name: &str| is_set(raw.get(name));
    let as_number_set = as_number_is_set(raw.get("asNumber"));
    let local_workloads = set("localWorkloadSelector");

    if set("node") && set("nodeSelector") {
        errors.push(FieldError::forbidden(
            path.child("node"),
            "node and nodeSelector cannot both be set",
        ));
    }
    if set("peerIP") && set("peerSelector") {
        errors.push(FieldError::forbidden(
            path.child("peerIP"),
            "peerIP and peerSelector cannot both be set",
        ));
    }
    if set("peerSelector") && as_number_set {
        errors.push(FieldError::forbidden(
            path.child("asNumber"),
            "asNumber must be empty when peerSelector is set",
        ));
    }
    if local_workloads && set("peerIP") {
        errors.push(FieldError::forbidden(
            path.child("peerIP"),
            "peerIP must be empty when localWorkloadSelector is set",
        ));
    }
    if local_workloads && set("peerSelector") {
        errors.push(FieldError::forbidden(
            path.child("peerSelector"),
            "peerSelector must be empty when localWorkloadSelector is set",
        ));
    }
    if local_workloads && !as_number_set {
        let shown = raw.get("asNumber").cloned().unwrap_or(Value::from(0));
        let shown = if shown.is_null() {
            Value::from(0)
        } else {
            shown
        };
        errors.push(FieldError::invalid(
            path.child("asNumber"),
            shown,
            "asNumber is required when localWorkloadSelector is set",
        ));
    }
    if set("reachableBy") && !set("peerIP") {
        errors.push(FieldError::forbidden(
            path.child("reachableBy"),
            "reachableBy must be empty when peerIP is empty",
        ));
    }
    // Calico compares the families whenever reachableBy is set; a peerIP whose only fault is its
    // port (already an error of its own) still has a family to compare.
    let peer_host = checked.spec.peer_ip.get().map(|peer| peer.ip).or_else(|| {
        raw.get("peerIP")
            .and_then(Value::as_str)
            .and_then(ip::peer_ip_host)
    });
    if let (Some(peer), Some(&gateway)) = (peer_host, checked.spec.reachable_by.get()) {
        let (peer_family, gateway_family) = (ip::family(peer), ip::family(gateway));
        if peer_family != gateway_family {
            errors.push(FieldError::invalid(
                path.child("reachableBy"),
                raw.get("reachableBy").cloned().unwrap_or(Value::Null),
                format!(
                    "must be the same address family as peerIP ({}), not {}",
                    peer_family.name(),
                    gateway_family.name()
                ),
            ));
        }
    }
    if matches!(raw.get("keepOriginalNextHop"), Some(Value::Bool(true))) && set("nextHopMode") {
        errors.push(FieldError::forbidden(
            path.child("keepOriginalNextHop"),
            "keepOriginalNextHop and nextHopMode cannot both be set; keepOriginalNextHop is \
             deprecated, use nextHopMode instead",
        ));
    }
}

/// CEL's `has(x) && size(x) > 0` for string fields; any other present, non-null value is set.
fn is_set(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(Value::String(text)) => !text.is_empty(),
        Some(_) => true,
    }
}

/// `asNumber` is set unless absent, null or zero (in any valid spelling, such as `"0.0"`); an
/// invalid value counts as set.
pub(crate) fn as_number_is_set(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => false,
        Some(value) => asnumber::from_json(value).map_or(true, |form| form.value() != 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn set_follows_cel_size() {
        assert!(!is_set(None));
        assert!(!is_set(Some(&Value::Null)));
        assert!(!is_set(Some(&json!(""))));
        assert!(is_set(Some(&json!("x"))));
        assert!(is_set(Some(&json!(5))), "a wrong type still counts as set");
    }

    #[test]
    fn as_number_zero_in_any_spelling_is_unset() {
        assert!(!as_number_is_set(None));
        assert!(!as_number_is_set(Some(&json!(0))));
        assert!(!as_number_is_set(Some(&json!("0"))));
        assert!(!as_number_is_set(Some(&json!("0.0"))));
        assert!(as_number_is_set(Some(&json!(1))));
        assert!(as_number_is_set(Some(&json!("0.1"))));
        assert!(
            as_number_is_set(Some(&json!(-1))),
            "an invalid value is set"
        );
    }

    fn run(spec: Value) -> Vec<String> {
        let raw = spec.as_object().unwrap().clone();
        let mut errors = ErrorList::new();
        let checked = super::super::spec::check(
            super::super::ApiGroup::V3,
            &raw,
            &Path::new("spec"),
            &mut errors,
        );
        let mut rule_errors = ErrorList::new();
        check(&raw, &checked, &Path::new("spec"), &mut rule_errors);
        rule_errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn family_mismatch_needs_both_addresses() {
        let mismatch = [
            r#"spec.reachableBy: Invalid value: "2001:db8::1": must be the same address family as peerIP (IPv4), not IPv6"#,
        ];
        assert_eq!(
            run(json!({"peerIP": "10.0.0.1", "reachableBy": "2001:db8::1"})),
            mismatch
        );
        // A bad port is the peerIP's own error; the family is still known and still compared.
        assert_eq!(
            run(json!({"peerIP": "10.0.0.1:0", "reachableBy": "2001:db8::1"})),
            mismatch
        );
        assert!(run(json!({"peerIP": "[::1]:0", "reachableBy": "::2"})).is_empty());
        // No address at all: nothing to compare (each bad field reports itself).
        assert!(run(json!({"peerIP": "10.0.0.1:x", "reachableBy": "2001:db8::1"})).is_empty());
        assert!(run(json!({"peerIP": "10.0.0.1", "reachableBy": "bad"})).is_empty());
    }

    #[test]
    fn reachable_by_needs_peer_ip() {
        assert_eq!(
            run(json!({"reachableBy": "10.0.0.1", "peerIP": ""})),
            ["spec.reachableBy: Forbidden: reachableBy must be empty when peerIP is empty"]
        );
    }

    #[test]
    fn keep_original_next_hop_false_is_fine_with_next_hop_mode() {
        assert!(run(json!({"keepOriginalNextHop": false, "nextHopMode": "Self"})).is_empty());
        assert_eq!(
            run(json!({"keepOriginalNextHop": true, "nextHopMode": "Bogus"})).len(),
            1
        );
    }
}
