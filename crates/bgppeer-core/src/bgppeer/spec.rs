//! Field-by-field validation of `spec` (R4.1–R4.18), reading the raw JSON so that wrong types and
//! unknown fields become field errors with paths. Each field is parsed here, once, into the typed
//! [`PeerSpec`]; the cross-field rules, the warnings and every other module work from the result.

use std::net::IpAddr;

use serde_json::{Map, Value};

use super::ApiGroup;
use super::api::{ADDRESS_MAX_LEN, NODE_MAX_LEN, TTL_SECURITY_MAX};
use super::asnumber::{self, AsNumberError, AsNumberForm};
use super::ip::{self, PeerAddress};
use super::model::{AsNumber, GoDuration, NextHopMode, ReversePeering, SourceAddress};
use super::names;
use super::peer::{
    BgpPassword, Field, Filters, PeerSpec, SPEC_FIELD_COUNT, SecretKeySelector, SpecField,
};
use crate::field::{ErrorList, FieldError, Path};
use calico_selector::{self as selector, Selector};

/// The result of checking the fields of a spec one by one.
#[derive(Clone, Debug)]
pub(crate) struct CheckedSpec {
    /// Every field, typed: valid values parsed, failed ones [`Field::Invalid`].
    pub(crate) spec: PeerSpec,
    /// Which of `asNumber` / `localASNumber` were written as strings (valid ones only).
    pub(crate) as_numbers_written_as_text: Vec<(SpecField, u32)>,
}

/// Checks every field of `spec` (a JSON object at `path`), appending errors in declaration order
/// after any unknown-field errors.
pub(crate) fn check(
    group: ApiGroup,
    spec: &Map<String, Value>,
    path: &Path,
    errors: &mut ErrorList,
) -> CheckedSpec {
    // One pass over the object: unknown keys are reported in key order, known ones are slotted
    // by declaration order (cheaper than looking each of the 18 names up).
    let mut present: [Option<&Value>; SPEC_FIELD_COUNT] = [None; SPEC_FIELD_COUNT];
    for (key, value) in spec {
        match SpecField::ALL.iter().position(|field| field.name() == key) {
            Some(slot) => present[slot] = Some(value).filter(|v| !v.is_null()),
            None => errors.push_with(path, || FieldError::unknown_field(path.child(key), &[])),
        }
    }
    let mut out = CheckedSpec {
        spec: PeerSpec::unset(),
        as_numbers_written_as_text: Vec::new(),
    };
    for (field, value) in SpecField::ALL.into_iter().zip(present) {
        if let Some(value) = value {
            check_field(
                group,
                field,
                value,
                &path.child(field.name()),
                &mut out,
                errors,
            );
        }
    }
    out
}

/// Checks one present, non-null field and records its typed value in `out`.
///
/// The match names every [`SpecField`] and has no wildcard arm: a field added to the spec
/// without a rule here does not compile.
fn check_field(
    group: ApiGroup,
    field: SpecField,
    value: &Value,
    path: &Path,
    out: &mut CheckedSpec,
    errors: &mut ErrorList,
) {
    let spec = &mut out.spec;
    match field {
        SpecField::Node => spec.node = text_field(value, path, errors, check_node),
        SpecField::PeerIp => spec.peer_ip = text_field(value, path, errors, check_peer_ip),
        SpecField::AsNumber => {
            out.spec.as_number = match as_number(group, field, value, path, out, errors) {
                Field::Valid(number) if number.is_unset() => Field::Unset,
                other => other,
            };
        }
        SpecField::NodeSelector => {
            spec.node_selector = text_field(value, path, errors, check_selector);
        }
        SpecField::PeerSelector => {
            spec.peer_selector = text_field(value, path, errors, check_selector);
        }
        SpecField::LocalWorkloadSelector => {
            spec.local_workload_selector = text_field(value, path, errors, check_selector);
        }
        SpecField::KeepOriginalNextHop => {
            spec.keep_original_next_hop = match value {
                Value::Bool(keep) => Field::Valid(*keep),
                other => {
                    errors.push(FieldError::type_invalid(path.clone(), other, "a boolean"));
                    Field::Invalid
                }
            };
        }
        SpecField::Password => spec.password = check_password(value, path, errors).into(),
        SpecField::SourceAddress => {
            spec.source_address = text_field(value, path, errors, |text, path, errors| {
                enumerated(text, path, errors, SourceAddress::parse, SourceAddress::ALL)
            });
        }
        SpecField::MaxRestartTime => {
            spec.max_restart_time = go_duration(value, path, errors).into();
        }
        SpecField::KeepaliveTime => spec.keepalive_time = go_duration(value, path, errors).into(),
        SpecField::NumAllowedLocalAsNumbers => {
            spec.num_allowed_local_as_numbers = integer(
                value,
                path,
                errors,
                i64::from(i32::MIN),
                i64::from(i32::MAX),
            )
            .and_then(|n| i32::try_from(n).ok())
            .into();
        }
        SpecField::TtlSecurity => {
            spec.ttl_security = integer(value, path, errors, 0, i64::from(TTL_SECURITY_MAX))
                .and_then(|n| u8::try_from(n).ok())
                .into();
        }
        SpecField::Filters => spec.filters = check_filters(value, path, errors),
        SpecField::ReachableBy => {
            spec.reachable_by = text_field(value, path, errors, check_reachable_by);
        }
        SpecField::NextHopMode => {
            spec.next_hop_mode = string(value, path, errors)
                .and_then(|text| {
                    enumerated(text, path, errors, NextHopMode::parse, NextHopMode::ALL)
                })
                .into();
        }
        SpecField::ReversePeering => {
            spec.reverse_peering = string(value, path, errors)
                .and_then(|text| {
                    enumerated(
                        text,
                        path,
                        errors,
                        ReversePeering::parse,
                        ReversePeering::ALL,
                    )
                })
                .into();
        }
        SpecField::LocalAsNumber => {
            out.spec.local_as_number = as_number(group, field, value, path, out, errors);
        }
    }
}

/// A string field where `""` means unset: a type error, `Unset`, or what `parse` makes of the
/// text (`None` after it reported an error).
fn text_field<T>(
    value: &Value,
    path: &Path,
    errors: &mut ErrorList,
    parse: impl FnOnce(&str, &Path, &mut ErrorList) -> Option<T>,
) -> Field<T> {
    match string(value, path, errors) {
        None => Field::Invalid,
        Some(text) if text.is_empty() => Field::Unset,
        Some(text) => parse(text, path, errors).into(),
    }
}

/// The string value of a field, or a type error.
fn string<'a>(value: &'a Value, path: &Path, errors: &mut ErrorList) -> Option<&'a String> {
    match value {
        Value::String(text) => Some(text),
        other => {
            errors.push(FieldError::type_invalid(path.clone(), other, "a string"));
            None
        }
    }
}

/// An integer within `min..=max`, or an error.
fn integer(value: &Value, path: &Path, errors: &mut ErrorList, min: i64, max: i64) -> Option<i64> {
    let Value::Number(number) = value else {
        errors.push(FieldError::type_invalid(path.clone(), value, "an integer"));
        return None;
    };
    match number.as_i64() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            errors.push(FieldError::invalid(
                path.clone(),
                value.clone(),
                format!("must be an integer between {min} and {max}"),
            ));
            None
        }
    }
}

/// One of an enum's spellings, or a `NotSupported` error listing them.
fn enumerated<T>(
    text: &str,
    path: &Path,
    errors: &mut ErrorList,
    parse: fn(&str) -> Option<T>,
    supported: &[&str],
) -> Option<T> {
    let parsed = parse(text);
    if parsed.is_none() {
        errors.push(FieldError::not_supported(path.clone(), text, supported));
    }
    parsed
}

/// Whether `text` is at most `max` bytes (a CRD's `maxLength`); a `Too long` error at `path`
/// otherwise.
fn within_max_len(text: &str, max: usize, path: &Path, errors: &mut ErrorList) -> bool {
    if text.len() <= max {
        return true;
    }
    errors.push(FieldError::too_long(path.clone(), text.len(), max));
    false
}

/// R4.1: a DNS-1123 subdomain (Calico's `nameRegex`), at most 253 bytes (the CRD's `maxLength`).
fn check_node(node: &str, path: &Path, errors: &mut ErrorList) -> Option<String> {
    if !within_max_len(node, NODE_MAX_LEN, path, errors) {
        None
    } else if !names::matches_dns1123_subdomain(node) {
        errors.push(FieldError::invalid(
            path.clone(),
            node,
            names::dns1123_subdomain_message(),
        ));
        None
    } else {
        Some(node.to_owned())
    }
}

/// R4.3 and R5: an IP, `IPv4:port` or `[IP]:port`.
fn check_peer_ip(text: &str, path: &Path, errors: &mut ErrorList) -> Option<PeerAddress> {
    if !within_max_len(text, ADDRESS_MAX_LEN, path, errors) {
        return None;
    }
    match ip::parse_peer_ip(text) {
        Ok(address) => Some(address),
        Err(err) => {
            errors.push(FieldError::invalid(path.clone(), text, err.to_string()));
            None
        }
    }
}

/// R4.12: a plain IP address.
fn check_reachable_by(text: &str, path: &Path, errors: &mut ErrorList) -> Option<IpAddr> {
    if !within_max_len(text, ADDRESS_MAX_LEN, path, errors) {
        return None;
    }
    let parsed = ip::parse_ip(text);
    if parsed.is_none() {
        errors.push(FieldError::invalid(
            path.clone(),
            text,
            "must be a plain IP address without a port (e.g. 10.0.0.254 or 2001:db8::1)",
        ));
    }
    parsed
}

/// R4.2, R4.5, R4.14: a Calico selector of at most [`selector::MAX_LEN`] bytes (the caller
/// treats `""` as unset; a blank selector is `all()`). The parsed selector is the one every other
/// module uses: selectors are parsed nowhere else.
fn check_selector(text: &str, path: &Path, errors: &mut ErrorList) -> Option<Selector> {
    if !within_max_len(text, selector::MAX_LEN, path, errors) {
        return None;
    }
    match selector::parse(text) {
        Ok(parsed) => Some(parsed),
        Err(err) => {
            errors.push(FieldError::invalid(path.clone(), text, err.to_string()));
            None
        }
    }
}

/// R4.4, R4.17, R7: an integer 0–4294967295, or a plain or dotted string.
///
/// A string is valid on both groups: `projectcalico.org/v3` accepts it as such, and on
/// `crd.projectcalico.org/v1` the mutating webhook (which runs before validation) replaces it
/// with the integer. Only a string that cannot be converted is an error.
fn as_number(
    group: ApiGroup,
    field: SpecField,
    value: &Value,
    path: &Path,
    out: &mut CheckedSpec,
    errors: &mut ErrorList,
) -> Field<AsNumber> {
    match asnumber::from_json(value) {
        Ok(AsNumberForm::Integer(n)) => Field::Valid(AsNumber(n)),
        Ok(AsNumberForm::Text(n)) => {
            out.as_numbers_written_as_text.push((field, n));
            Field::Valid(AsNumber(n))
        }
        Err(AsNumberError::WrongType) => {
            let expected = match group {
                ApiGroup::V3 => "an integer or a string",
                ApiGroup::CrdV1 => "an integer",
            };
            errors.push(FieldError::type_invalid(path.clone(), value, expected));
            Field::Invalid
        }
        Err(err) => {
            errors.push(FieldError::invalid(
                path.clone(),
                value.clone(),
                err.to_string(),
            ));
            Field::Invalid
        }
    }
}

/// R4.9, R4.18, R8: a Go duration string.
fn go_duration(value: &Value, path: &Path, errors: &mut ErrorList) -> Option<GoDuration> {
    let text = string(value, path, errors)?;
    match GoDuration::parse(text) {
        Ok(duration) => Some(duration),
        Err(err) => {
            errors.push(FieldError::invalid(
                path.clone(),
                text.as_str(),
                err.to_string(),
            ));
            None
        }
    }
}

/// R4.13: a list of BGPFilter names (DNS-1123 subdomains).
///
/// The list can hold hundreds of thousands of names (a 3 MiB object), so a valid name costs no
/// allocation of its own: the names are copied into one buffer ([`Filters`], no larger than the
/// list's JSON), and a path is built only for an error. After the first invalid name nothing
/// more is copied: the list is then [`Field::Invalid`].
fn check_filters(value: &Value, path: &Path, errors: &mut ErrorList) -> Field<Filters> {
    let Value::Array(items) = value else {
        errors.push(FieldError::type_invalid(
            path.clone(),
            value,
            "an array of strings",
        ));
        return Field::Invalid;
    };
    let mut filters = Some(Filters::default());
    for (i, item) in items.iter().enumerate() {
        // Paths and messages are built only for errors the list keeps: a list of 760,000 bad names costs a count, not 760,000 messages.
        let Value::String(name) = item else {
            filters = None;
            errors.push_with(path, || {
                FieldError::type_invalid(path.index(i), item, "a string")
            });
            continue;
        };
        if names::is_dns1123_subdomain(name) {
            if let Some(filters) = &mut filters {
                filters.push(name);
            }
            continue;
        }
        filters = None;
        if errors.is_full() {
            let problems = usize::from(name.len() > names::DNS1123_SUBDOMAIN_MAX_LEN)
                + usize::from(!names::matches_dns1123_subdomain(name));
            errors.omit(path, problems);
            continue;
        }
        let item_path = path.index(i);
        for msg in names::dns1123_subdomain(name) {
            errors.push(FieldError::invalid(item_path.clone(), name.as_str(), msg));
        }
    }
    filters.into()
}

/// R4.7: `password.secretKeyRef` with a `key` (required by the CRD). Stricter than Calico: the
/// Secret `name` is required and must be a DNS-1123 subdomain, and the `key` must be a valid
/// Secret data key, because calico-node cannot read the password otherwise.
fn check_password(value: &Value, path: &Path, errors: &mut ErrorList) -> Option<BgpPassword> {
    let map = object(value, path, errors)?;
    unknown_fields(map, &["secretKeyRef"], path, errors);
    let ref_path = path.child("secretKeyRef");
    let secret_key_ref = match map.get("secretKeyRef") {
        None | Some(Value::Null) => Field::Unset,
        Some(value) => check_secret_key_ref(value, &ref_path, errors).into(),
    };
    Some(BgpPassword { secret_key_ref })
}

/// `password.secretKeyRef`: `name`, `key` and `optional`.
fn check_secret_key_ref(
    value: &Value,
    path: &Path,
    errors: &mut ErrorList,
) -> Option<SecretKeySelector> {
    let map = object(value, path, errors)?;
    unknown_fields(map, &["name", "key", "optional"], path, errors);
    let mut valid = true;
    let mut required_string = |field: &str, detail: &str, check: fn(&str) -> Vec<String>| {
        let field_path = path.child(field);
        match map.get(field) {
            None | Some(Value::Null) => {
                errors.push(FieldError::required(field_path, detail));
                None
            }
            Some(Value::String(text)) if text.is_empty() => {
                errors.push(FieldError::required(field_path, detail));
                None
            }
            Some(Value::String(text)) => {
                let problems = check(text);
                if problems.is_empty() {
                    return Some(text.clone());
                }
                for msg in problems {
                    errors.push(FieldError::invalid(field_path.clone(), text.as_str(), msg));
                }
                None
            }
            Some(other) => {
                errors.push(FieldError::type_invalid(field_path, other, "a string"));
                None
            }
        }
    };
    let name = required_string(
        "name",
        "the name of a Secret in calico-node's namespace",
        names::dns1123_subdomain,
    );
    let key = required_string(
        "key",
        "the data key in the Secret that holds the password",
        names::config_map_key,
    );
    let optional = match map.get("optional") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            errors.push(FieldError::type_invalid(
                path.child("optional"),
                other,
                "a boolean",
            ));
            valid = false;
            None
        }
    };
    match (name, key, valid) {
        (Some(name), Some(key), true) => Some(SecretKeySelector {
            name,
            key,
            optional,
        }),
        _ => None,
    }
}

/// The map of an object field, or a type error.
fn object<'a>(
    value: &'a Value,
    path: &Path,
    errors: &mut ErrorList,
) -> Option<&'a Map<String, Value>> {
    match value {
        Value::Object(map) => Some(map),
        other => {
            errors.push(FieldError::type_invalid(path.clone(), other, "an object"));
            None
        }
    }
}

/// Reports every key of `map` that is not in `known`.
fn unknown_fields(map: &Map<String, Value>, known: &[&str], path: &Path, errors: &mut ErrorList) {
    for key in map.keys() {
        if !known.contains(&key.as_str()) {
            errors.push_with(path, || FieldError::unknown_field(path.child(key), &[]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn run(group: ApiGroup, spec: Value) -> (CheckedSpec, Vec<String>) {
        let mut errors = ErrorList::new();
        let checked = check(
            group,
            spec.as_object().unwrap(),
            &Path::new("spec"),
            &mut errors,
        );
        (checked, errors.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn valid_values_fill_the_model() {
        let (checked, errors) = run(
            ApiGroup::V3,
            json!({"peerIP": "[2001:db8::1]:179", "asNumber": "1.10", "ttlSecurity": 3,
                   "sourceAddress": "None", "keepaliveTime": "1m", "filters": ["a", "b"]}),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(checked.spec.as_number, Field::Valid(AsNumber(65546)));
        assert_eq!(
            checked.as_numbers_written_as_text,
            [(SpecField::AsNumber, 65546)]
        );
        assert_eq!(checked.spec.peer_ip.get().unwrap().port, Some(179));
        assert_eq!(checked.spec.ttl_security, Field::Valid(3));
        assert_eq!(
            checked.spec.source_address,
            Field::Valid(SourceAddress::None)
        );
        assert_eq!(
            checked.spec.keepalive_time.get().unwrap().nanos,
            60_000_000_000
        );
        let filters = checked.spec.filters.get().unwrap();
        assert_eq!(filters.iter().collect::<Vec<_>>(), ["a", "b"]);
    }

    #[test]
    fn invalid_values_are_invalid_not_unset() {
        let (checked, errors) = run(ApiGroup::CrdV1, json!({"peerIP": "nope"}));
        assert_eq!(errors.len(), 1);
        assert_eq!(checked.spec.peer_ip, Field::Invalid);
        let (checked, _) = run(ApiGroup::CrdV1, json!({"filters": ["a", "B", "c"]}));
        assert_eq!(checked.spec.filters, Field::Invalid);
        let (checked, _) = run(ApiGroup::CrdV1, json!({"filters": ["a", 5]}));
        assert_eq!(checked.spec.filters, Field::Invalid);
    }

    #[test]
    fn unknown_fields_come_first() {
        let (_, errors) = run(ApiGroup::V3, json!({"node": "Bad", "nodeselector": "x"}));
        assert_eq!(errors[0], "spec.nodeselector: Unknown field");
        assert!(errors[1].starts_with("spec.node: Invalid value"));
    }

    #[test]
    fn integer_bounds() {
        let mut errors = ErrorList::new();
        let path = Path::new("x");
        assert_eq!(integer(&json!(5), &path, &mut errors, 0, 5), Some(5));
        assert_eq!(integer(&json!(6), &path, &mut errors, 0, 5), None);
        assert_eq!(integer(&json!(u64::MAX), &path, &mut errors, 0, 5), None);
        assert_eq!(integer(&json!(2.0), &path, &mut errors, 0, 5), None);
        assert_eq!(errors.len(), 3);
    }
}
