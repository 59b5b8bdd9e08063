//! The cluster rules, pure over a [`ClusterView`].
//!
//! [`check`] applies every rule; a filter the view lacks is not denied at once but returned as a
//! [`FilterMiss`] to be confirmed with a live GET (the watches lag behind the API server, so a
//! filter created a moment ago may not be in the view yet). [`resolve`] then turns the confirmed
//! misses into errors.

use serde_json::{Value, json};

use crate::bgppeer::Peer;
use crate::bgppeer::warnings::fit;
use crate::field::{FieldError, Path};

use super::ScopeKey;
use super::findings::Findings;
use super::subject::Subject;
use super::{Availability, ClusterView, SelectorRef};

use crate::bgppeer::api::MAX_PASSWORD_BYTES;

/// Up to this many matching nodes (of more), a selector warning names them, so that a selector
/// narrower than meant is seen at once.
pub const SMALL_MATCH: usize = 3;

/// A filter named in `spec.filters` that the view does not have.
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
    /// Filters absent from the view, to confirm with a live lookup before denying.
    pub unconfirmed: Vec<FilterMiss>,
}

/// Applies every cluster rule to a BGPPeer (either API group) being created or updated.
///
/// `peer` is the typed object under review, `object` its JSON (its facts are read by
/// `Subject::of`): on UPDATE, the stored peer of the same name is that
/// object's old version and is not reported as its own duplicate. With the view
/// [`Availability::Off`] nothing is checked; when it is [`Availability::Skipped`], the findings
/// are that one warning.
pub fn check(peer: &Peer, object: &Value, view: &dyn ClusterView) -> Checked {
    match view.availability() {
        Availability::Off => return Checked::default(),
        Availability::Skipped(reason) => {
            return Checked {
                findings: Findings::skipped(reason.clone()),
                unconfirmed: Vec::new(),
            };
        }
        Availability::Ready => {}
    }
    let subject = Subject::of(peer, object);
    let subject = &subject;
    let mut checked = Checked {
        unconfirmed: filter_misses(subject, view),
        ..Checked::default()
    };
    check_password(subject, view, &mut checked.findings);
    let warnings = &mut checked.findings.warnings;
    warnings.extend(node_warning(subject, view));
    for field in &subject.selectors {
        let selector = SelectorRef {
            selector: field.parsed,
            canonical: &field.canonical,
        };
        warnings.extend(selector_warning(field.field, selector, view));
    }
    warnings.extend(duplicate_warnings(subject, view));
    warnings.extend(mesh_warning(subject, view));
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
pub(crate) fn filter_not_found(miss: &FilterMiss) -> FieldError {
    FieldError::not_found(
        Path::new("spec").child("filters").index(miss.index),
        miss.name.as_str(),
        "no BGPFilter of this name exists; create it first or remove it from spec.filters",
    )
}

fn filter_misses(subject: &Subject<'_>, view: &dyn ClusterView) -> Vec<FilterMiss> {
    subject
        .filters
        .iter()
        .filter(|(_, name)| !view.filter_exists(name))
        .map(|&(index, name)| FilterMiss {
            index,
            name: name.to_owned(),
        })
        .collect()
}

fn check_password(subject: &Subject<'_>, view: &dyn ClusterView, findings: &mut Findings) {
    let Some(namespace) = view.password_namespace() else {
        return;
    };
    let Some((secret, key)) = subject.secret_ref else {
        return;
    };
    // Built only when something is reported: the common case allocates nothing here.
    let path = || Path::new("spec").child("password").child("secretKeyRef");
    let Some(keys) = view.secret_key_lengths(secret) else {
        let path = path();
        findings.warnings.push(fit(format!(
            "{path}: Secret {namespace}/{secret} not found, so this peer's BGP sessions will not \
             establish"
        )));
        return;
    };
    let Some(&length) = keys.get(key) else {
        let path = path();
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
            path(),
            json!({"name": secret, "key": key}),
            format!("password is {length} characters, BGP allows at most {MAX_PASSWORD_BYTES}"),
        ));
    }
}

fn node_warning(subject: &Subject<'_>, view: &dyn ClusterView) -> Option<String> {
    let Some(ScopeKey::Node(node)) = &subject.scope else {
        return None;
    };
    if view.node_exists(node) {
        return None;
    }
    Some(fit(format!(
        "spec.node: no Node named {node:?}; this peer applies to no node until one exists"
    )))
}

fn selector_warning(
    field: &str,
    selector: SelectorRef<'_>,
    view: &dyn ClusterView,
) -> Option<String> {
    let matched = view.nodes_matching(selector);
    let total = matched.total;
    let effect = if field == "nodeSelector" {
        "this peer applies to no node"
    } else {
        "it selects no node to peer with"
    };
    match matched.count {
        0 => Some(format!(
            "spec.{field} matches none of the {total} Nodes: {effect} until labels change"
        )),
        count if count <= SMALL_MATCH && count < total => Some(fit(format!(
            "spec.{field} matches only {count} of the {total} Nodes: {}",
            matched.names.join(", ")
        ))),
        _ => None,
    }
}

/// A BGPPeer between cluster nodes while the node-to-node mesh is on: Calico's BGPPeer reference
/// says to disable the mesh to peer nodes through BGPPeers. A warning, not a denial; none when
/// the mesh is unknown (BGPConfigurations not readable) or the peerSelector selects no node (the
/// selector warning says that already).
fn mesh_warning(subject: &Subject<'_>, view: &dyn ClusterView) -> Option<String> {
    let mesh = view.node_to_node_mesh();
    if !mesh.is_on() {
        return None;
    }
    if let Some(field) = subject.selectors.iter().find(|s| s.field == "peerSelector") {
        let selector = SelectorRef {
            selector: field.parsed,
            canonical: &field.canonical,
        };
        return (view.nodes_matching(selector).count > 0)
            .then(|| mesh.short_peer_selector_warning());
    }
    let (ip, _) = subject.address?;
    view.node_at(ip)
        .map(|node| mesh.short_peer_ip_warning(node))
}

fn duplicate_warnings(subject: &Subject<'_>, view: &dyn ClusterView) -> Vec<String> {
    let (Some(address), Some(scope)) = (subject.address, &subject.scope) else {
        return Vec::new();
    };
    // `name` is empty for a `generateName` creation: then no stored peer is the object itself.
    let name = subject.name;
    view.peers_at(scope, address)
        .into_iter()
        .filter(|other| name.is_empty() || *other != name)
        .map(|other| {
            fit(format!(
                "spec.peerIP: BGPPeer {other:?} already peers with {} port {} in the same scope: \
                 the same BGP session twice",
                address.0, address.1
            ))
        })
        .collect()
}
