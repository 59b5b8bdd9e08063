//! Field errors in the shape of Kubernetes' `k8s.io/apimachinery/pkg/util/validation/field`.
//!
//! Users read these every day in `kubectl` output, so the webhook speaks the same language:
//!
//! ```text
//! spec.peerIP: Invalid value: "10.0.0.1:0": port must be between 1 and 65535
//! spec.password.secretKeyRef.key: Required value
//! ```
//!
//! A [`FieldError`] renders exactly like Go's `field.Error.Error()`, its
//! [`body`](FieldError::body) like `ErrorBody()` (the `message` of a `metav1.StatusCause`), and its
//! [`reason`](ErrorType::reason) is the matching `metav1.CauseType`.

use std::fmt;

/// A path to a field, such as `spec.filters[2]` or `metadata.labels[app.kubernetes.io/name]`.
///
/// Built from the root with [`Path::new`], then [`child`](Path::child) and
/// [`index`](Path::index) / [`key`](Path::key). Cheap to clone; rendered by `Display`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path {
    rendered: String,
}

impl Path {
    /// A path that starts at the named root field (`Path::new("spec")`).
    pub fn new(root: &str) -> Self {
        Self {
            rendered: root.to_owned(),
        }
    }

    /// The path of a named field below this one (`spec` → `spec.peerIP`).
    #[must_use]
    pub fn child(&self, name: &str) -> Self {
        let mut rendered = String::with_capacity(self.rendered.len() + 1 + name.len());
        rendered.push_str(&self.rendered);
        if !rendered.is_empty() {
            rendered.push('.');
        }
        rendered.push_str(name);
        Self { rendered }
    }

    /// The path of a list element (`spec.filters` → `spec.filters[2]`).
    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        Self {
            rendered: format!("{}[{index}]", self.rendered),
        }
    }

    /// The path of a map entry (`metadata.labels` → `metadata.labels[app]`), as Kubernetes
    /// renders it: the key in brackets, unquoted.
    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        Self {
            rendered: format!("{}[{key}]", self.rendered),
        }
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.rendered
    }

    /// Whether this path is `root` itself or lies below it (`spec.peerIP` is under `spec`).
    pub fn is_under(&self, root: &str) -> bool {
        match self.rendered.strip_prefix(root) {
            Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
            None => false,
        }
    }
}

impl fmt::Display for Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rendered)
    }
}

/// The kind of a field error, as Kubernetes' `field.ErrorType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorType {
    /// The value is not acceptable (`Invalid value`).
    Invalid,
    /// The value has the wrong JSON type (`Invalid value`, reason `FieldValueTypeInvalid`).
    TypeInvalid,
    /// A required field is missing or empty (`Required value`).
    Required,
    /// The field may not be set in this situation (`Forbidden`).
    Forbidden,
    /// The value is not one of an enumerated set (`Unsupported value`).
    NotSupported,
    /// The value is longer than allowed (`Too long`).
    TooLong,
    /// A list holds the same value twice (`Duplicate value`).
    Duplicate,
    /// The field is not part of the schema (`Unknown field`): a typo such as `peerIp`.
    UnknownField,
    /// The value names an object that does not exist (`Not found`).
    NotFound,
}

impl ErrorType {
    /// The text Kubernetes prints for this type (`ErrorType.String()`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::Required => "Required value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::TooLong => "Too long",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::UnknownField => "Unknown field",
            ErrorType::NotFound => "Not found",
        }
    }

    /// The `metav1.StatusCause.reason` for this type (`metav1.CauseType`).
    ///
    /// Kubernetes has no cause type for unknown fields (its decoder rejects them before
    /// validation); they are reported as `FieldValueNotSupported`, the closest existing one.
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::NotSupported | ErrorType::UnknownField => "FieldValueNotSupported",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::NotFound => "FieldValueNotFound",
        }
    }

    /// Whether the rendered body names the offending value (Go omits it for these types).
    fn shows_value(self) -> bool {
        !matches!(
            self,
            ErrorType::Required
                | ErrorType::Forbidden
                | ErrorType::TooLong
                | ErrorType::UnknownField
        )
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field error: where, what kind, the offending value and a human explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldError {
    /// Where the error is (`spec.peerIP`).
    pub path: Path,
    /// What kind of error it is.
    pub error_type: ErrorType,
    /// The offending value, as JSON (shown for `Invalid`, `NotSupported` and `Duplicate`).
    pub value: serde_json::Value,
    /// What is wrong and what is accepted (`port must be between 1 and 65535`). May be empty.
    pub detail: String,
}

impl FieldError {
    /// A value that is not acceptable.
    pub fn invalid(
        path: Path,
        value: impl Into<serde_json::Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(path, ErrorType::Invalid, value.into(), detail.into())
    }

    /// A value of the wrong JSON type; `expected` names the accepted type (`"a string"`).
    pub fn type_invalid(path: Path, value: &serde_json::Value, expected: &str) -> Self {
        Self::new(
            path,
            ErrorType::TypeInvalid,
            value.clone(),
            format!("must be {expected}, not {}", json_type_name(value)),
        )
    }

    /// A required field that is missing or empty.
    pub fn required(path: Path, detail: impl Into<String>) -> Self {
        Self::new(
            path,
            ErrorType::Required,
            serde_json::Value::Null,
            detail.into(),
        )
    }

    /// A field that may not be set here.
    pub fn forbidden(path: Path, detail: impl Into<String>) -> Self {
        Self::new(
            path,
            ErrorType::Forbidden,
            serde_json::Value::Null,
            detail.into(),
        )
    }

    /// A value outside an enumerated set; the detail lists the supported values the way
    /// Kubernetes does (`supported values: "None", "UseNodeIP"`).
    pub fn not_supported(
        path: Path,
        value: impl Into<serde_json::Value>,
        supported: &[&str],
    ) -> Self {
        let quoted: Vec<String> = supported.iter().map(|v| format!("{v:?}")).collect();
        Self::new(
            path,
            ErrorType::NotSupported,
            value.into(),
            format!("supported values: {}", quoted.join(", ")),
        )
    }

    /// A value longer than `max` bytes.
    pub fn too_long(path: Path, actual: usize, max: usize) -> Self {
        Self::new(
            path,
            ErrorType::TooLong,
            serde_json::Value::Null,
            format!("may not be more than {max} bytes (it is {actual})"),
        )
    }

    /// A value that names an object that does not exist (`Not found: "f1": ...`).
    pub fn not_found(
        path: Path,
        value: impl Into<serde_json::Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(path, ErrorType::NotFound, value.into(), detail.into())
    }

    /// A list element that repeats an earlier one.
    pub fn duplicate(path: Path, value: impl Into<serde_json::Value>) -> Self {
        Self::new(path, ErrorType::Duplicate, value.into(), String::new())
    }

    /// A field that is not part of the schema; `known` lists the fields that are.
    pub fn unknown_field(path: Path, known: &[&str]) -> Self {
        let detail = if known.is_empty() {
            String::new()
        } else {
            format!("known fields are {}", known.join(", "))
        };
        Self::new(
            path,
            ErrorType::UnknownField,
            serde_json::Value::Null,
            detail,
        )
    }

    fn new(path: Path, error_type: ErrorType, value: serde_json::Value, detail: String) -> Self {
        Self {
            path,
            error_type,
            value,
            detail,
        }
    }

    /// The error without its path, as Go's `ErrorBody()`:
    /// `Invalid value: "10.0.0.1:0": port must be between 1 and 65535`.
    ///
    /// This is the `message` of the matching `metav1.StatusCause`.
    pub fn body(&self) -> String {
        let mut body = String::from(self.error_type.as_str());
        if self.error_type.shows_value() {
            body.push_str(": ");
            body.push_str(&render_value(&self.value));
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl fmt::Display for FieldError {
    /// `<path>: <body>`, exactly as `kubectl` shows a field error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.body())
    }
}

impl std::error::Error for FieldError {}

/// Renders a bad value as Go's `ErrorBody` does: strings quoted (`%q`), numbers and booleans
/// plain, `null` for nothing, and JSON for objects and arrays.
fn render_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => go_quote(s),
        serde_json::Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

/// Quotes a string the way Go's `%q` does for the characters that occur in practice: backslash,
/// double quote and control characters are escaped; printable Unicode is kept.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The JSON type of a value, for messages (`a string`, `a number`, ...).
pub fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// An ordered list of field errors, as Go's `field.ErrorList`: validation collects every error
/// rather than stopping at the first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorList(Vec<FieldError>);

impl ErrorList {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one error.
    pub fn push(&mut self, error: FieldError) {
        self.0.push(error);
    }

    /// Appends every error of another list.
    pub fn extend(&mut self, other: ErrorList) {
        self.0.extend(other.0);
    }

    /// Whether there are no errors.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The errors, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The errors whose path is under `root` (for example the `spec` errors only).
    pub fn under(&self, root: &str) -> ErrorList {
        ErrorList(
            self.0
                .iter()
                .filter(|e| e.path.is_under(root))
                .cloned()
                .collect(),
        )
    }

    /// The errors joined with `", "`, the way the kube-apiserver writes them in a `Status`
    /// message after `... is invalid: `.
    pub fn joined(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl From<Vec<FieldError>> for ErrorList {
    fn from(errors: Vec<FieldError>) -> Self {
        Self(errors)
    }
}

impl IntoIterator for ErrorList {
    type Item = FieldError;
    type IntoIter = std::vec::IntoIter<FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ErrorList {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for ErrorList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.joined())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str) -> Path {
        Path::new("spec").child(name)
    }

    #[test]
    fn invalid_renders_like_kubectl() {
        let err = FieldError::invalid(
            spec("peerIP"),
            "10.0.0.1:0",
            "port must be between 1 and 65535",
        );
        assert_eq!(
            err.to_string(),
            r#"spec.peerIP: Invalid value: "10.0.0.1:0": port must be between 1 and 65535"#
        );
        assert_eq!(err.error_type.reason(), "FieldValueInvalid");
    }

    #[test]
    fn numbers_render_plain() {
        let err = FieldError::invalid(spec("ttlSecurity"), 256, "must be between 0 and 255");
        assert_eq!(
            err.to_string(),
            "spec.ttlSecurity: Invalid value: 256: must be between 0 and 255"
        );
    }

    #[test]
    fn required_and_forbidden_hide_the_value() {
        let path = spec("password").child("secretKeyRef").child("key");
        assert_eq!(
            FieldError::required(path, "").to_string(),
            "spec.password.secretKeyRef.key: Required value"
        );
        assert_eq!(
            FieldError::forbidden(spec("node"), "node and nodeSelector cannot both be set")
                .to_string(),
            "spec.node: Forbidden: node and nodeSelector cannot both be set"
        );
    }

    #[test]
    fn not_supported_lists_values() {
        let err = FieldError::not_supported(spec("sourceAddress"), "Bogus", &["UseNodeIP", "None"]);
        assert_eq!(
            err.to_string(),
            r#"spec.sourceAddress: Unsupported value: "Bogus": supported values: "UseNodeIP", "None""#
        );
        assert_eq!(err.error_type.reason(), "FieldValueNotSupported");
    }

    #[test]
    fn paths_render_indices_and_keys() {
        let path = spec("filters").index(2);
        assert_eq!(path.to_string(), "spec.filters[2]");
        assert_eq!(
            Path::new("metadata").child("labels").key("a/b").to_string(),
            "metadata.labels[a/b]"
        );
        assert!(path.is_under("spec"));
        assert!(path.is_under("spec.filters"));
        assert!(!path.is_under("spec.filter"));
        assert!(!Path::new("specs").is_under("spec"));
    }

    #[test]
    fn unknown_field_and_type_errors() {
        assert_eq!(
            FieldError::unknown_field(spec("peerIp"), &[]).to_string(),
            "spec.peerIp: Unknown field"
        );
        let err = FieldError::type_invalid(spec("peerIP"), &serde_json::json!(5), "a string");
        assert_eq!(
            err.to_string(),
            "spec.peerIP: Invalid value: 5: must be a string, not a number"
        );
        assert_eq!(err.error_type.reason(), "FieldValueTypeInvalid");
    }

    #[test]
    fn go_quote_escapes_like_go() {
        assert_eq!(go_quote("a\"b\\c\nd"), r#""a\"b\\c\nd""#);
        assert_eq!(go_quote("\u{1}"), r#""\x01""#);
        assert_eq!(go_quote("é"), "\"é\"");
    }

    #[test]
    fn list_joins_with_comma() {
        let mut list = ErrorList::new();
        list.push(FieldError::invalid(spec("peerIP"), "x", "bad"));
        list.push(FieldError::forbidden(
            Path::new("metadata").child("name"),
            "no",
        ));
        assert_eq!(
            list.joined(),
            r#"spec.peerIP: Invalid value: "x": bad, metadata.name: Forbidden: no"#
        );
        assert_eq!(list.under("spec").len(), 1);
    }
}
