//! The `selector` subcommand: parse a Calico selector, print its canonical form, and optionally
//! evaluate it against a set of labels. A debugging aid for `nodeSelector` / `peerSelector`.
//!
//! Exit codes: 0 valid (and matching, when labels are given), 1 invalid selector, 2 unusable
//! arguments or labels file, 3 valid but not matching.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::Value;

use super::output;
use calico_selector as selector;

/// Labels to evaluate a selector against, by name.
pub(crate) type LabelMap = BTreeMap<String, String>;

/// Arguments of `bgppeer-webhook selector`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Exit status: 0 valid (and matching), 1 invalid selector, \
                        2 bad arguments or labels file, 3 valid but not matching."
)]
pub(crate) struct Args {
    /// The selector, for example "rack == 'r1' && has(route-reflector)" (quote it for the
    /// shell). An empty selector means all().
    #[arg(value_name = "EXPR", allow_hyphen_values = true)]
    pub(crate) expr: String,

    /// Evaluate the selector against these labels, given as KEY=VALUE pairs separated by commas
    /// (for example rack=r1,role=tor; an empty string means no labels).
    #[arg(long, value_name = "KEY=VALUE,...", value_parser = parse_label_list)]
    pub(crate) labels: Option<LabelMap>,

    /// Evaluate the selector against the labels in this JSON file: an object of label names to
    /// string values, such as a node's .metadata.labels ("-" reads standard input).
    #[arg(long, value_name = "FILE", conflicts_with = "labels")]
    pub(crate) labels_file: Option<PathBuf>,
}

/// Runs `bgppeer-webhook selector`.
pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let labels = match (args.labels, &args.labels_file) {
        (Some(labels), _) => Some(labels),
        (None, Some(path)) => Some(read_labels_file(path)?),
        (None, None) => None,
    };
    let sel = match selector::parse_field(&args.expr) {
        Ok(sel) => sel,
        Err(err) => {
            output::eprint_line(&err.render(&args.expr));
            return Ok(ExitCode::from(1));
        }
    };
    for warning in selector::warnings(&args.expr) {
        output::eprint_line(&format!("warning: {warning}"));
    }
    let (verdict, code) = match labels {
        None => (None, ExitCode::SUCCESS),
        Some(labels) if sel.matches(&labels) => (Some("matches"), ExitCode::SUCCESS),
        Some(_) => (Some("does not match"), ExitCode::from(3)),
    };
    let mut report = format!("{sel}\n");
    if let Some(verdict) = verdict {
        report.push_str(verdict);
        report.push('\n');
    }
    output::print(&report)?;
    Ok(code)
}

/// Parses `--labels`: `KEY=VALUE` pairs separated by commas. Values may be empty and may contain
/// `=`; keys may not be empty or repeated.
fn parse_label_list(text: &str) -> Result<LabelMap, String> {
    let mut labels = LabelMap::new();
    if text.is_empty() {
        return Ok(labels);
    }
    for item in text.split(',') {
        let Some((key, value)) = item.split_once('=') else {
            return Err(format!(
                "{item:?} is not KEY=VALUE; separate labels with commas, e.g. rack=r1,role=tor"
            ));
        };
        if key.is_empty() {
            return Err(format!("{item:?} has an empty label name"));
        }
        if labels.insert(key.to_owned(), value.to_owned()).is_some() {
            return Err(format!("label {key:?} is given more than once"));
        }
    }
    Ok(labels)
}

/// Reads a JSON object of string label values from `path` (`-` is standard input).
fn read_labels_file(path: &Path) -> anyhow::Result<LabelMap> {
    let text = if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("cannot read labels from standard input")?;
        text
    } else {
        std::fs::read_to_string(path)
            .with_context(|| format!("cannot read labels file {}", path.display()))?
    };
    labels_from_json(&text).with_context(|| format!("invalid labels file {}", path.display()))
}

/// Converts a JSON object of strings into labels, naming the first offending entry otherwise.
fn labels_from_json(text: &str) -> anyhow::Result<LabelMap> {
    let value: Value = serde_json::from_str(text).context("not valid JSON")?;
    let Value::Object(entries) = value else {
        bail!(
            "expected a JSON object of label names to string values, found {}",
            json_type(&value)
        );
    };
    entries
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(value) => Ok((key, value)),
            other => bail!(
                "label {key:?} has a {} value; label values must be strings",
                json_type(&other)
            ),
        })
        .collect()
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_lists() {
        assert_eq!(parse_label_list("").unwrap(), LabelMap::new());
        assert_eq!(
            parse_label_list("a=1,b=,c=x=y").unwrap(),
            LabelMap::from([
                ("a".into(), "1".into()),
                ("b".into(), String::new()),
                ("c".into(), "x=y".into()),
            ])
        );
        assert!(parse_label_list("a").unwrap_err().contains("KEY=VALUE"));
        assert!(
            parse_label_list("a=1,,b=2")
                .unwrap_err()
                .contains("KEY=VALUE")
        );
        assert!(
            parse_label_list("=1")
                .unwrap_err()
                .contains("empty label name")
        );
        assert!(
            parse_label_list("a=1,a=2")
                .unwrap_err()
                .contains("more than once")
        );
    }

    #[test]
    fn label_files() {
        assert_eq!(
            labels_from_json(r#"{"rack": "r1"}"#).unwrap(),
            LabelMap::from([("rack".into(), "r1".into())])
        );
        let err = labels_from_json(r#"{"rack": 1}"#).unwrap_err().to_string();
        assert_eq!(
            err,
            r#"label "rack" has a number value; label values must be strings"#
        );
        let err = labels_from_json("[]").unwrap_err().to_string();
        assert!(err.contains("found array"), "{err}");
        let err = format!("{:#}", labels_from_json("{").unwrap_err());
        assert!(err.starts_with("not valid JSON: "), "{err}");
    }
}
