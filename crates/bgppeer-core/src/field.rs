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
/// Built from the root with `Path::new`, then `child` and
/// `index`](Path::index) / [`key`. Rendered by `Display`, as Kubernetes renders field
/// paths, with any name or key longer than `MAX_PATH_NAME_LEN` bytes cut (a user-chosen key can
/// be megabytes long); `pointer` keeps the exact location as a JSON Pointer.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Path {
    rendered: String,
    /// Boxed to keep `FieldError` (and the `Result`s that carry one) small.
    location: Box<Location>,
}

/// Where a [`Path`] points, exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
struct Location {
    pointer: String,
    /// The length of the rendered path after each segment, so that ancestors can be cut exactly.
    ends: Vec<usize>,
}

/// The longest name or key a rendered [`Path`] shows in full, in bytes; a longer one is cut and
/// marked with `...`.
pub(crate) const MAX_PATH_NAME_LEN: usize = 64;

impl Path {
    /// A path that starts at the named root field (`Path::new("spec")`).
    pub(crate) fn new(root: &str) -> Self {
        let mut path = Self::default();
        path.push_name(root);
        path
    }

    /// The path of a named field below this one (`spec` → `spec.peerIP`).
    #[must_use]
    pub(crate) fn child(&self, name: &str) -> Self {
        let mut path = self.clone();
        path.push_name(name);
        path
    }

    /// The path of a list element (`spec.filters` → `spec.filters[2]`).
    #[must_use]
    pub(crate) fn index(&self, index: usize) -> Self {
        use std::fmt::Write as _;
        let mut path = self.clone();
        let _ = write!(path.rendered, "[{index}]");
        let _ = write!(path.location.pointer, "/{index}");
        path.location.ends.push(path.rendered.len());
        path
    }

    /// The path of a map entry (`metadata.labels` → `metadata.labels[app]`), as Kubernetes
    /// renders it: the key in brackets, unquoted.
    #[must_use]
    pub(crate) fn key(&self, key: &str) -> Self {
        let mut path = self.clone();
        path.rendered.push('[');
        push_cut(&mut path.rendered, key, MAX_PATH_NAME_LEN);
        path.rendered.push(']');
        push_pointer_token(&mut path.location.pointer, key);
        path.location.ends.push(path.rendered.len());
        path
    }

    fn push_name(&mut self, name: &str) {
        if !self.rendered.is_empty() {
            self.rendered.push('.');
        }
        push_cut(&mut self.rendered, name, MAX_PATH_NAME_LEN);
        push_pointer_token(&mut self.location.pointer, name);
        self.location.ends.push(self.rendered.len());
    }

    /// The rendered path.
    pub fn as_str(&self) -> &str {
        &self.rendered
    }

    /// The exact location as an RFC 6901 JSON Pointer (`/spec/filters/2`), for
    /// `serde_json::Value::pointer`. Unlike the rendered path it is never cut.
    pub(crate) fn pointer(&self) -> &str {
        &self.location.pointer
    }

    /// Whether this path is `root` itself or lies below it (`spec.peerIP` is under `spec`).
    pub fn is_under(&self, root: &str) -> bool {
        match self.rendered.strip_prefix(root) {
            Some(rest) => rest.is_empty() || rest.starts_with('.') || rest.starts_with('['),
            None => false,
        }
    }

    /// The longest path that both this path and `other` lie under (`spec.filters[3]` and
    /// `spec.filters[9]` → `spec.filters`); the empty path when they share no field.
    #[must_use]
    pub(crate) fn common_ancestor(&self, other: &Path) -> Path {
        let (mine, theirs) = (&self.location, &other.location);
        let shared = mine
            .pointer
            .split('/')
            .skip(1)
            .zip(theirs.pointer.split('/').skip(1))
            .take_while(|(x, y)| x == y)
            .count();
        if shared == 0 {
            return Path::default();
        }
        let pointer_end = mine
            .pointer
            .match_indices('/')
            .nth(shared)
            .map_or(mine.pointer.len(), |(at, _)| at);
        Path {
            rendered: self.rendered[..mine.ends[shared - 1]].to_owned(),
            location: Box::new(Location {
                pointer: mine.pointer[..pointer_end].to_owned(),
                ends: mine.ends[..shared].to_vec(),
            }),
        }
    }

    /// Whether this is the empty path (the whole object).
    pub(crate) fn is_root(&self) -> bool {
        self.location.ends.is_empty()
    }
}

/// Appends one RFC 6901 reference token (`~` → `~0`, `/` → `~1`) after a `/`.
fn push_pointer_token(pointer: &mut String, token: &str) {
    pointer.push('/');
    for c in token.chars() {
        match c {
            '~' => pointer.push_str("~0"),
            '/' => pointer.push_str("~1"),
            c => pointer.push(c),
        }
    }
}

/// Appends `text`, cut to at most `max` bytes (at a character boundary) and marked with `...`
/// when it is longer.
fn push_cut(out: &mut String, text: &str, max: usize) {
    if text.len() <= max {
        out.push_str(text);
    } else {
        out.push_str(&text[..floor_char_boundary(text, max)]);
        out.push_str("...");
    }
}

/// The largest character boundary of `text` at or below `at`.
fn floor_char_boundary(text: &str, at: usize) -> usize {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
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
    /// There are more of something than allowed (`Too many`). Also the reason of the one cause
    /// that says how many errors were found beyond [`MAX_ERRORS`].
    TooMany,
}

impl ErrorType {
    /// The text Kubernetes prints for this type (`ErrorType.String()`).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            ErrorType::Invalid | ErrorType::TypeInvalid => "Invalid value",
            ErrorType::Required => "Required value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::TooLong => "Too long",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::UnknownField => "Unknown field",
            ErrorType::NotFound => "Not found",
            ErrorType::TooMany => "Too many",
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
            ErrorType::TooMany => "FieldValueTooMany",
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
                | ErrorType::TooMany
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
    /// The offending value, as JSON (shown for `Invalid`, `NotSupported` and `Duplicate`), cut
    /// to at most `MAX_VALUE_LEN` bytes when rendered (see `cut`).
    pub value: serde_json::Value,
    /// Set when `value` is only the beginning of the offending value.
    pub(crate) cut: Option<ValueCut>,
    /// What is wrong and what is accepted (`port must be between 1 and 65535`). May be empty;
    /// at most [`MAX_DETAIL_LEN`] bytes.
    pub(crate) detail: String,
}

/// The longest offending value an error echoes, in bytes of its rendering: a longer string is
/// cut and marked (`"AAAA..." (truncated, 3145728 bytes)`), a longer object or array is replaced
/// by the beginning of its JSON and marked (`["a","b",... (truncated)`). Values are never echoed
/// in full: a 3 MiB selector must not come back as a 3 MiB message.
pub(crate) const MAX_VALUE_LEN: usize = 128;

/// The longest detail an error carries, in bytes; a longer one is cut and ends with `...`.
pub(crate) const MAX_DETAIL_LEN: usize = 512;

/// How an echoed value was cut.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ValueCut {
    /// A string: `value` holds its first bytes; `bytes` is its full length.
    String {
        /// The full length of the string, in bytes.
        bytes: usize,
    },
    /// An object or array: `value` is a string holding the beginning of its JSON.
    Json,
}

impl FieldError {
    /// A value that is not acceptable.
    pub(crate) fn invalid(
        path: Path,
        value: impl Into<serde_json::Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(path, ErrorType::Invalid, value.into(), detail.into())
    }

    /// A value of the wrong JSON type; `expected` names the accepted type (`"a string"`).
    pub(crate) fn type_invalid(path: Path, value: &serde_json::Value, expected: &str) -> Self {
        let detail = format!("must be {expected}, not {}", json_type_name(value));
        // Cut from the borrowed value: a 3 MiB array is never copied to be echoed.
        let (shown, cut) = match cut_value(value) {
            Some((shown, cut)) => (shown, Some(cut)),
            None => (value.clone(), None),
        };
        Self::new_shown(path, ErrorType::TypeInvalid, shown, cut, detail)
    }

    /// A required field that is missing or empty.
    pub(crate) fn required(path: Path, detail: impl Into<String>) -> Self {
        Self::new(
            path,
            ErrorType::Required,
            serde_json::Value::Null,
            detail.into(),
        )
    }

    /// A field that may not be set here.
    pub(crate) fn forbidden(path: Path, detail: impl Into<String>) -> Self {
        Self::new(
            path,
            ErrorType::Forbidden,
            serde_json::Value::Null,
            detail.into(),
        )
    }

    /// A value outside an enumerated set; the detail lists the supported values the way
    /// Kubernetes does (`supported values: "None", "UseNodeIP"`).
    pub(crate) fn not_supported(
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
    pub(crate) fn too_long(path: Path, actual: usize, max: usize) -> Self {
        Self::new(
            path,
            ErrorType::TooLong,
            serde_json::Value::Null,
            format!("may not be more than {max} bytes (it is {actual})"),
        )
    }

    /// A value that names an object that does not exist (`Not found: "f1": ...`).
    pub(crate) fn not_found(
        path: Path,
        value: impl Into<serde_json::Value>,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(path, ErrorType::NotFound, value.into(), detail.into())
    }

    /// A field that is not part of the schema; `known` lists the fields that are.
    pub(crate) fn unknown_field(path: Path, known: &[&str]) -> Self {
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
        match cut_value(&value) {
            Some((shown, cut)) => Self::new_shown(path, error_type, shown, Some(cut), detail),
            None => Self::new_shown(path, error_type, value, None, detail),
        }
    }

    /// An error whose value is already in its shown form.
    fn new_shown(
        path: Path,
        error_type: ErrorType,
        value: serde_json::Value,
        cut: Option<ValueCut>,
        detail: String,
    ) -> Self {
        let mut detail = detail;
        if detail.len() > MAX_DETAIL_LEN {
            let mut cut_detail = String::with_capacity(MAX_DETAIL_LEN + 3);
            push_cut(&mut cut_detail, &detail, MAX_DETAIL_LEN);
            detail = cut_detail;
        }
        Self {
            path,
            error_type,
            value,
            cut,
            detail,
        }
    }

    /// The error that stands for `count` errors that were found under `path` but not kept:
    /// `spec.filters: Too many: 759,912 more errors not shown`.
    pub(crate) fn more_errors(path: Path, count: usize) -> Self {
        let noun = if count == 1 { "error" } else { "errors" };
        Self::new(
            if path.is_root() {
                Path::new("object")
            } else {
                path
            },
            ErrorType::TooMany,
            serde_json::Value::Null,
            format!("{} more {noun} not shown", thousands(count)),
        )
    }

    /// The error without its path, as Go's `ErrorBody()`:
    /// `Invalid value: "10.0.0.1:0": port must be between 1 and 65535`.
    ///
    /// This is the `message` of the matching `metav1.StatusCause`.
    pub fn body(&self) -> String {
        let mut body = String::from(self.error_type.as_str());
        if self.error_type.shows_value() {
            body.push_str(": ");
            body.push_str(&render_value(&self.value, self.cut));
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
/// plain, `null` for nothing, and JSON for objects and arrays; a cut value ends with its marker.
fn render_value(value: &serde_json::Value, cut: Option<ValueCut>) -> String {
    match (value, cut) {
        (serde_json::Value::String(s), Some(ValueCut::String { bytes })) => {
            format!("{}... (truncated, {bytes} bytes)", go_quote(s))
        }
        (serde_json::Value::String(s), Some(ValueCut::Json)) => format!("{s}... (truncated)"),
        (serde_json::Value::String(s), None) => go_quote(s),
        (serde_json::Value::Null, _) => "null".to_owned(),
        (other, _) => other.to_string(),
    }
}

/// The shown form of a value longer than [`MAX_VALUE_LEN`] bytes of rendering (`None` when it
/// fits), computed without ever rendering or copying more than that: a string keeps its first
/// bytes, an object or array the beginning of its JSON.
fn cut_value(value: &serde_json::Value) -> Option<(serde_json::Value, ValueCut)> {
    match value {
        serde_json::Value::String(s) if s.len() > MAX_VALUE_LEN => {
            let kept = &s[..floor_char_boundary(s, MAX_VALUE_LEN)];
            Some((
                serde_json::Value::String(kept.to_owned()),
                ValueCut::String { bytes: s.len() },
            ))
        }
        serde_json::Value::Array(_) | serde_json::Value::Object(_) => {
            let mut out = Bounded(Vec::with_capacity(MAX_VALUE_LEN + 1));
            // Stops with an error as soon as the JSON passes the limit: never renders it all.
            if serde_json::to_writer(&mut out, value).is_ok() {
                return None;
            }
            let text = String::from_utf8_lossy(&out.0);
            let kept = &text[..floor_char_boundary(&text, MAX_VALUE_LEN)];
            Some((serde_json::Value::String(kept.to_owned()), ValueCut::Json))
        }
        _ => None,
    }
}

/// A writer that holds at most [`MAX_VALUE_LEN`] + 1 bytes and fails once it is full.
struct Bounded(Vec<u8>);

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let room = (MAX_VALUE_LEN + 1).saturating_sub(self.0.len());
        if room == 0 {
            return Err(std::io::Error::other("value too long to echo"));
        }
        let taken = buf.len().min(room);
        self.0.extend_from_slice(&buf[..taken]);
        Ok(taken)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The longest object name echoed in full, in bytes (a DNS-1123 subdomain's limit): a longer
/// name, never valid, is cut and marked with `...` in every answer and report.
pub const MAX_NAME_LEN: usize = 253;

/// `text` cut to at most `max` bytes (at a character boundary) and marked with `...` when it is
/// longer; borrowed when it fits.
pub fn shorten(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if text.len() <= max {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(max + 3);
    push_cut(&mut out, text, max);
    std::borrow::Cow::Owned(out)
}

/// A count with thousands separators (`759912` → `759,912`), easier to read in a message.
pub(crate) fn thousands(count: usize) -> String {
    let digits = count.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
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
pub(crate) fn json_type_name(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// The most errors an [`ErrorList`] keeps; the rest are counted, and shown as one
/// [`more_errors`](ErrorList::more_errors) cause (`spec.filters: Too many: 759,912 more errors
/// not shown`).
pub const MAX_ERRORS: usize = 100;

/// The most bytes of rendered errors an [`ErrorList`] keeps (path plus body, summed); an error
/// that would pass it is counted instead of kept, so that a denial stays far below 64 KiB
/// whatever the errors echo.
pub(crate) const MAX_ERRORS_BYTES: usize = 32 * 1024;

/// An ordered list of field errors, as Go's `field.ErrorList`: validation collects every error
/// rather than stopping at the first.
///
/// Bounded by construction: it keeps the first [`MAX_ERRORS`] errors (and at most
/// `MAX_ERRORS_BYTES` of them rendered) and only counts the others, remembering the longest
/// path they all lie under. `push_with` does not even build an error
/// that would not be kept, so collecting 760,000 errors costs 760,000 increments.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorList {
    kept: Vec<FieldError>,
    kept_bytes: usize,
    omitted: usize,
    /// The longest path every omitted error lies under (`None` while nothing is omitted).
    omitted_under: Option<Path>,
}

impl ErrorList {
    /// An empty list.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Whether the list keeps no more errors: every further one is only counted.
    pub(crate) fn is_full(&self) -> bool {
        self.kept.len() >= MAX_ERRORS || self.kept_bytes >= MAX_ERRORS_BYTES
    }

    /// Appends one error (or counts it, when the list is full).
    pub(crate) fn push(&mut self, error: FieldError) {
        if self.is_full() {
            self.omit(&error.path, 1);
            return;
        }
        let bytes = error.path.as_str().len() + error.body().len();
        if self.kept_bytes.saturating_add(bytes) > MAX_ERRORS_BYTES {
            // Once one error is counted, every later one is too: the kept errors stay the first
            // ones found, in order.
            self.kept_bytes = MAX_ERRORS_BYTES;
            self.omit(&error.path, 1);
        } else {
            self.kept_bytes += bytes;
            self.kept.push(error);
        }
    }

    /// Appends the error `make` builds, or, when the list is full, only counts it as an error
    /// under `under` (a path the error lies under, cheap to have at hand, such as
    /// `spec.filters` for `spec.filters[123]`) without calling `make`.
    pub(crate) fn push_with(&mut self, under: &Path, make: impl FnOnce() -> FieldError) {
        if self.is_full() {
            self.omit(under, 1);
        } else {
            self.push(make());
        }
    }

    /// Counts `count` errors under `under` that are not kept.
    pub(crate) fn omit(&mut self, under: &Path, count: usize) {
        if count == 0 {
            return;
        }
        self.omitted = self.omitted.saturating_add(count);
        self.omitted_under = Some(match self.omitted_under.take() {
            None => under.clone(),
            Some(previous) if previous == *under => previous,
            Some(previous) => previous.common_ancestor(under),
        });
    }

    /// Appends every error of another list (its counted errors stay counted).
    pub(crate) fn extend(&mut self, other: ErrorList) {
        let (kept, omitted) = other.into_parts();
        for error in kept {
            self.push(error);
        }
        if let Some((under, count)) = omitted {
            self.omit(&under, count);
        }
    }

    /// Whether there are no errors at all.
    pub fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.omitted == 0
    }

    /// How many errors were found, kept or counted.
    pub fn len(&self) -> usize {
        self.kept.len().saturating_add(self.omitted)
    }

    /// The longest path every error that was not kept lies under, with their number.
    pub(crate) fn omitted_under(&self) -> Option<(&Path, usize)> {
        self.omitted_under.as_ref().map(|path| (path, self.omitted))
    }

    /// The kept errors, in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.kept.iter()
    }

    /// The error that says how many more errors there were (`spec.filters: Too many: 759,912
    /// more errors not shown`), when some were not kept.
    pub fn more_errors(&self) -> Option<FieldError> {
        self.omitted_under
            .as_ref()
            .map(|under| FieldError::more_errors(under.clone(), self.omitted))
    }

    /// The kept errors followed by the [`more_errors`](ErrorList::more_errors) error, if any:
    /// what a report shows, at most [`MAX_ERRORS`] + 1 errors.
    pub fn shown(&self) -> impl Iterator<Item = FieldError> + '_ {
        self.kept.iter().cloned().chain(self.more_errors())
    }

    /// The kept errors and, when some were not kept, the path they lie under and their number.
    pub(crate) fn into_parts(self) -> (Vec<FieldError>, Option<(Path, usize)>) {
        let omitted = self.omitted_under.map(|under| (under, self.omitted));
        (self.kept, omitted)
    }

    #[cfg(test)]
    /// The errors whose path is under `root` (for example the `spec` errors only); counted
    /// errors stay counted when the path they lie under is below `root`, and are dropped
    /// otherwise.
    pub(crate) fn under(&self, root: &str) -> ErrorList {
        let mut list = ErrorList::new();
        for error in self.kept.iter().filter(|e| e.path.is_under(root)) {
            list.push(error.clone());
        }
        if let Some(under) = &self.omitted_under
            && under.is_under(root)
        {
            list.omit(under, self.omitted);
        }
        list
    }

    /// The shown errors joined with `", "`, the way the kube-apiserver writes them in a `Status`
    /// message after `... is invalid: `.
    pub fn joined(&self) -> String {
        self.shown()
            .map(|error| error.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl From<Vec<FieldError>> for ErrorList {
    fn from(errors: Vec<FieldError>) -> Self {
        let mut list = ErrorList::new();
        for error in errors {
            list.push(error);
        }
        list
    }
}

impl<'a> IntoIterator for &'a ErrorList {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.kept.iter()
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

    #[test]
    fn a_list_keeps_the_first_errors_and_counts_the_rest() {
        let filters = spec("filters");
        let mut list = ErrorList::new();
        let mut built = 0;
        for i in 0..760_000 {
            list.push_with(&filters, || {
                built += 1;
                FieldError::invalid(filters.index(i), "A", "bad")
            });
        }
        assert_eq!(built, MAX_ERRORS, "errors past the cap are never built");
        assert_eq!(list.len(), 760_000);
        assert_eq!(list.iter().count(), MAX_ERRORS);
        assert_eq!(list.len() - list.iter().count(), 760_000 - MAX_ERRORS);
        let shown: Vec<FieldError> = list.shown().collect();
        assert_eq!(shown.len(), MAX_ERRORS + 1);
        let more = shown.last().unwrap();
        assert_eq!(
            more.to_string(),
            "spec.filters: Too many: 759,900 more errors not shown"
        );
        assert_eq!(more.error_type.reason(), "FieldValueTooMany");
        assert!(
            list.joined()
                .ends_with(", spec.filters: Too many: 759,900 more errors not shown")
        );
    }

    #[test]
    fn counted_errors_name_the_path_they_all_lie_under() {
        let mut list = ErrorList::new();
        for i in 0..MAX_ERRORS {
            list.push(FieldError::required(spec("filters").index(i), ""));
        }
        list.push(FieldError::required(spec("filters").index(100), ""));
        assert_eq!(
            list.omitted_under().unwrap().0.as_str(),
            "spec.filters[100]"
        );
        list.push(FieldError::required(spec("filters").index(101), ""));
        assert_eq!(list.omitted_under().unwrap().0.as_str(), "spec.filters");
        list.push(FieldError::required(spec("peerIP"), ""));
        assert_eq!(list.omitted_under().unwrap().0.as_str(), "spec");
        list.push(FieldError::required(
            Path::new("metadata").child("name"),
            "",
        ));
        let more = list.more_errors().unwrap();
        assert_eq!(
            more.to_string(),
            "object: Too many: 4 more errors not shown"
        );
        assert_eq!(
            FieldError::more_errors(spec("filters"), 1).to_string(),
            "spec.filters: Too many: 1 more error not shown"
        );
    }

    #[test]
    fn a_list_keeps_a_bounded_number_of_bytes() {
        let mut list = ErrorList::new();
        let detail = "x".repeat(MAX_DETAIL_LEN);
        for i in 0..MAX_ERRORS {
            list.push(FieldError::invalid(
                spec("filters").index(i),
                "A",
                detail.clone(),
            ));
        }
        let kept: usize = list.iter().map(|e| e.to_string().len()).sum();
        assert!(kept <= MAX_ERRORS_BYTES, "{kept}");
        assert!(list.iter().count() < MAX_ERRORS);
        assert_eq!(list.len(), MAX_ERRORS);
    }

    #[test]
    fn long_values_are_cut_with_a_marker() {
        let long = "A".repeat(3 * 1024 * 1024);
        let err = FieldError::invalid(spec("peerSelector"), long.as_str(), "bad");
        let text = err.to_string();
        assert_eq!(
            text,
            format!(
                "spec.peerSelector: Invalid value: \"{}\"... (truncated, 3145728 bytes): bad",
                "A".repeat(MAX_VALUE_LEN)
            )
        );
        // A multi-byte character is never split.
        let err = FieldError::invalid(spec("node"), "é".repeat(200), "bad");
        assert!(err.to_string().contains("... (truncated, 400 bytes)"));

        let items: Vec<serde_json::Value> = (0..100_000).map(|i| i.into()).collect();
        let err = FieldError::type_invalid(spec("filters"), &items.into(), "a string");
        let text = err.to_string();
        assert!(
            text.starts_with("spec.filters: Invalid value: [0,1,2,"),
            "{text}"
        );
        assert!(
            text.ends_with("... (truncated): must be a string, not an array"),
            "{text}"
        );
        assert!(text.len() < MAX_VALUE_LEN + 100, "{text}");
        // Short values are echoed as before.
        let short = FieldError::type_invalid(spec("filters"), &serde_json::json!([1, 2]), "x");
        assert_eq!(short.value, serde_json::json!([1, 2]));
        assert!(short.cut.is_none());
    }

    #[test]
    fn long_details_and_path_keys_are_cut() {
        let err = FieldError::invalid(spec("peerIP"), "x", "d".repeat(10_000));
        assert_eq!(err.detail.len(), MAX_DETAIL_LEN + 3);
        assert!(err.detail.ends_with("..."));
        let key = "k".repeat(1_000_000);
        let path = Path::new("metadata").child("labels").key(&key);
        assert_eq!(
            path.as_str(),
            format!("metadata.labels[{}...]", "k".repeat(MAX_PATH_NAME_LEN))
        );
        assert_eq!(path.pointer(), format!("/metadata/labels/{key}"));
    }

    #[test]
    fn pointers_escape_like_rfc_6901() {
        let path = Path::new("metadata").child("labels").key("a/b~c");
        assert_eq!(path.pointer(), "/metadata/labels/a~1b~0c");
        let value = serde_json::json!({"metadata": {"labels": {"a/b~c": "v"}}});
        assert_eq!(value.pointer(path.pointer()), Some(&serde_json::json!("v")));
        assert_eq!(spec("filters").index(3).pointer(), "/spec/filters/3");
    }

    #[test]
    fn thousands_groups_digits() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(759_912), "759,912");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
