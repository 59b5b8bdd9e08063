//! Which object a request is about. The webhook configuration should only ever send BGPPeers of
//! the two Calico API groups; anything else means the configuration is wrong, and is allowed with
//! a warning rather than blocking an unrelated resource.

use kube_core::DynamicObject;
use kube_core::admission::AdmissionRequest;

use crate::bgppeer::ApiGroup;
use crate::bgppeer::api::{BGP_PEER_KIND, BGP_PEER_RESOURCE};

/// What a request is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Target {
    /// A BGPPeer of a known API group: validate or default it.
    BgpPeer(ApiGroup),
    /// Something else; the text explains what arrived and is returned as a warning.
    Unexpected(String),
}

/// Classifies a request by its `kind`, `resource` and `subResource`.
///
/// The `kind` (not the object's own `apiVersion`) decides the group: the apiserver converts the
/// object to the version the webhook registered for before sending it.
pub(crate) fn of(request: &AdmissionRequest<DynamicObject>) -> Target {
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
            if kind.kind == BGP_PEER_KIND
                && resource.resource == BGP_PEER_RESOURCE
                && resource.group == kind.group
                && sub_resource.is_empty() =>
        {
            Target::BgpPeer(group)
        }
        _ => {
            let mut what = format!("{} {api_version}", kind.kind);
            if resource.resource != BGP_PEER_RESOURCE || !sub_resource.is_empty() {
                what.push_str(&format!(" (resource {}", resource.resource));
                if !sub_resource.is_empty() {
                    what.push_str(&format!("/{sub_resource}"));
                }
                what.push(')');
            }
            Target::Unexpected(unexpected_warning(&what))
        }
    }
}

/// The warning for a request about something else: what was sent (cut with `...` when long, as
/// every part of it comes from the request) and what to do, within the
/// [`crate::bgppeer::warnings::MAX_LEN`] characters the apiserver keeps.
fn unexpected_warning(what: &str) -> String {
    const START: &str = "webhook was sent ";
    const REST: &str = ", not a Calico BGPPeer: allowed unchecked; fix its rules";
    let room = crate::bgppeer::warnings::MAX_LEN - START.len() - REST.len();
    let what = if what.chars().count() > room {
        let mut cut: String = what.chars().take(room - 3).collect();
        cut.push_str("...");
        cut
    } else {
        what.to_owned()
    };
    format!("{START}{what}{REST}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing the decision: a request of an unexpected group got a warning of over 170
    /// characters (the group comes from the request, so it had no bound at all).
    #[test]
    fn unexpected_requests_get_a_warning_within_120_characters() {
        assert_eq!(
            unexpected_warning("BGPPeer crd&projectcalico.org/v1"),
            "webhook was sent BGPPeer crd&projectcalico.org/v1, not a Calico BGPPeer: allowed \
             unchecked; fix its rules"
        );
        let long = unexpected_warning(&format!("BGPPeer {}/v1", "g".repeat(1 << 20)));
        assert_eq!(long.chars().count(), crate::bgppeer::warnings::MAX_LEN);
        assert!(long.ends_with("gg..., not a Calico BGPPeer: allowed unchecked; fix its rules"));
    }
}
