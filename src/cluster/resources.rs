//! The Calico resources the watches follow, in both API groups.
//!
//! Calico serves the same BGPFilter, BGPPeer and BGPConfiguration objects under two API groups:
//! the CRDs `crd.projectcalico.org/v1` (what calico-node reads) and, when the Calico API server
//! is installed (or Calico runs with its `projectcalico.org/v3` CRDs), `projectcalico.org/v3`.
//! Both use the same object names for these cluster-scoped kinds, so a name found in either group
//! is the same object: the index counts it once.

use kube::core::{ApiResource, GroupVersionKind};

use bgppeer_core::bgppeer::{ApiGroup, api};

/// Both API groups, `crd.projectcalico.org` first.
pub(crate) const GROUPS: [ApiGroup; 2] = [ApiGroup::CrdV1, ApiGroup::V3];

/// `BGPFilter` in one group.
pub(crate) fn bgpfilters(group: ApiGroup) -> ApiResource {
    resource(group, api::BGP_FILTER_KIND, api::BGP_FILTER_RESOURCE)
}

/// `BGPPeer` in one group.
pub(crate) fn bgppeers(group: ApiGroup) -> ApiResource {
    resource(group, api::BGP_PEER_KIND, api::BGP_PEER_RESOURCE)
}

/// `BGPConfiguration` in one group.
pub(crate) fn bgpconfigurations(group: ApiGroup) -> ApiResource {
    resource(
        group,
        api::BGP_CONFIGURATION_KIND,
        api::BGP_CONFIGURATION_RESOURCE,
    )
}

fn resource(group: ApiGroup, kind: &str, plural: &str) -> ApiResource {
    let version = match group {
        ApiGroup::CrdV1 => api::CRD_VERSION,
        ApiGroup::V3 => api::V3_VERSION,
    };
    ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group.group(), version, kind), plural)
}
