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
//! - `eval`: matching against [`Labels`], by walking the tree.
//! - `error`: [`ParseError`], typed, with a byte offset and a caret renderer.
//!
//! Pure: no I/O, no `unsafe`, no dependencies. The code is the plain version of each step; the
//! one micro-optimisation kept is the parser sizing its vectors from the input's length
//! (`parser.rs`), which pays 5-20 % on most selectors. A compiled evaluator, a label-lookup
//! cache, word-wise string comparison, a boxed error and a byte table were measured and removed
//! (benches/selector.rs says why, with the numbers).
//!
//! Calico's parser has no length limit; a BGPPeer's selector fields do (the Calico v3.32 CRD's
//! `maxLength`, [`MAX_LEN`]). [`parse_field`] reads a selector as a field holds it, at most
//! [`MAX_LEN`] bytes. [`parse`] reads the language itself, canonical forms included (Calico's
//! canonical form adds spaces and parentheses, so the canonical form of a selector within
//! [`MAX_LEN`] can be longer than [`MAX_LEN`]); it is bounded only to protect the process, at
//! [`MAX_PARSE_LEN`] bytes, and every selector it accepts has a canonical form it accepts too.
//! Parentheses nested deeper than [`MAX_DEPTH`] are rejected by both.
//!
//! ```
//! use std::collections::BTreeMap;
//! use calico_selector as selector;
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

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::fmt;

mod ast;
#[cfg(test)]
mod calico_vectors;
mod error;
mod eval;
mod labels;
mod lexer;
mod parser;

pub use error::{ParseError, ParseErrorKind};
pub use labels::Labels;
pub use lexer::{Token, TokenKind, tokenize};

/// The longest selector a BGPPeer field holds, in bytes (the Calico v3.32 CRD's `maxLength`):
/// the limit of [`parse_field`] and of the webhook's field validation.
pub const MAX_LEN: usize = 4096;

/// The longest text [`parse`] reads, in bytes: a bound on work and memory, not a rule of the
/// language. Eight times [`MAX_LEN`], so that the canonical form of any selector within
/// [`MAX_LEN`] (Calico's printing adds at most a few spaces and a pair of parentheses per
/// operator, less than doubling the shortest input) is read back. Longer input is rejected before
/// it is tokenized.
pub const MAX_PARSE_LEN: usize = 8 * MAX_LEN;

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
    /// selector into a namespaced label space (for example `pcns.` for namespace labels). Only
    /// Calico's vectors need it.
    #[cfg(test)]
    pub(crate) fn prefix_labels(&mut self, prefix: &str) {
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

/// Parses a selector as a BGPPeer field holds it: like [`parse`], and at most [`MAX_LEN`] bytes.
pub fn parse_field(input: &str) -> Result<Selector, ParseError> {
    if input.len() > MAX_LEN {
        return Err(too_long(input));
    }
    parse(input)
}

/// Parses a selector in Calico's language. An empty or blank (spaces and tabs) selector is
/// `all()`.
///
/// Fails on anything Calico's parser rejects, on parentheses nested deeper than [`MAX_DEPTH`],
/// and, to bound the work, on input longer than [`MAX_PARSE_LEN`] bytes or whose canonical form
/// would be. So the canonical form of every selector it accepts is accepted too, as in Calico,
/// which has no length limit. Length errors are [`ParseErrorKind::TooLong`], which speaks of
/// [`MAX_LEN`]: the most a selector field holds. Runs in time linear in the input (plus sorting
/// set literals) and never panics.
pub fn parse(input: &str) -> Result<Selector, ParseError> {
    if input.len() > MAX_PARSE_LEN {
        return Err(too_long(input));
    }
    let selector = Selector {
        tree: parser::parse_root(input)?,
    };
    // Printing less than doubles a selector (see MAX_PARSE_LEN), so only input over MAX_LEN
    // can have a canonical form over MAX_PARSE_LEN; measure those.
    if input.len() > MAX_LEN && canonical_len(&selector) > MAX_PARSE_LEN {
        return Err(too_long(input));
    }
    Ok(selector)
}

/// The length error for `input`, reported at the offset where a selector field ends.
fn too_long(input: &str) -> ParseError {
    ParseError::new(ParseErrorKind::TooLong { len: input.len() }, MAX_LEN)
}

/// The length in bytes of a selector's canonical form, without building it.
fn canonical_len(selector: &Selector) -> usize {
    struct Count(usize);
    impl fmt::Write for Count {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            self.0 = self.0.saturating_add(s.len());
            Ok(())
        }
    }
    let mut count = Count(0);
    // Writing to a counter cannot fail; the tree's Display does not fail on its own.
    let _ = fmt::Write::write_fmt(&mut count, format_args!("{selector}"));
    count.0
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
    fn fields_reject_input_over_max_len_without_parsing() {
        let input = format!("a in {{'{}'}}", "x".repeat(MAX_LEN));
        let err = parse_field(&input).unwrap_err();
        assert_eq!(err.kind(), &ParseErrorKind::TooLong { len: MAX_LEN + 9 });
        assert_eq!(err.offset(), MAX_LEN);
        assert_eq!(
            err.to_string(),
            "selector is 4105 bytes long; at most 4096 bytes are accepted at offset 4096"
        );
        let exactly = format!("a == '{}'", "x".repeat(MAX_LEN - 7));
        assert_eq!(exactly.len(), MAX_LEN);
        assert!(parse_field(&exactly).is_ok());
        // Not even tokenized: the error is about the length, not the missing quote.
        let unterminated = format!("a == '{}", "x".repeat(MAX_LEN));
        assert!(matches!(
            parse_field(&unterminated).unwrap_err().kind(),
            ParseErrorKind::TooLong { .. }
        ));
    }

    #[test]
    fn parse_rejects_input_over_max_parse_len_without_parsing() {
        let within = format!("a == '{}'", "x".repeat(MAX_PARSE_LEN - 7));
        assert_eq!(parse(&within).unwrap().to_string().len(), MAX_PARSE_LEN);
        let over = format!("a == '{}", "x".repeat(MAX_PARSE_LEN));
        let err = parse(&over).unwrap_err();
        assert_eq!(
            err.kind(),
            &ParseErrorKind::TooLong {
                len: MAX_PARSE_LEN + 6
            }
        );
        assert_eq!(err.offset(), MAX_LEN);
    }

    /// Found by fuzzing: a selector within the field limit whose canonical form is longer than
    /// the field limit (4,093 bytes in, 6,433 out) was printed but not read back.
    #[test]
    fn canonical_forms_longer_than_max_len_parse_again() {
        let input = r#"a==""||"#.repeat(585);
        assert_eq!(input.len(), 4095);
        let input = input.trim_end_matches("||");
        assert_eq!(input.len(), 4093);
        let canonical = parse_field(input).unwrap().to_string();
        assert_eq!(canonical.len(), 6433);
        let again = parse(&canonical).unwrap();
        assert_eq!(again.to_string(), canonical);
        // As a field value the canonical form is too long, as the CRD would say.
        assert!(matches!(
            parse_field(&canonical).unwrap_err().kind(),
            ParseErrorKind::TooLong { len: 6433 }
        ));
    }

    /// The selectors whose canonical form grows the most, per input byte: single-letter labels,
    /// no spaces, `&&` groups inside `||`, negations, sets. Each stays under twice its length, so
    /// every canonical form of a field-sized selector is within MAX_PARSE_LEN.
    #[test]
    fn canonical_forms_of_field_sized_selectors_fit_the_parse_bound() {
        let units = [
            r#"a==""||"#,
            r#"a==""&&a==""||"#,
            r#"!a==""&&"#,
            r#"a!=""&&!has(a)||"#,
            r#"a in{"","b"}||"#,
            r#"(a==""||a=="")&&"#,
            r#"a startswith""||"#,
            r#"a notin{}&&all()||"#,
        ];
        for unit in units {
            let mut input = unit.repeat(MAX_LEN / unit.len());
            while !input.is_empty() && parse_field(&input).is_err() {
                input.pop();
            }
            let canonical = parse_field(&input).unwrap().to_string();
            assert!(
                canonical.len() < 2 * input.len(),
                "{unit}: {} -> {}",
                input.len(),
                canonical.len()
            );
            assert_eq!(parse(&canonical).unwrap().to_string(), canonical, "{unit}");
        }
    }

    #[test]
    fn long_selectors_with_longer_canonical_forms_are_rejected_by_parse() {
        // Within MAX_PARSE_LEN, but printed longer than MAX_PARSE_LEN: rejected, so that
        // whatever parse accepts, it accepts the canonical form of.
        let input = r#"a==""||"#.repeat(MAX_PARSE_LEN / 7);
        let input = input.trim_end_matches("||");
        assert!(input.len() <= MAX_PARSE_LEN);
        assert!(matches!(
            parse(input).unwrap_err().kind(),
            ParseErrorKind::TooLong { .. }
        ));
        let shorter = r#"a==""||"#.repeat(MAX_PARSE_LEN / 14);
        let shorter = shorter.trim_end_matches("||");
        let canonical = parse(shorter).unwrap().to_string();
        assert!(canonical.len() > MAX_LEN);
        assert_eq!(parse(&canonical).unwrap().to_string(), canonical);
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
