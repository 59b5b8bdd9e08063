//! The Calico resources the caches watch, in both API groups.
//!
//! Calico serves the same BGPFilter and BGPPeer objects under two API groups: the CRDs
//! `crd.projectcalico.org/v1` (what calico-node reads) and, when the Calico API server is
//! installed (or Calico runs with its `projectcalico.org/v3` CRDs), `projectcalico.org/v3`.
//! Both use the same object names for these two cluster-scoped kinds, so a name found in either
//! group is the same object: the checks look names up in the union of both.

use kube::core::{ApiResource, GroupVersionKind};

use crate::bgppeer::api;

/// The two API groups, as `(group, version)`.
pub const GROUPS: [(&str, &str); 2] = api::GROUP_VERSIONS;

/// `BGPFilter` in both groups.
pub fn bgpfilters() -> Vec<ApiResource> {
    both(api::BGP_FILTER_KIND, api::BGP_FILTER_RESOURCE)
}

/// `BGPPeer` in both groups.
pub fn bgppeers() -> Vec<ApiResource> {
    both(api::BGP_PEER_KIND, api::BGP_PEER_RESOURCE)
}

/// The name a cache is reported under (`bgpfilters.crd.projectcalico.org`), as `kubectl`
/// spells a resource with its group.
pub fn label(resource: &ApiResource) -> String {
    format!("{}.{}", resource.plural, resource.group)
}

fn both(kind: &str, plural: &str) -> Vec<ApiResource> {
    GROUPS
        .iter()
        .map(|(group, version)| {
            ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural)
        })
        .collect()
}
