//! Calico's label-selector language.
//!
//! PLACEHOLDER: this file states the module's public contract; the `selector` branch replaces
//! the bodies with the real lexer, parser, canonical printer and evaluator.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// Hard upper bound on a selector's length in bytes (the Calico v3.32 CRD's `maxLength`).
pub const MAX_LEN: usize = 4096;

/// Selectors longer than this many bytes are rejected by Calico v3.33+ (CRD `maxLength: 1024`).
pub const CALICO_V3_33_MAX_LEN: usize = 1024;

/// A parsed selector. `Display` prints Calico's canonical form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    _private: (),
}

impl Selector {
    /// Whether the selector matches the labels.
    pub fn matches<L: Labels + ?Sized>(&self, _labels: &L) -> bool {
        false
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("all()")
    }
}

/// Why a selector does not parse: the byte offset and what was expected there.
/// `Display`: `expected a string literal after '==' at offset 4`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    offset: usize,
}

impl ParseError {
    /// The byte offset into the input where the problem is.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The input with a caret under the offset, followed by the message.
    pub fn render(&self, input: &str) -> String {
        format!("{input}\n{}^\n{self}", " ".repeat(self.offset))
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "selector parser not built yet at offset {}", self.offset)
    }
}

impl std::error::Error for ParseError {}

/// Parses a selector. An empty or blank selector is `all()`.
pub fn parse(_input: &str) -> Result<Selector, ParseError> {
    Err(ParseError { offset: 0 })
}

/// Warnings for a selector that is valid but risky (for example longer than
/// [`CALICO_V3_33_MAX_LEN`]: rejected by Calico v3.33+).
pub fn warnings(_input: &str) -> Vec<String> {
    Vec::new()
}

/// A set of labels a selector is evaluated against.
pub trait Labels {
    /// The value of the label `key`, if present.
    fn get_label(&self, key: &str) -> Option<&str>;
}

impl Labels for HashMap<String, String> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for BTreeMap<String, String> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}
