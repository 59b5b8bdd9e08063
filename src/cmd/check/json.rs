//! The JSON report of `check` (`-o json`): a stable schema, versioned by
//! [`JSON_SCHEMA_VERSION`] and described by `docs/schemas/check.schema.json` (JSON Schema 2020-12).

use serde::Serialize;

use crate::report::JsonError;

use super::{Location, Outcome};
use crate::manifests::LoadError;

/// The version of the `-o json` output schema; bumped only on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;

/// The `-o json` document (schema version [`JSON_SCHEMA_VERSION`], described by
/// `docs/schemas/check.schema.json`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput<'a> {
    schema_version: u32,
    valid: bool,
    exit_code: u8,
    summary: JsonSummary,
    results: Vec<JsonPeer<'a>>,
    skipped: Vec<JsonSkipped<'a>>,
    failures: Vec<JsonFailure>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    files: usize,
    bgp_peers: usize,
    valid: usize,
    invalid: usize,
    errors: usize,
    warnings: usize,
    skipped: usize,
    failures: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonLocation<'a> {
    file: &'a str,
    document: usize,
    item: Option<usize>,
    line: Option<u64>,
}

impl<'a> From<&'a Location> for JsonLocation<'a> {
    fn from(location: &'a Location) -> Self {
        Self {
            file: &location.file,
            document: location.document,
            item: location.item,
            line: location.line,
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPeer<'a> {
    #[serde(flatten)]
    location: JsonLocation<'a>,
    api_version: Option<&'a str>,
    name: Option<std::borrow::Cow<'a, str>>,
    valid: bool,
    errors: Vec<JsonError>,
    warnings: &'a [String],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSkipped<'a> {
    #[serde(flatten)]
    location: JsonLocation<'a>,
    api_version: Option<&'a str>,
    kind: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonFailure {
    file: String,
    line: Option<u64>,
    column: Option<u64>,
    message: String,
}

impl From<&LoadError> for JsonFailure {
    fn from(err: &LoadError) -> Self {
        let (file, line, column, message) = match err {
            LoadError::Parse {
                source_name,
                line,
                column,
                message,
            } => (source_name.clone(), *line, *column, message.clone()),
            LoadError::Read { source_name, error } => {
                (source_name.clone(), None, None, error.to_string())
            }
            LoadError::TooLarge { source_name, .. }
            | LoadError::NotUtf8 { source_name }
            | LoadError::NoSuchPath { source_name }
            | LoadError::NoManifests { source_name } => {
                let text = err.to_string();
                let message = text
                    .strip_prefix(&format!("{source_name}: "))
                    .unwrap_or(&text)
                    .to_owned();
                (source_name.clone(), None, None, message)
            }
        };
        Self {
            file,
            line,
            column,
            message,
        }
    }
}

/// The JSON report, pretty-printed.
pub(crate) fn render(outcome: &Outcome) -> String {
    let invalid = outcome
        .peers
        .iter()
        .filter(|p| !p.report.is_valid())
        .count();
    let output = JsonOutput {
        schema_version: JSON_SCHEMA_VERSION,
        valid: outcome.exit_code() == 0,
        exit_code: outcome.exit_code(),
        summary: JsonSummary {
            files: outcome.files,
            bgp_peers: outcome.peers.len(),
            valid: outcome.peers.len() - invalid,
            invalid,
            errors: outcome.peers.iter().map(|p| p.report.errors.len()).sum(),
            warnings: outcome.peers.iter().map(|p| p.report.warnings.len()).sum(),
            skipped: outcome.skipped.len(),
            failures: outcome.failures.len(),
        },
        results: outcome
            .peers
            .iter()
            .map(|peer| JsonPeer {
                location: (&peer.location).into(),
                api_version: peer.api_version.as_deref(),
                name: peer.name.as_deref().map(|name| {
                    bgppeer_core::field::shorten(name, bgppeer_core::field::MAX_NAME_LEN)
                }),
                valid: peer.report.is_valid(),
                errors: peer
                    .report
                    .errors
                    .shown()
                    .map(|error| JsonError::from(&error))
                    .collect(),
                warnings: &peer.report.warnings,
            })
            .collect(),
        skipped: outcome
            .skipped
            .iter()
            .map(|s| JsonSkipped {
                location: (&s.location).into(),
                api_version: s.api_version.as_deref(),
                kind: s.kind.as_deref(),
            })
            .collect(),
        failures: outcome.failures.iter().map(JsonFailure::from).collect(),
    };
    // Serialising these plain structs cannot fail; fall back to a minimal document regardless.
    serde_json::to_string_pretty(&output).unwrap_or_else(|err| {
        format!(
            "{{\"schemaVersion\": {JSON_SCHEMA_VERSION}, \"error\": {:?}}}",
            err.to_string()
        )
    })
}
