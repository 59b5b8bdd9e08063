//! The JSON report of `audit -o json`: the schema of `check -o json`'s family (the same
//! `schemaVersion`, `valid`, `exitCode`, `summary`, `results` with `errors` and `warnings`),
//! described exactly by `docs/schemas/audit.schema.json`.

use serde::Serialize;

use crate::report::JsonError;

use super::Audit;
use bgppeer_core::field;

/// The version of the `-o json` output schema; bumped only on incompatible changes.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonOutput<'a> {
    schema_version: u32,
    valid: bool,
    exit_code: u8,
    cluster: &'a str,
    summary: JsonSummary,
    results: Vec<JsonPeer<'a>>,
    notes: &'a [String],
    failures: Vec<JsonFailure<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    bgp_peers: usize,
    valid: usize,
    invalid: usize,
    errors: usize,
    warnings: usize,
    failures: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPeer<'a> {
    api_version: &'static str,
    name: std::borrow::Cow<'a, str>,
    uid: Option<&'a str>,
    valid: bool,
    errors: Vec<JsonError>,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct JsonFailure<'a> {
    message: &'a str,
}

/// The JSON report of the audit of the cluster at `cluster`; `failures` are what could not be
/// read (then `exitCode` is 2 and `audit` holds what was found before, usually nothing).
pub fn render(audit: &Audit, cluster: &str, failures: &[String]) -> String {
    let exit_code = if failures.is_empty() {
        audit.exit_code()
    } else {
        2
    };
    let invalid = audit.invalid();
    let output = JsonOutput {
        schema_version: JSON_SCHEMA_VERSION,
        valid: exit_code == 0,
        exit_code,
        cluster,
        summary: JsonSummary {
            bgp_peers: audit.peers.len(),
            valid: audit.peers.len() - invalid,
            invalid,
            errors: audit.errors(),
            warnings: audit.warnings(),
            failures: failures.len(),
        },
        results: audit
            .peers
            .iter()
            .map(|peer| JsonPeer {
                api_version: peer.group.api_version(),
                name: field::shorten(&peer.name, field::MAX_NAME_LEN),
                uid: peer.uid.as_deref(),
                valid: peer.is_valid(),
                errors: peer.errors.iter().map(JsonError::from).collect(),
                warnings: &peer.warnings,
            })
            .collect(),
        notes: &audit.notes,
        failures: failures
            .iter()
            .map(|message| JsonFailure { message })
            .collect(),
    };
    // Serialising these plain structs cannot fail; fall back to a minimal document regardless.
    serde_json::to_string_pretty(&output).unwrap_or_else(|err| {
        format!(
            "{{\"schemaVersion\": {JSON_SCHEMA_VERSION}, \"error\": {:?}}}",
            err.to_string()
        )
    })
}
