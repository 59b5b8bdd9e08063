//! Which object a request is about. The webhook configuration should only ever send BGPPeers of
//! the two Calico API groups; anything else means the configuration is wrong, and is allowed with
//! a warning rather than blocking an unrelated resource.

use kube::core::DynamicObject;
use kube::core::admission::AdmissionRequest;

use crate::bgppeer::ApiGroup;

/// The kind every handled request is about.
pub const KIND: &str = "BGPPeer";
/// The resource every handled request is about.
pub const RESOURCE: &str = "bgppeers";

/// What a request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A BGPPeer of a known API group: validate or default it.
    BgpPeer(ApiGroup),
    /// Something else; the text explains what arrived and is returned as a warning.
    Unexpected(String),
}

/// Classifies a request by its `kind`, `resource` and `subResource`.
///
/// The `kind` (not the object's own `apiVersion`) decides the group: the apiserver converts the
/// object to the version the webhook registered for before sending it.
pub fn of(request: &AdmissionRequest<DynamicObject>) -> Target {
    let kind = &request.kind;
    let resource = &request.resource;
    let api_version = if kind.group.is_empty() {
        kind.version.clone()
    } else {
        format!("{}/{}", kind.group, kind.version)
    };
    let group = ApiGroup::from_api_version(&api_version);
    let sub_resource = request.sub_resource.as_deref().unwrap_or("");
    match group {
        Some(group)
            if kind.kind == KIND
                && resource.resource == RESOURCE
                && resource.group == kind.group
                && sub_resource.is_empty() =>
        {
            Target::BgpPeer(group)
        }
        _ => {
            let sub = if sub_resource.is_empty() {
                String::new()
            } else {
                format!("/{sub_resource}")
            };
            // What arrived comes first: answers cap each warning at 120 characters.
            Target::Unexpected(format!(
                "bgppeer-webhook was sent {} {api_version} (resource {}{sub}), not a BGPPeer: \
                 allowed unchecked; fix the webhook rules",
                kind.kind, resource.resource
            ))
        }
    }
}
