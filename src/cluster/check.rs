//! The cluster rules, pure over a [`Snapshot`].
//!
//! [`check`] applies every rule; a filter the snapshot lacks is not denied at once but returned
//! as a [`FilterMiss`] to be confirmed with a live GET (the caches lag behind the API server, so
//! a filter created a moment ago may not be in them yet). [`resolve`] then turns the confirmed
//! misses into errors.

use serde_json::{Value, json};

use crate::bgppeer::warnings::fit;
use crate::field::{FieldError, Path};
use calico_selector as selector;

use super::findings::Findings;
use super::snapshot::{Scope, Snapshot, target_of};

/// The longest password BIRD accepts for a BGP session (TCP MD5 keys are at most 80 bytes).
pub use crate::bgppeer::api::MAX_PASSWORD_BYTES;

/// Up to this many matching nodes (of more), a selector warning names them, so that a selector
/// narrower than meant is seen at once.
pub const SMALL_MATCH: usize = 3;

/// A filter named in `spec.filters` that the caches do not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterMiss {
    /// Its position in `spec.filters`.
    pub index: usize,
    /// The filter name.
    pub name: String,
}

/// The outcome of [`check`]: findings so far, and the filter misses still to confirm.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Checked {
    /// Errors and warnings already certain.
    pub findings: Findings,
    /// Filters absent from the caches, to confirm with a live lookup before denying.
    pub unconfirmed: Vec<FilterMiss>,
}

/// Applies every cluster rule to a BGPPeer object (either API group) being created or updated.
///
/// The object is the one under review: on UPDATE, the existing peer of the same name is that
/// object's old version and is not reported as its own duplicate. Fields the static rules reject
/// (a filter that is not a string, a selector that does not parse) are skipped here: the static
/// errors already speak about them.
pub fn check(object: &Value, snapshot: &Snapshot) -> Checked {
    if let Some(reason) = &snapshot.unavailable {
        return Checked {
            findings: Findings::skipped(reason.clone()),
            unconfirmed: Vec::new(),
        };
    }
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let spec_path = Path::new("spec");
    let mut checked = Checked {
        unconfirmed: filter_misses(spec, snapshot),
        ..Checked::default()
    };
    check_password(spec, &spec_path, snapshot, &mut checked.findings);
    let warnings = &mut checked.findings.warnings;
    warnings.extend(node_warning(spec, snapshot));
    for field in ["nodeSelector", "peerSelector"] {
        warnings.extend(selector_warning(spec, field, snapshot));
    }
    warnings.extend(duplicate_warnings(object, snapshot));
    checked
}

/// Adds a `Not found` error at `spec.filters[i]` for every miss the live lookup confirmed.
pub fn resolve(mut findings: Findings, confirmed_missing: &[FilterMiss]) -> Findings {
    for miss in confirmed_missing {
        findings.errors.push(filter_not_found(miss));
    }
    findings
}

/// The error for a filter that does not exist, as Calico's client refuses it
/// (`BGPFilter(s) not found`).
pub fn filter_not_found(miss: &FilterMiss) -> FieldError {
    FieldError::not_found(
        Path::new("spec").child("filters").index(miss.index),
        miss.name.as_str(),
        "no BGPFilter of this name exists; create it first or remove it from spec.filters",
    )
}

fn filter_misses(spec: &Value, snapshot: &Snapshot) -> Vec<FilterMiss> {
    let Some(filters) = spec.get("filters").and_then(Value::as_array) else {
        return Vec::new();
    };
    filters
        .iter()
        .enumerate()
        .filter_map(|(index, name)| Some((index, name.as_str()?)))
        .filter(|(_, name)| !name.is_empty() && !snapshot.filters.contains(*name))
        .map(|(index, name)| FilterMiss {
            index,
            name: name.to_owned(),
        })
        .collect()
}

fn check_password(spec: &Value, spec_path: &Path, snapshot: &Snapshot, findings: &mut Findings) {
    let Some(secrets) = &snapshot.secrets else {
        return;
    };
    let Some(reference) = spec.pointer("/password/secretKeyRef") else {
        return;
    };
    let (Some(secret), Some(key)) = (
        reference.get("name").and_then(Value::as_str),
        reference.get("key").and_then(Value::as_str),
    ) else {
        return;
    };
    let path = spec_path.child("password").child("secretKeyRef");
    let namespace = &secrets.namespace;
    let Some(keys) = secrets.secrets.get(secret) else {
        findings.warnings.push(fit(format!(
            "{path}: Secret {namespace}/{secret} not found, so this peer's BGP sessions will not \
             establish"
        )));
        return;
    };
    let Some(&length) = keys.get(key) else {
        let present: Vec<&str> = keys.keys().map(String::as_str).collect();
        let present = if present.is_empty() {
            "no keys".to_owned()
        } else {
            present.join(", ")
        };
        findings.warnings.push(fit(format!(
            "{path}: Secret {namespace}/{secret} has no key {key:?} (it has {present})"
        )));
        return;
    };
    if length > MAX_PASSWORD_BYTES {
        findings.errors.push(FieldError::invalid(
            path,
            json!({"name": secret, "key": key}),
            format!("password is {length} characters, BGP allows at most {MAX_PASSWORD_BYTES}"),
        ));
    }
}

fn node_warning(spec: &Value, snapshot: &Snapshot) -> Option<String> {
    let Scope::Node(node) = Scope::of(spec) else {
        return None;
    };
    if snapshot.nodes.iter().any(|known| known.name == node) {
        return None;
    }
    Some(fit(format!(
        "spec.node: no Node named {node:?}; this peer applies to no node until one exists"
    )))
}

fn selector_warning(spec: &Value, field: &str, snapshot: &Snapshot) -> Option<String> {
    let text = spec.get(field)?.as_str()?.trim();
    if text.is_empty() {
        return None;
    }
    let parsed = selector::parse(text).ok()?;
    let matched: Vec<&str> = snapshot
        .nodes
        .iter()
        .filter(|node| parsed.matches(&node.labels))
        .map(|node| node.name.as_str())
        .collect();
    let total = snapshot.nodes.len();
    let effect = if field == "nodeSelector" {
        "this peer applies to no node"
    } else {
        "it selects no node to peer with"
    };
    match matched.len() {
        0 => Some(format!(
            "spec.{field} matches none of the {total} Nodes: {effect} until labels change"
        )),
        count if count <= SMALL_MATCH && count < total => Some(fit(format!(
            "spec.{field} matches only {count} of the {total} Nodes: {}",
            matched.join(", ")
        ))),
        _ => None,
    }
}

fn duplicate_warnings(object: &Value, snapshot: &Snapshot) -> Vec<String> {
    let spec = object.get("spec").unwrap_or(&Value::Null);
    let Some((ip, port)) = target_of(spec) else {
        return Vec::new();
    };
    // Empty for a `generateName` creation: then no existing peer is the object itself.
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let scope = Scope::of(spec);
    snapshot
        .peers
        .iter()
        .filter(|other| name.is_empty() || other.name != name)
        .filter(|other| other.scope == scope && other.target == Some((ip, port)))
        .map(|other| {
            fit(format!(
                "spec.peerIP: BGPPeer {:?} already peers with {ip} port {port} in the same scope: \
                 the same BGP session twice",
                other.name
            ))
        })
        .collect()
}
