//! The Calico `BGPPeer` resource: model, validation, warnings and defaults. Pure: no I/O.
//!
//! PLACEHOLDER: this file states the module's public contract; the `validation` branch replaces
//! the bodies with every Calico rule.

use serde_json::Value;

use crate::field::ErrorList;

/// The API group (and version) a BGPPeer was written in. The rules differ slightly: only
/// `projectcalico.org/v3` accepts AS numbers as (dotted) strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ApiGroup {
    /// `crd.projectcalico.org/v1`: the CRD that `kubectl apply` writes directly.
    CrdV1,
    /// `projectcalico.org/v3`: calicoctl, the Calico API server, or the v3 CRD.
    V3,
}

impl ApiGroup {
    /// The API group of an `apiVersion` such as `crd.projectcalico.org/v1`, if it is one of ours.
    pub fn from_api_version(api_version: &str) -> Option<Self> {
        match api_version {
            "crd.projectcalico.org/v1" => Some(ApiGroup::CrdV1),
            "projectcalico.org/v3" => Some(ApiGroup::V3),
            _ => None,
        }
    }

    /// The API group name (`crd.projectcalico.org` or `projectcalico.org`).
    pub fn group(self) -> &'static str {
        match self {
            ApiGroup::CrdV1 => "crd.projectcalico.org",
            ApiGroup::V3 => "projectcalico.org",
        }
    }

    /// The `apiVersion` string (`crd.projectcalico.org/v1` or `projectcalico.org/v3`).
    pub fn api_version(self) -> &'static str {
        match self {
            ApiGroup::CrdV1 => "crd.projectcalico.org/v1",
            ApiGroup::V3 => "projectcalico.org/v3",
        }
    }
}

/// The outcome of validating one BGPPeer: every error at once, and warnings for valid but risky
/// settings (each at most 120 characters, stable wording).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Field errors; the object is invalid when this is not empty.
    pub errors: ErrorList,
    /// Warnings, shown to the user but never a reason to deny.
    pub warnings: Vec<String>,
}

impl Report {
    /// Whether the object is valid (no errors; warnings do not count).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Validates a whole BGPPeer object (`apiVersion`, `kind`, `metadata`, `spec`) as JSON.
pub fn validate(_group: ApiGroup, _object: &Value) -> Report {
    Report::default()
}

/// The defaults and normalisations to apply to a BGPPeer object, as RFC 6902 operations
/// computed from the raw JSON (unknown content is left untouched).
pub fn defaults(_group: ApiGroup, _object: &Value) -> Vec<json_patch::PatchOperation> {
    Vec::new()
}
