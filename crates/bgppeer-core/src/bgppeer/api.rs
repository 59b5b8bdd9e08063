//! The one place for the Calico API's names and numeric limits: groups, versions, kinds,
//! resources, and the bounds the CRD schemas and the Go types put on values. Every other module
//! refers to these constants instead of spelling the strings or numbers again. Pure: no I/O.

/// The group of the CRDs that `kubectl apply` writes and calico-node reads.
pub const CRD_GROUP: &str = "crd.projectcalico.org";
/// The version of [`CRD_GROUP`].
pub const CRD_VERSION: &str = "v1";
/// The group that calicoctl, the Calico API server and Calico's v3 CRDs serve.
pub(crate) const V3_GROUP: &str = "projectcalico.org";
/// The version of `V3_GROUP`.
pub const V3_VERSION: &str = "v3";
/// `crd.projectcalico.org/v1`.
pub const CRD_API_VERSION: &str = "crd.projectcalico.org/v1";
/// `projectcalico.org/v3`.
pub(crate) const V3_API_VERSION: &str = "projectcalico.org/v3";
/// The kind this crate validates.
pub const BGP_PEER_KIND: &str = "BGPPeer";
/// The resource (plural) of [`BGP_PEER_KIND`].
pub const BGP_PEER_RESOURCE: &str = "bgppeers";
/// The kind a BGPPeer's `spec.filters` names.
pub const BGP_FILTER_KIND: &str = "BGPFilter";
/// The resource (plural) of [`BGP_FILTER_KIND`].
pub const BGP_FILTER_RESOURCE: &str = "bgpfilters";
/// The cluster-wide BGP settings kind the cluster index keeps (mesh, AS number, listen port).
pub const BGP_CONFIGURATION_KIND: &str = "BGPConfiguration";
/// The resource (plural) of [`BGP_CONFIGURATION_KIND`].
pub const BGP_CONFIGURATION_RESOURCE: &str = "bgpconfigurations";

/// The largest value an `integer` field with `format: int32` accepts (the CRDs declare the AS
/// numbers so; Kubernetes 1.36 and later enforce the format).
pub(crate) const INT32_MAX: u32 = 2_147_483_647;
/// The largest AS number (`numorstring.ASNumber` is a uint32).
pub(crate) const AS_NUMBER_MAX: u32 = u32::MAX;
/// The largest half of a dotted AS number (`x.y`, each 0–65535).
pub(crate) const AS_DOT_PART_MAX: u32 = 65_535;
/// The smallest port a `peerIP` may name (the largest is `u16::MAX`).
pub(crate) const PORT_MIN: u16 = 1;
/// The TCP port BGP uses when `peerIP` names none.
pub(crate) const BGP_PORT: u16 = 179;
/// The CRDs' `maxLength` for `node`: a DNS-1123 subdomain's.
pub(crate) const NODE_MAX_LEN: usize = super::names::DNS1123_SUBDOMAIN_MAX_LEN;
/// The CRDs' `maxLength` for `peerIP` and `reachableBy`; every valid value is shorter.
pub(crate) const ADDRESS_MAX_LEN: usize = 64;
/// The largest `ttlSecurity` (a uint8 in Go).
pub(crate) const TTL_SECURITY_MAX: u8 = u8::MAX;
/// The longest password BIRD accepts for a BGP session (TCP MD5 keys are at most 80 bytes).
pub(crate) const MAX_PASSWORD_BYTES: usize = 80;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_are_group_slash_version() {
        assert_eq!(CRD_API_VERSION, format!("{CRD_GROUP}/{CRD_VERSION}"));
        assert_eq!(V3_API_VERSION, format!("{V3_GROUP}/{V3_VERSION}"));
        assert_eq!(i64::from(INT32_MAX), i64::from(i32::MAX));
    }
}
