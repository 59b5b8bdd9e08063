//! Why a selector was rejected: a typed reason, the byte offset where it was found, and a
//! renderer that points at that byte with a caret.

use std::fmt;

use super::{MAX_DEPTH, MAX_LABEL_LEN, MAX_LEN};

/// A selector that Calico would reject (or that exceeds this crate's resource bounds), with the
/// byte offset of the problem.
///
/// `Display` is one line, `<what was expected> at offset <n>`, for example
/// `expected a string literal after '==' at offset 4`; [`ParseError::render`] adds the input and a
/// caret so a human can see the spot at a glance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    kind: ParseErrorKind,
    offset: usize,
}

/// What exactly is wrong. Callers that need to react to a particular problem (for example to map
/// [`ParseErrorKind::TooLong`] onto a Kubernetes `TooLong` field error) match on this instead of
/// parsing the message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// The selector is longer than a selector field holds ([`MAX_LEN`] bytes, checked by
    /// [`parse_field`](super::parse_field)), or too long to parse at all (over
    /// [`MAX_PARSE_LEN`](super::MAX_PARSE_LEN) bytes, or with a canonical form that would be).
    TooLong {
        /// The selector's length in bytes.
        len: usize,
    },
    /// Parentheses are nested deeper than [`MAX_DEPTH`] levels.
    TooDeep,
    /// A string literal has no closing quote.
    UnterminatedString {
        /// The quote character that opened the literal.
        quote: char,
    },
    /// A single `=` (only `==` is an operator).
    ExpectedDoubleEquals,
    /// A single `&` (only `&&` is an operator).
    ExpectedDoubleAmpersand,
    /// A single `|` (only `||` is an operator).
    ExpectedDoubleBar,
    /// A character that starts no token of the language.
    UnexpectedCharacter {
        /// The offending character.
        found: char,
    },
    /// A label longer than [`MAX_LABEL_LEN`] bytes.
    LabelTooLong {
        /// The label's length in bytes.
        len: usize,
    },
    /// A label is not followed by a comparison or set operator.
    ExpectedOperator {
        /// The label that needs an operator.
        label: String,
    },
    /// `has(` is not followed by a label name.
    ExpectedHasLabel,
    /// `has(label`, `all(` or `global(` is not closed by `)`.
    ExpectedKeywordClose {
        /// `has`, `all` or `global`.
        keyword: &'static str,
    },
    /// A comparison operator is not followed by a string literal.
    ExpectedString {
        /// The operator as written in canonical form (`==`, `starts with`, ...).
        operator: &'static str,
    },
    /// `in` / `not in` is not followed by `{`.
    ExpectedSet {
        /// `in` or `not in`.
        operator: &'static str,
    },
    /// After `{` or `,` inside a set: neither a string literal nor `}`.
    ExpectedSetElement,
    /// After a string literal inside a set: neither `,` nor `}`.
    ExpectedSetSeparator,
    /// Where an operand must start (at the beginning, or after `!`, `(`, `&&`, `||`), something
    /// else was found.
    ExpectedTerm {
        /// The token before the missing operand, or `None` at the start of the selector.
        after: Option<&'static str>,
    },
    /// A parenthesised group is not closed.
    ExpectedCloseParen {
        /// Byte offset of the unmatched `(`.
        open: usize,
    },
    /// A complete selector is followed by more input.
    ExpectedEnd,
}

impl ParseError {
    #[cold]
    pub(crate) fn new(kind: ParseErrorKind, offset: usize) -> Self {
        Self { kind, offset }
    }

    /// The byte offset into the input where the problem is (the input's length when the problem
    /// is a premature end).
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What is wrong, as a value to match on.
    pub fn kind(&self) -> &ParseErrorKind {
        &self.kind
    }

    /// The line of `input` that holds the error, a caret under the offending byte, and the
    /// message:
    ///
    /// ```text
    /// rack == 'r1' && role in 'tor'
    ///                         ^
    /// expected a set literal such as {"a", "b"} after 'in' at offset 24
    /// ```
    ///
    /// Tabs before the offset are copied into the caret line so the caret stays aligned; any
    /// other character counts as one column. Only the line holding the offset is shown when the
    /// input spans several lines (string literals may contain newlines).
    pub fn render(&self, input: &str) -> String {
        let offset = floor_char_boundary(input, self.offset().min(input.len()));
        let line_start = input[..offset].rfind('\n').map_or(0, |i| i + 1);
        let line_end = input[offset..]
            .find('\n')
            .map_or(input.len(), |i| offset + i);
        let line = &input[line_start..line_end];
        let pad: String = input[line_start..offset]
            .chars()
            .map(|c| if c == '\t' { '\t' } else { ' ' })
            .collect();
        format!("{line}\n{pad}^\n{self}")
    }
}

/// The largest char boundary at or below `index` (`str::floor_char_boundary` is not stable).
fn floor_char_boundary(s: &str, mut index: usize) -> usize {
    while !s.is_char_boundary(index) {
        index -= 1;
    }
    index
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at offset {}", self.kind(), self.offset())
    }
}

impl std::error::Error for ParseError {}

/// Longest label shown verbatim in a message; longer ones are elided in the middle.
const SHOWN_LABEL_LEN: usize = 40;

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLong { len } => write!(
                f,
                "selector is {len} bytes long; at most {MAX_LEN} bytes are accepted"
            ),
            Self::TooDeep => write!(
                f,
                "parentheses are nested more than {MAX_DEPTH} levels deep"
            ),
            Self::UnterminatedString { quote } => {
                write!(f, "unterminated string literal: no closing {quote} found")
            }
            Self::ExpectedDoubleEquals => {
                f.write_str("expected '==' (a single '=' is not an operator)")
            }
            Self::ExpectedDoubleAmpersand => {
                f.write_str("expected '&&' (a single '&' is not an operator)")
            }
            Self::ExpectedDoubleBar => {
                f.write_str("expected '||' (a single '|' is not an operator)")
            }
            Self::UnexpectedCharacter { found } => write!(
                f,
                "unexpected character {found:?}; labels use only A-Z a-z 0-9 _ . / - and \
                 values must be quoted"
            ),
            Self::LabelTooLong { len } => write!(
                f,
                "label is {len} bytes long; labels are at most {MAX_LABEL_LEN} bytes"
            ),
            Self::ExpectedOperator { label } => write!(
                f,
                "expected an operator after label '{}' (==, !=, contains, starts with, \
                 ends with, in or not in)",
                Elided(label)
            ),
            Self::ExpectedHasLabel => f.write_str("expected a label name after 'has('"),
            Self::ExpectedKeywordClose { keyword } => {
                write!(f, "expected ')' to close '{keyword}('")
            }
            Self::ExpectedString { operator } => {
                write!(f, "expected a string literal after '{operator}'")
            }
            Self::ExpectedSet { operator } => write!(
                f,
                "expected a set literal such as {{\"a\", \"b\"}} after '{operator}'"
            ),
            Self::ExpectedSetElement => f.write_str("expected a string literal or '}' in the set"),
            Self::ExpectedSetSeparator => {
                f.write_str("expected ',' or '}' after a string literal in the set")
            }
            Self::ExpectedTerm { after } => {
                f.write_str(
                    "expected a label comparison, has(label), all(), global(), '!' or '('",
                )?;
                match after {
                    Some(token) => write!(f, " after '{token}'"),
                    None => Ok(()),
                }
            }
            Self::ExpectedCloseParen { open } => write!(
                f,
                "expected '&&', '||' or ')' to close the '(' at offset {open}"
            ),
            Self::ExpectedEnd => f.write_str("expected '&&', '||' or the end of the selector"),
        }
    }
}

/// Shows a possibly very long label (up to 512 bytes) in a message of reasonable size.
struct Elided<'a>(&'a str);

impl fmt::Display for Elided<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Labels are ASCII, so byte slicing is safe; `get` keeps this total anyway.
        let label = self.0;
        if label.len() <= SHOWN_LABEL_LEN {
            return f.write_str(label);
        }
        let half = SHOWN_LABEL_LEN / 2;
        match (label.get(..half), label.get(label.len() - half..)) {
            (Some(head), Some(tail)) => write!(f, "{head}...{tail}"),
            _ => f.write_str(label),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_is_message_then_offset() {
        let err = ParseError::new(ParseErrorKind::ExpectedString { operator: "==" }, 4);
        assert_eq!(
            err.to_string(),
            "expected a string literal after '==' at offset 4"
        );
    }

    #[test]
    fn render_puts_caret_under_offset() {
        let err = ParseError::new(ParseErrorKind::ExpectedString { operator: "==" }, 4);
        assert_eq!(
            err.render("a =="),
            "a ==\n    ^\nexpected a string literal after '==' at offset 4"
        );
    }

    #[test]
    fn render_keeps_tabs_and_counts_characters_not_bytes() {
        let err = ParseError::new(ParseErrorKind::ExpectedEnd, 12);
        // "\té == 'x' b": the tab is kept, 'é' (2 bytes) takes one column.
        let rendered = err.render("\t\u{e9} == 'ü' b");
        let mut lines = rendered.lines();
        assert_eq!(lines.next(), Some("\t\u{e9} == 'ü' b"));
        assert_eq!(lines.next(), Some("\t         ^"));
    }

    #[test]
    fn render_shows_only_the_offending_line() {
        let input = "a == 'x\ny' &&\n%";
        let err = ParseError::new(ParseErrorKind::UnexpectedCharacter { found: '%' }, 14);
        let rendered = err.render(input);
        assert!(
            rendered.starts_with("%\n^\nunexpected character '%'"),
            "{rendered}"
        );
    }

    #[test]
    fn render_survives_offsets_beyond_or_inside_characters() {
        let err = ParseError::new(ParseErrorKind::ExpectedEnd, 99);
        assert!(err.render("ab").starts_with("ab\n  ^"));
        let err = ParseError::new(ParseErrorKind::ExpectedEnd, 1);
        assert!(err.render("\u{e9}").starts_with("\u{e9}\n^"));
    }

    #[test]
    fn long_labels_are_elided_in_messages() {
        let label = "a".repeat(512);
        let err = ParseError::new(ParseErrorKind::ExpectedOperator { label }, 513);
        let message = err.to_string();
        assert!(message.len() < 160, "{message}");
        assert!(message.contains("aaa...aaa"), "{message}");
    }
}
