//! Calico's label-selector language, exactly as Calico v3.30+ accepts, prints and evaluates it.
//!
//! `BGPPeer.spec.nodeSelector`, `peerSelector` and `localWorkloadSelector` are valid for Calico iff
//! its selector parser accepts them; this module accepts the same language (no stricter, no
//! looser) so that a webhook can reject bad syntax before it reaches storage:
//!
//! - `lexer`: Calico's context-sensitive tokenizer (operators only right after a label), exposed
//!   as [`tokenize`] for debugging.
//! - `parser`: recursive descent with Calico's precedence (`!` > `&&` > `||`).
//! - `ast`: the tree, whose `Display` is Calico's canonical `String()`.
//! - `eval`: matching against [`Labels`].
//! - `error`: [`ParseError`], typed, with a byte offset and a caret renderer.
//!
//! Two bounds protect the process and are not in Calico's parser: inputs over [`MAX_LEN`] bytes
//! (the Calico v3.32 CRD limit, so nothing valid in a cluster is lost) and parentheses nested
//! deeper than [`MAX_DEPTH`] are rejected with typed errors.
//!
//! ```
//! use std::collections::BTreeMap;
//! use bgppeer_webhook::selector;
//!
//! let sel = selector::parse("rack == 'r1' && role in {'tor', 'spine', 'tor'}").unwrap();
//! assert_eq!(sel.to_string(), r#"(rack == "r1" && role in {"spine", "tor"})"#);
//!
//! let labels = BTreeMap::from([
//!     ("rack".to_string(), "r1".to_string()),
//!     ("role".to_string(), "tor".to_string()),
//! ]);
//! assert!(sel.matches(&labels));
//!
//! let err = selector::parse("a ==").unwrap_err();
//! assert_eq!(err.to_string(), "expected a string literal after '==' at offset 4");
//! ```

use std::fmt;

mod ast;
mod error;
mod eval;
mod labels;
mod lexer;
mod parser;

pub use error::{ParseError, ParseErrorKind};
pub use labels::Labels;
pub use lexer::{Token, TokenKind, tokenize};

/// Hard upper bound on a selector's length in bytes (the Calico v3.32 CRD's `maxLength`).
/// Longer input is rejected before it is tokenized, which bounds the work any request can cause.
pub const MAX_LEN: usize = 4096;

/// Selectors longer than this many bytes are rejected by Calico v3.33+ (CRD `maxLength: 1024`);
/// [`warnings`] flags them so that upgrades do not strand existing peers.
pub const CALICO_V3_33_MAX_LEN: usize = 1024;

/// Deepest nesting of parentheses accepted. Calico has no limit, but a selector needing more
/// than a handful of levels is not written by a human; the bound keeps recursion (parsing,
/// printing, evaluating, dropping) far from the stack's end.
pub const MAX_DEPTH: usize = 128;

/// Longest label name in bytes (Calico's `tokenizer.MaxLabelLength`).
pub const MAX_LABEL_LEN: usize = 512;

/// A parsed selector. `Display` prints Calico's canonical form, the string Calico itself would
/// print (and hash into the selector's unique ID).
///
/// Two selectors are equal when their canonical forms are, which is how Calico tells selectors
/// apart: `a=='x'` equals `(a == "x")`.
#[derive(Clone)]
pub struct Selector {
    tree: ast::Tree,
}

impl Selector {
    /// Whether the selector matches the labels, with Calico's semantics: `!=` and `not in` are
    /// true when the label is absent; every other comparison needs the label to be present.
    pub fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.tree.matches(labels)
    }

    /// Prepends `prefix` to every label name, as Calico's `PrefixVisitor` does when it moves a
    /// selector into a namespaced label space (for example `pcns.` for namespace labels).
    pub fn prefix_labels(&mut self, prefix: &str) {
        self.tree.prefix_labels(prefix);
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.tree, f)
    }
}

impl fmt::Debug for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Selector")
            .field(&self.tree.to_string())
            .finish()
    }
}

impl PartialEq for Selector {
    fn eq(&self, other: &Self) -> bool {
        self.tree.to_string() == other.tree.to_string()
    }
}

impl Eq for Selector {}

impl std::str::FromStr for Selector {
    type Err = ParseError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        parse(input)
    }
}

/// Parses a selector. An empty or blank (spaces and tabs) selector is `all()`.
///
/// Fails on anything Calico's parser rejects, on input longer than [`MAX_LEN`] bytes and on
/// parentheses nested deeper than [`MAX_DEPTH`]. Runs in time linear in the input (plus sorting
/// set literals) and never panics.
pub fn parse(input: &str) -> Result<Selector, ParseError> {
    if input.len() > MAX_LEN {
        return Err(ParseError::new(
            ParseErrorKind::TooLong { len: input.len() },
            MAX_LEN,
        ));
    }
    parser::parse_root(input).map(|tree| Selector { tree })
}

/// Warnings for a selector that is valid today but risky: longer than
/// [`CALICO_V3_33_MAX_LEN`] bytes, which Calico v3.33+ rejects. Each warning is one line of at
/// most 120 characters, fit for an admission response's `warnings`.
pub fn warnings(input: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    if input.len() > CALICO_V3_33_MAX_LEN {
        warnings.push(format!(
            "selector is {} bytes long; Calico v3.33+ rejects selectors over {CALICO_V3_33_MAX_LEN} bytes",
            input.len()
        ));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_input_over_max_len_without_parsing() {
        let input = format!("a in {{'{}'}}", "x".repeat(MAX_LEN));
        let err = parse(&input).unwrap_err();
        assert_eq!(err.kind(), &ParseErrorKind::TooLong { len: MAX_LEN + 9 });
        assert_eq!(err.offset(), MAX_LEN);
        let exactly = format!("a == '{}'", "x".repeat(MAX_LEN - 7));
        assert_eq!(exactly.len(), MAX_LEN);
        assert!(parse(&exactly).is_ok());
    }

    #[test]
    fn warns_about_selectors_calico_v3_33_rejects() {
        let at_limit = format!("a == '{}'", "x".repeat(CALICO_V3_33_MAX_LEN - 7));
        assert!(warnings(&at_limit).is_empty());
        let over = format!("a == '{}'", "x".repeat(CALICO_V3_33_MAX_LEN - 6));
        let found = warnings(&over);
        assert_eq!(
            found,
            ["selector is 1025 bytes long; Calico v3.33+ rejects selectors over 1024 bytes"]
        );
        let longest = warnings(&"x".repeat(MAX_LEN * 1000));
        assert!(longest.iter().all(|w| w.len() <= 120));
    }

    #[test]
    fn one_megabyte_of_parentheses_is_a_clean_error() {
        let input = "(".repeat(1 << 20);
        assert!(matches!(
            parse(&input).unwrap_err().kind(),
            ParseErrorKind::TooLong { .. }
        ));
        let within = "(".repeat(MAX_LEN);
        assert_eq!(parse(&within).unwrap_err().kind(), &ParseErrorKind::TooDeep);
    }

    #[test]
    fn from_str_is_parse() {
        let sel: Selector = "has(a)".parse().unwrap();
        assert_eq!(sel, parse("has(a)").unwrap());
    }

    #[test]
    fn equality_is_equality_of_canonical_forms() {
        assert_eq!(parse("a=='x'").unwrap(), parse("(a == \"x\")").unwrap());
        assert_eq!(parse("").unwrap(), parse("all()").unwrap());
        assert_ne!(parse("all()").unwrap(), parse("global()").unwrap());
        assert_eq!(
            format!("{:?}", parse("a=='x'").unwrap()),
            r#"Selector("a == \"x\"")"#
        );
    }
}
