//! The Calico `BGPPeer` resource: model, validation, warnings and defaults. Pure: no I/O.
//!
//! [`validate`] decides whether a BGPPeer is valid exactly as Calico would (the Go validator of
//! v3.28 plus the CRD schema and CEL rules of v3.32+/master), and says why in Kubernetes'
//! field-error format. [`defaults()`] returns the JSON Patch the mutating webhook applies.
//!
//! Validation parses as it checks: the [`Report`] carries, beside the errors and warnings, the
//! typed [`Peer`] (see [`peer`] for what a consumer may rely on when there are errors), which
//! every other module consumes instead of raw JSON.
//!
//! Modules, one job each: [`api`] (names and limits), [`peer`] (the typed peer), [`model`] (typed
//! values), `metadata`, `spec` (field rules), `rules` (cross-field rules), [`warnings`],
//! `defaults`](mod@defaults), [`tags`] (YAML tags on a peer are errors), and the value parsers [`ip`, [`asnumber`], [`duration`],
//! `names`.

use serde_json::Value;

use crate::field::{ErrorList, FieldError, Path};

pub mod api;
pub mod asnumber;
pub(crate) mod defaults;
pub mod duration;
pub mod ip;
pub(crate) mod metadata;
pub mod model;
pub(crate) mod names;
pub mod peer;
pub(crate) mod rules;
pub(crate) mod spec;
pub mod tags;
pub mod warnings;

pub use peer::{Field, Peer, Remote, Scope, ScopeKey};

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
    /// Every supported `apiVersion`, for messages.
    pub const API_VERSIONS: [&'static str; 2] = [api::CRD_API_VERSION, api::V3_API_VERSION];

    /// The API group of an `apiVersion` such as `crd.projectcalico.org/v1`, if it is one of ours.
    pub fn from_api_version(api_version: &str) -> Option<Self> {
        match api_version {
            api::CRD_API_VERSION => Some(ApiGroup::CrdV1),
            api::V3_API_VERSION => Some(ApiGroup::V3),
            _ => None,
        }
    }

    /// The API group name (`crd.projectcalico.org` or `projectcalico.org`).
    pub fn group(self) -> &'static str {
        match self {
            ApiGroup::CrdV1 => api::CRD_GROUP,
            ApiGroup::V3 => api::V3_GROUP,
        }
    }

    /// The `apiVersion` string (`crd.projectcalico.org/v1` or `projectcalico.org/v3`).
    pub fn api_version(self) -> &'static str {
        match self {
            ApiGroup::CrdV1 => api::CRD_API_VERSION,
            ApiGroup::V3 => api::V3_API_VERSION,
        }
    }
}

/// The outcome of validating one BGPPeer: every error at once (the first
/// [`MAX_ERRORS`](crate::field::MAX_ERRORS) kept, the rest counted), warnings for valid but
/// risky settings (each at most 120 characters, stable wording, at most
/// [`MAX_WARNINGS`](warnings::MAX_WARNINGS)), and the typed peer.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    /// Field errors; the object is invalid when this is not empty.
    pub errors: ErrorList,
    /// Warnings, shown to the user but never a reason to deny.
    pub warnings: Vec<String>,
    /// The peer as parsed: complete when there are no errors; otherwise only its `Valid` fields
    /// can be trusted (see [`peer`]).
    pub peer: Peer,
}

impl Report {
    /// Whether the object is valid (no errors; warnings do not count).
    pub fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Validates a whole BGPPeer object (`apiVersion`, `kind`, `metadata`, `spec`) as JSON.
///
/// The caller has already chosen the API group (from the admission request or the document's
/// `apiVersion`). Errors come in a fixed order: `metadata`, then unknown `spec` fields, then the
/// `spec` fields in declaration order ([`peer::SPEC_FIELDS`]), then the cross-field rules. A
/// missing or `null` spec is an empty spec, which Calico accepts.
pub fn validate(group: ApiGroup, object: &Value) -> Report {
    let mut report = Report {
        errors: ErrorList::new(),
        warnings: Vec::new(),
        peer: Peer::invalid(),
    };
    let Some(map) = object.as_object() else {
        report.errors.push(FieldError::type_invalid(
            Path::new("object"),
            object,
            "a JSON object",
        ));
        return report;
    };
    report.peer.name = metadata::validate(
        map.get("metadata"),
        &mut report.errors,
        &mut report.warnings,
    );

    let path = Path::new("spec");
    let empty = serde_json::Map::new();
    let raw_spec = match map.get("spec") {
        None | Some(Value::Null) => &empty,
        Some(Value::Object(spec)) => spec,
        Some(other) => {
            report
                .errors
                .push(FieldError::type_invalid(path, other, "an object"));
            return report;
        }
    };
    let checked = spec::check(group, raw_spec, &path, &mut report.errors);
    rules::check(raw_spec, &checked, &path, &mut report.errors);
    warnings::collect(group, map.get("spec"), &checked, &mut report.warnings);
    report.warnings = warnings::cap(std::mem::take(&mut report.warnings));
    report.peer.spec = checked.spec;
    report.peer.text_as_numbers = checked.as_numbers_written_as_text;
    report
}

/// Validates a whole object whose `apiVersion` is read from the object itself: the entry point
/// for documents that do not come with an admission request (`bgppeer-webhook check`).
///
/// An `apiVersion` that is not one of [`ApiGroup::API_VERSIONS`] is an error, as in calicoctl.
pub fn validate_document(object: &Value) -> Report {
    let api_version = object.get("apiVersion");
    match api_version
        .and_then(Value::as_str)
        .and_then(ApiGroup::from_api_version)
    {
        Some(group) => validate(group, object),
        None => {
            let mut errors = ErrorList::new();
            errors.push(FieldError::not_supported(
                Path::new("apiVersion"),
                api_version.cloned().unwrap_or(Value::Null),
                &ApiGroup::API_VERSIONS,
            ));
            Report {
                errors,
                warnings: Vec::new(),
                peer: Peer::invalid(),
            }
        }
    }
}

/// The defaults and normalisations to apply to a BGPPeer object, as RFC 6902 operations. See
/// `mod@defaults`: the object is validated (without judging it: `/mutate` never denies) so
/// that the facts come from the typed [`Peer`], and the operations address the raw JSON
/// (unknown content is left untouched).
///
/// Both groups get the same operations: the string-to-integer conversion is what lets dotted AS
/// numbers through the `crd.projectcalico.org/v1` schema, and is harmless on `projectcalico.org/v3`
/// (whose v3.32+ CRD also wants integers).
pub fn defaults(group: ApiGroup, object: &Value) -> Vec<json_patch::PatchOperation> {
    defaults::operations(object, &validate(group, object).peer)
}
