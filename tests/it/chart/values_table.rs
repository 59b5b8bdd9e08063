//! The values table of the chart README, generated from `values.yaml` and its comments (pure: text
//! in, text out; the tests in `chart.rs` read and write the files).
//!
//! The comments follow the helm-docs convention: a comment block starting with `# --` directly
//! above a key describes that key; the lines after the `# --` line, up to the key, continue the
//! description. Plain comments (without `--`) before the `# --` line are notes for readers of
//! values.yaml and are left out.
//!
//! Which keys get a row:
//! - a described key gets one row, whatever its value: a described map or list (such as
//!   `resources`) is one row whose default is the whole value, and keys inside it get none;
//! - an undescribed key whose value is a non-empty map (such as `image`) is only a heading in the
//!   key path: its keys are visited;
//! - any other undescribed key is an error: every value a user can set must be described.
//!
//! The values themselves come from the YAML parser (serde-saphyr), the types from
//! `values.schema.json` where it declares them; the comments are read line by line, because the
//! parser drops them.

use serde_json::Value;

/// One row of the table.
#[derive(Debug, PartialEq)]
pub(super) struct Row {
    /// Dotted key path, e.g. `tls.certManager.duration`.
    pub key: String,
    pub kind: String,
    /// The default value as compact JSON.
    pub default: String,
    pub description: String,
}

/// The rows for `values_yaml`, in file order; or every key that has no description (one message
/// per key, naming its line), and any line the scanner could not match to a parsed value.
pub(super) fn rows(values_yaml: &str, schema: &Value) -> Result<Vec<Row>, Vec<String>> {
    let values: Value = serde_saphyr::from_str(values_yaml)
        .map_err(|error| vec![format!("values.yaml is not valid YAML: {error}")])?;
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    // Keys above the current line: (indentation, key).
    let mut parents: Vec<(usize, String)> = Vec::new();
    // The description being collected (`# --` seen, key not yet reached).
    let mut description: Option<Vec<String>> = None;
    // Lines indented deeper than this belong to the value of a key that already has its row
    // (or is a list): they get no rows of their own.
    let mut inside_value_of: Option<usize> = None;

    for (index, line) in values_yaml.lines().enumerate() {
        let number = index + 1;
        let text = line.trim_start();
        let indent = line.len() - text.len();
        if text.is_empty() {
            description = None;
            continue;
        }
        if let Some(depth) = inside_value_of {
            if indent > depth {
                continue;
            }
            inside_value_of = None;
        }
        if let Some(comment) = text.strip_prefix('#') {
            if let Some(first) = comment.strip_prefix(" --").or(comment.strip_prefix("--")) {
                description = Some(vec![first.trim().to_owned()]);
            } else if let Some(lines) = description.as_mut() {
                lines.push(comment.trim().to_owned());
            }
            continue;
        }
        if text.starts_with("- ") || text == "-" {
            // A list item outside any described key's value: its key has already been reported.
            description = None;
            continue;
        }
        let Some(key) = key_of(text) else {
            errors.push(format!(
                "values.yaml line {number}: expected `key: value`, a comment or a list item"
            ));
            description = None;
            continue;
        };
        while parents.last().is_some_and(|(depth, _)| *depth >= indent) {
            parents.pop();
        }
        let path: Vec<&str> = parents
            .iter()
            .map(|(_, key)| key.as_str())
            .chain(std::iter::once(key))
            .collect();
        let dotted = path.join(".");
        let Some(value) = lookup(&values, &path) else {
            errors.push(format!(
                "values.yaml line {number}: `{dotted}` is not where the YAML parser put it \
                 (write every key on its own line, indented by two spaces per level)"
            ));
            description = None;
            continue;
        };
        match description.take() {
            Some(lines) => {
                rows.push(Row {
                    key: dotted,
                    kind: kind(schema, &path, value),
                    default: serde_json::to_string(value).unwrap_or_default(),
                    description: lines
                        .join(" ")
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" "),
                });
                inside_value_of = Some(indent);
            }
            None if value.as_object().is_some_and(|map| !map.is_empty()) => {}
            None => {
                errors.push(format!(
                    "values.yaml line {number}: `{dotted}` has no description: add a `# -- ...` \
                     comment directly above it"
                ));
                inside_value_of = Some(indent);
            }
        }
        parents.push((indent, key.to_owned()));
    }
    if errors.is_empty() {
        Ok(rows)
    } else {
        Err(errors)
    }
}

/// The key of a `key: value` or `key:` line (plain keys only, as values.yaml writes them).
fn key_of(text: &str) -> Option<&str> {
    let (key, rest) = text.split_once(':')?;
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    (plain && (rest.is_empty() || rest.starts_with(' '))).then_some(key)
}

fn lookup<'a>(values: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(values, |value, key| value.get(key))
}

/// The type the schema declares for `path` ("int or null", "int or string"), else the type of
/// the default value.
fn kind(schema: &Value, path: &[&str], value: &Value) -> String {
    let declared = path
        .iter()
        .try_fold(schema, |node, key| node.get("properties")?.get(key));
    let mut names: Vec<&str> = match declared {
        Some(node) => match (&node["type"], &node["oneOf"]) {
            (Value::String(name), _) => vec![name.as_str()],
            (Value::Array(names), _) => names.iter().filter_map(Value::as_str).collect(),
            (_, Value::Array(options)) => options
                .iter()
                .filter_map(|option| option["type"].as_str())
                .collect(),
            _ => Vec::new(),
        },
        None => Vec::new(),
    };
    if names.is_empty() {
        names.push(match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(number) if number.is_i64() || number.is_u64() => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        });
    }
    names
        .iter()
        .map(|name| match *name {
            "integer" => "int",
            "boolean" => "bool",
            "array" => "list",
            "number" => "float",
            other => other,
        })
        .collect::<Vec<_>>()
        .join(" or ")
}

/// The Markdown table: key, type, default, description.
pub(super) fn render(rows: &[Row]) -> String {
    let mut table =
        String::from("| Key | Type | Default | Description |\n| --- | --- | --- | --- |\n");
    for row in rows {
        table.push_str(&format!(
            "| `{}` | {} | `{}` | {} |\n",
            row.key,
            row.kind,
            row.default.replace('|', "\\|"),
            prose(&row.description)
        ));
    }
    table
}

/// A description as a table cell: `|` would end the cell, and outside code spans `<name>` would
/// be taken for an HTML tag and vanish.
fn prose(text: &str) -> String {
    let mut cell = String::with_capacity(text.len());
    let mut in_code = false;
    for c in text.chars() {
        match c {
            '`' => {
                in_code = !in_code;
                cell.push(c);
            }
            '|' => cell.push_str("\\|"),
            '<' if !in_code => cell.push_str("&lt;"),
            '>' if !in_code => cell.push_str("&gt;"),
            _ => cell.push(c),
        }
    }
    cell
}

#[test]
fn values_table_rows_follow_the_helm_docs_convention() {
    let yaml = "\
# A note for readers: not part of any description.
# -- Number of pods.
replicaCount: 2
image:
  # -- Image repository;
  # continued here.
  repository: web
# -- Resources, one row.
resources:
  limits:
    cpu: 1
# -- Peers | allowed from <ns>, `<not a tag>`.
from:
  - namespaceSelector: {}
    podSelector:
      app: x
";
    let schema = serde_json::json!({"properties": {"replicaCount": {"type": ["integer", "null"]}}});
    let rows = rows(yaml, &schema).unwrap();
    let keys: Vec<&str> = rows.iter().map(|row| row.key.as_str()).collect();
    assert_eq!(
        keys,
        ["replicaCount", "image.repository", "resources", "from"]
    );
    assert_eq!(rows[0].kind, "int or null");
    assert_eq!(rows[1].description, "Image repository; continued here.");
    assert_eq!(rows[2].default, r#"{"limits":{"cpu":1}}"#);
    assert_eq!(rows[2].kind, "object");
    assert!(
        render(&rows).contains("| `from` | list | `[{\"namespaceSelector\":{},\"podSelector\":{\"app\":\"x\"}}]` | Peers \\| allowed from &lt;ns&gt;, `<not a tag>`. |")
    );
}

#[test]
fn values_table_refuses_a_value_without_a_description() {
    let yaml = "\
image:
  # -- Described.
  repository: web
  tag: \"\"

# -- A blank line ends a description.

orphan: 1
";
    let errors = rows(yaml, &Value::Null).unwrap_err();
    assert_eq!(
        errors,
        [
            "values.yaml line 4: `image.tag` has no description: add a `# -- ...` comment \
             directly above it",
            "values.yaml line 8: `orphan` has no description: add a `# -- ...` comment \
             directly above it",
        ]
    );
}
