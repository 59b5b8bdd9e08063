//! The tokenizer: Calico's v3.30+ hand-written tokenizer
//! (`libcalico-go/lib/selector/tokenizer`), reimplemented byte by byte.
//!
//! Calico's tokenizer is context sensitive in exactly one way: right after a label, a word is an
//! operator (`contains`, `starts with`, `in`, ...); anywhere else it is `has(`, `all(`,
//! `global(` or a label. The [`Lexer`] tracks that one bit of context, so the parser can pull
//! tokens on demand instead of tokenizing the whole input first. That gives the same accepted
//! language (a selector is valid iff every token lexes and the tokens parse) with no token
//! buffer.

use super::MAX_LABEL_LEN;
use super::error::{ParseError, ParseErrorKind};

/// The kind of a token. The names follow Calico's Go constants without the `Tok` prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TokenKind {
    /// A label name: 1 to 512 bytes of `[A-Za-z0-9_./-]`.
    Label,
    /// A quoted string; the token's value is the text between the quotes.
    StringLiteral,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `,`
    Comma,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `in`
    In,
    /// `!` (not followed by `=`)
    Not,
    /// `not in` or `notin`
    NotIn,
    /// `contains`
    Contains,
    /// `starts with` or `startswith`
    StartsWith,
    /// `ends with` or `endswith`
    EndsWith,
    /// `all()`
    All,
    /// `has(label)`; the token's value is the label.
    Has,
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `global()`
    Global,
    /// The end of the input.
    Eof,
}

impl TokenKind {
    /// The name of Calico's Go constant for this kind (`TokLabel`, `TokEOF`, ...), as used by
    /// Calico's own tokenizer tests.
    #[cfg(test)]
    pub(crate) fn go_name(self) -> &'static str {
        match self {
            Self::Label => "TokLabel",
            Self::StringLiteral => "TokStringLiteral",
            Self::LBrace => "TokLBrace",
            Self::RBrace => "TokRBrace",
            Self::Comma => "TokComma",
            Self::Eq => "TokEq",
            Self::Ne => "TokNe",
            Self::In => "TokIn",
            Self::Not => "TokNot",
            Self::NotIn => "TokNotIn",
            Self::Contains => "TokContains",
            Self::StartsWith => "TokStartsWith",
            Self::EndsWith => "TokEndsWith",
            Self::All => "TokAll",
            Self::Has => "TokHas",
            Self::LParen => "TokLParen",
            Self::RParen => "TokRParen",
            Self::And => "TokAnd",
            Self::Or => "TokOr",
            Self::Global => "TokGlobal",
            Self::Eof => "TokEOF",
        }
    }

    /// How the token is written in canonical form, for error messages (`'&&'`, `'in'`, ...).
    pub(crate) fn spelling(self) -> &'static str {
        match self {
            Self::Label => "label",
            Self::StringLiteral => "string literal",
            Self::LBrace => "{",
            Self::RBrace => "}",
            Self::Comma => ",",
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::In => "in",
            Self::Not => "!",
            Self::NotIn => "not in",
            Self::Contains => "contains",
            Self::StartsWith => "starts with",
            Self::EndsWith => "ends with",
            Self::All => "all()",
            Self::Has => "has()",
            Self::LParen => "(",
            Self::RParen => ")",
            Self::And => "&&",
            Self::Or => "||",
            Self::Global => "global()",
            Self::Eof => "end of selector",
        }
    }
}

/// One token: its kind, its value and where it is in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// What the token is.
    pub kind: TokenKind,
    /// The label of a [`TokenKind::Label`] or [`TokenKind::Has`], the text between the quotes of
    /// a [`TokenKind::StringLiteral`], and `""` for every other kind (Calico's `Token.Value`).
    pub value: &'a str,
    /// Byte offset of `value` in the input (`start` when `value` is empty).
    pub value_start: usize,
    /// Byte offset of the token's first byte (the input's length for [`TokenKind::Eof`]).
    pub start: usize,
    /// Byte offset just past the token's last byte.
    pub end: usize,
}

/// Splits a whole selector into tokens, ending with [`TokenKind::Eof`], exactly as Calico's
/// `tokenizer.Tokenize` does. A successful tokenization does not mean the selector parses.
///
/// Useful for debugging and for checking the tokenizer against Calico's own test vectors;
/// [`parse`](super::parse) does not need it.
pub fn tokenize(input: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let mut lexer = Lexer::new(input)?;
    let mut tokens = Vec::new();
    loop {
        let token = *lexer.token();
        tokens.push(token);
        if token.kind == TokenKind::Eof {
            return Ok(tokens);
        }
        lexer.advance()?;
    }
}

/// The outcome of trying one operator after a label.
enum OperatorMatch {
    /// The operator is not there.
    No,
    /// The operator is there and ends at this offset.
    Yes(usize),
    /// A complete two-word operator followed by blanks and a label byte at this offset, which
    /// Calico's tokenizer rejects.
    LabelAfterBlanks(usize),
}

/// A scanned token: kind, value, offset of the value, offset just past the token.
type Scanned<'a> = (TokenKind, &'a str, usize, usize);

/// A pull tokenizer over one selector. It holds the current token, which the parser reads in
/// place.
pub(crate) struct Lexer<'a> {
    input: &'a str,
    /// The current token; the previous one decides whether a word is an operator or a label.
    token: Token<'a>,
}

/// Whether `byte` may appear in a label (Calico's `identifierChar`): `[A-Za-z0-9_./-]`.
#[inline]
fn is_label_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'.' | b'/' | b'-')
}

impl<'a> Lexer<'a> {
    /// A lexer positioned on the first token of `input`.
    pub(crate) fn new(input: &'a str) -> Result<Self, ParseError> {
        // A zero-width placeholder: not a label, and the first token is searched from offset 0.
        let placeholder = Token {
            kind: TokenKind::Eof,
            value: "",
            value_start: 0,
            start: 0,
            end: 0,
        };
        let mut lexer = Self {
            input,
            token: placeholder,
        };
        lexer.advance()?;
        Ok(lexer)
    }

    /// The current token.
    #[inline]
    pub(crate) fn token(&self) -> &Token<'a> {
        &self.token
    }

    fn bytes(&self) -> &'a [u8] {
        self.input.as_bytes()
    }

    /// The byte at `index`, or 0 past the end (0 is never a meaningful byte for the lexer).
    #[inline]
    fn byte_at(&self, index: usize) -> u8 {
        self.bytes().get(index).copied().unwrap_or(0)
    }

    /// Skips spaces and tabs (the only whitespace Calico allows) from `index`.
    #[inline]
    fn skip_blanks(&self, mut index: usize) -> usize {
        while matches!(self.byte_at(index), b' ' | b'\t') {
            index += 1;
        }
        index
    }

    /// Whether `word` is at `index`.
    #[inline]
    fn word_at(&self, index: usize, word: &str) -> bool {
        self.bytes()
            .get(index..)
            .is_some_and(|rest| rest.starts_with(word.as_bytes()))
    }

    /// Whether a word ends at `index`: end of input or a byte that cannot be part of a label.
    #[inline]
    fn word_boundary(&self, index: usize) -> bool {
        !is_label_byte(self.byte_at(index))
    }

    /// The end of the run of label bytes starting at `start`.
    #[inline]
    fn label_end(&self, start: usize) -> usize {
        let rest = self.bytes().get(start..).unwrap_or_default();
        start
            + rest
                .iter()
                .position(|&b| !is_label_byte(b))
                .unwrap_or(rest.len())
    }

    fn error(kind: ParseErrorKind, offset: usize) -> ParseError {
        ParseError::new(kind, offset)
    }

    /// Moves to the next token. After a label, Calico reads words as operators.
    #[inline]
    pub(crate) fn advance(&mut self) -> Result<(), ParseError> {
        let start = self.skip_blanks(self.token.end);
        let previous_label = (self.token.kind == TokenKind::Label).then_some(self.token.value);
        let (kind, value, value_start, end) = self.scan(start, previous_label)?;
        self.token = Token {
            kind,
            value,
            value_start,
            start,
            end,
        };
        Ok(())
    }

    #[inline]
    fn scan(
        &self,
        start: usize,
        previous_label: Option<&'a str>,
    ) -> Result<Scanned<'a>, ParseError> {
        use TokenKind as K;
        let simple = |kind, len| Ok((kind, "", start, start + len));
        let Some(&first) = self.bytes().get(start) else {
            return Ok((K::Eof, "", start, start));
        };
        match first {
            b'(' => simple(K::LParen, 1),
            b')' => simple(K::RParen, 1),
            b'{' => simple(K::LBrace, 1),
            b'}' => simple(K::RBrace, 1),
            b',' => simple(K::Comma, 1),
            b'"' | b'\'' => self.string_literal(start, first),
            b'=' if self.byte_at(start + 1) == b'=' => simple(K::Eq, 2),
            b'=' => Err(Self::error(ParseErrorKind::ExpectedDoubleEquals, start)),
            b'!' if self.byte_at(start + 1) == b'=' => simple(K::Ne, 2),
            b'!' => simple(K::Not, 1),
            b'&' if self.byte_at(start + 1) == b'&' => simple(K::And, 2),
            b'&' => Err(Self::error(ParseErrorKind::ExpectedDoubleAmpersand, start)),
            b'|' if self.byte_at(start + 1) == b'|' => simple(K::Or, 2),
            b'|' => Err(Self::error(ParseErrorKind::ExpectedDoubleBar, start)),
            _ => match previous_label {
                Some(label) => self.operator(start, label),
                None => self.word(start),
            },
        }
    }

    /// A string literal opened by `quote` at `start`: everything up to the next identical
    /// quote, with no escapes.
    fn string_literal(&self, start: usize, quote: u8) -> Result<Scanned<'a>, ParseError> {
        let body_start = start + 1;
        let rest = self.bytes().get(body_start..).unwrap_or_default();
        match rest.iter().position(|&b| b == quote) {
            // Both ends are ASCII quotes, hence char boundaries: `get` cannot fail.
            Some(len) => {
                let value = self.input.get(body_start..body_start + len).unwrap_or("");
                Ok((
                    TokenKind::StringLiteral,
                    value,
                    body_start,
                    body_start + len + 1,
                ))
            }
            None => Err(Self::error(
                ParseErrorKind::UnterminatedString {
                    quote: char::from(quote),
                },
                start,
            )),
        }
    }

    /// The operator that must follow a label, tried in Calico's order.
    fn operator(&self, start: usize, label: &str) -> Result<Scanned<'a>, ParseError> {
        const OPERATORS: [(TokenKind, &str, Option<&str>); 5] = [
            (TokenKind::Contains, "contains", None),
            (TokenKind::StartsWith, "starts", Some("with")),
            (TokenKind::EndsWith, "ends", Some("with")),
            (TokenKind::NotIn, "not", Some("in")),
            (TokenKind::In, "in", None),
        ];
        for (kind, first, second) in OPERATORS {
            match self.operator_words(start, first, second) {
                OperatorMatch::No => {}
                OperatorMatch::Yes(end) => return Ok((kind, "", start, end)),
                OperatorMatch::LabelAfterBlanks(at) => {
                    let kind = match kind {
                        TokenKind::NotIn => ParseErrorKind::ExpectedSet { operator: "not in" },
                        TokenKind::StartsWith => ParseErrorKind::ExpectedString {
                            operator: "starts with",
                        },
                        _ => ParseErrorKind::ExpectedString {
                            operator: "ends with",
                        },
                    };
                    return Err(Self::error(kind, at));
                }
            }
        }
        Err(Self::error(
            ParseErrorKind::ExpectedOperator {
                label: label.to_owned(),
            },
            start,
        ))
    }

    /// Matches `first` (and, if given, blanks then `second`) at `start`, followed by a word
    /// boundary. Like Calico, blanks after a two-word operator are skipped before the boundary
    /// check, so `a not in x` is rejected here while `a in x` is left to the parser.
    fn operator_words(&self, start: usize, first: &str, second: Option<&str>) -> OperatorMatch {
        if !self.word_at(start, first) {
            return OperatorMatch::No;
        }
        let mut end = start + first.len();
        if let Some(second) = second {
            end = self.skip_blanks(end);
            if !self.word_at(end, second) {
                return OperatorMatch::No;
            }
            end += second.len();
            let after_blanks = self.skip_blanks(end);
            if after_blanks > end && !self.word_boundary(after_blanks) {
                // `a starts with b`: Calico rejects it while tokenizing; the useful message is
                // the parser's (a string literal was needed where `b` is).
                return OperatorMatch::LabelAfterBlanks(after_blanks);
            }
            end = after_blanks;
        }
        if self.word_boundary(end) {
            OperatorMatch::Yes(end)
        } else {
            OperatorMatch::No
        }
    }

    /// `has(label)`, `all()`, `global()` or a label.
    fn word(&self, start: usize) -> Result<Scanned<'a>, ParseError> {
        if self.word_at(start, "has(") {
            let label_start = self.skip_blanks(start + 4);
            let label = match self.label(label_start) {
                Ok(label) => label,
                Err(err) if matches!(err.kind(), ParseErrorKind::UnexpectedCharacter { .. }) => {
                    return Err(Self::error(ParseErrorKind::ExpectedHasLabel, label_start));
                }
                Err(err) => return Err(err),
            };
            let close = self.skip_blanks(label_start + label.len());
            return match self.byte_at(close) {
                b')' => Ok((TokenKind::Has, label, label_start, close + 1)),
                _ => Err(Self::error(
                    ParseErrorKind::ExpectedKeywordClose { keyword: "has" },
                    close,
                )),
            };
        }
        for (kind, keyword) in [(TokenKind::All, "all"), (TokenKind::Global, "global")] {
            if self.word_at(start, keyword) && self.byte_at(start + keyword.len()) == b'(' {
                let close = self.skip_blanks(start + keyword.len() + 1);
                return match self.byte_at(close) {
                    b')' => Ok((kind, "", start, close + 1)),
                    _ => Err(Self::error(
                        ParseErrorKind::ExpectedKeywordClose { keyword },
                        close,
                    )),
                };
            }
        }
        let label = self.label(start)?;
        Ok((TokenKind::Label, label, start, start + label.len()))
    }

    /// The label starting at `start` (Calico's `cutIdentifier`).
    fn label(&self, start: usize) -> Result<&'a str, ParseError> {
        let end = self.label_end(start);
        if end == start {
            let found = self
                .input
                .get(start..)
                .and_then(|rest| rest.chars().next())
                .unwrap_or(char::REPLACEMENT_CHARACTER);
            return Err(Self::error(
                ParseErrorKind::UnexpectedCharacter { found },
                start,
            ));
        }
        if end - start > MAX_LABEL_LEN {
            return Err(Self::error(
                ParseErrorKind::LabelTooLong { len: end - start },
                start,
            ));
        }
        // Label bytes are ASCII, so both ends are char boundaries.
        Ok(self.input.get(start..end).unwrap_or(""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(input: &str) -> Vec<TokenKind> {
        tokenize(input)
            .unwrap()
            .into_iter()
            .map(|token| token.kind)
            .collect()
    }

    fn error_kind(input: &str) -> ParseErrorKind {
        tokenize(input).unwrap_err().kind().clone()
    }

    #[test]
    fn spans_cover_the_token_text() {
        let tokens = tokenize(" has( a ) && b in {'x'}").unwrap();
        let spans: Vec<_> = tokens.iter().map(|t| (t.kind, t.start, t.end)).collect();
        assert_eq!(
            spans,
            [
                (TokenKind::Has, 1, 9),
                (TokenKind::And, 10, 12),
                (TokenKind::Label, 13, 14),
                (TokenKind::In, 15, 17),
                (TokenKind::LBrace, 18, 19),
                (TokenKind::StringLiteral, 19, 22),
                (TokenKind::RBrace, 22, 23),
                (TokenKind::Eof, 23, 23),
            ]
        );
    }

    #[test]
    fn keywords_are_labels_unless_followed_by_a_parenthesis() {
        use TokenKind::*;
        assert_eq!(kinds("has == 'x'"), [Label, Eq, StringLiteral, Eof]);
        assert_eq!(kinds("all"), [Label, Eof]);
        assert_eq!(kinds("global ("), [Label, LParen, Eof]);
        assert_eq!(kinds("in in {}"), [Label, In, LBrace, RBrace, Eof]);
        assert_eq!(kinds("not notin {}"), [Label, NotIn, LBrace, RBrace, Eof]);
    }

    #[test]
    fn operators_need_a_word_boundary() {
        assert!(matches!(
            error_kind("a containsx 'v'"),
            ParseErrorKind::ExpectedOperator { .. }
        ));
        assert!(matches!(
            error_kind("a inx {}"),
            ParseErrorKind::ExpectedOperator { .. }
        ));
        // Calico skips blanks after a two-word operator before checking the boundary...
        assert_eq!(
            tokenize("a not in x").unwrap_err(),
            ParseError::new(ParseErrorKind::ExpectedSet { operator: "not in" }, 9)
        );
        assert_eq!(
            tokenize("a starts  with  b").unwrap_err(),
            ParseError::new(
                ParseErrorKind::ExpectedString {
                    operator: "starts with"
                },
                16
            )
        );
        assert!(matches!(
            error_kind("a notinx {}"),
            ParseErrorKind::ExpectedOperator { .. }
        ));
        // ...but not after a one-word operator.
        assert_eq!(
            kinds("a in x"),
            [
                TokenKind::Label,
                TokenKind::In,
                TokenKind::Label,
                TokenKind::Eof
            ]
        );
        assert_eq!(
            kinds("a contains'x'"),
            [
                TokenKind::Label,
                TokenKind::Contains,
                TokenKind::StringLiteral,
                TokenKind::Eof
            ]
        );
    }

    #[test]
    fn only_space_and_tab_are_whitespace() {
        assert_eq!(kinds(" \t all( \t ) \t"), [TokenKind::All, TokenKind::Eof]);
        assert!(matches!(
            error_kind("all(\n)"),
            ParseErrorKind::ExpectedKeywordClose { keyword: "all" }
        ));
        assert!(matches!(
            error_kind("a\n== 'b'"),
            ParseErrorKind::ExpectedOperator { .. }
        ));
        assert_eq!(
            tokenize("\r").unwrap_err().kind(),
            &ParseErrorKind::UnexpectedCharacter { found: '\r' }
        );
    }

    #[test]
    fn string_literals_have_no_escapes() {
        let tokens = tokenize(r#"a == "it's \" "#).unwrap();
        assert_eq!(tokens[2].value, r"it's \");
        let tokens = tokenize("a == 'line\nbreak'").unwrap();
        assert_eq!(tokens[2].value, "line\nbreak");
        assert_eq!(
            tokenize("a == 'x").unwrap_err(),
            ParseError::new(ParseErrorKind::UnterminatedString { quote: '\'' }, 5)
        );
    }

    #[test]
    fn labels_are_limited_to_512_bytes() {
        let ok = "x".repeat(512);
        assert_eq!(tokenize(&ok).unwrap()[0].value, ok);
        let long = "x".repeat(513);
        assert_eq!(
            tokenize(&format!("  {long} == 'v'")).unwrap_err(),
            ParseError::new(ParseErrorKind::LabelTooLong { len: 513 }, 2)
        );
        assert_eq!(
            tokenize(&format!("has({long})")).unwrap_err(),
            ParseError::new(ParseErrorKind::LabelTooLong { len: 513 }, 4)
        );
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let cases = [
            ("a = 'b'", ParseErrorKind::ExpectedDoubleEquals, 2),
            ("a & b", ParseErrorKind::ExpectedDoubleAmpersand, 2),
            ("a | b", ParseErrorKind::ExpectedDoubleBar, 2),
            ("has( )", ParseErrorKind::ExpectedHasLabel, 5),
            (
                "has(a b)",
                ParseErrorKind::ExpectedKeywordClose { keyword: "has" },
                6,
            ),
            (
                "global( x",
                ParseErrorKind::ExpectedKeywordClose { keyword: "global" },
                8,
            ),
            ("é", ParseErrorKind::UnexpectedCharacter { found: 'é' }, 0),
        ];
        for (input, kind, offset) in cases {
            assert_eq!(
                tokenize(input).unwrap_err(),
                ParseError::new(kind, offset),
                "{input}"
            );
        }
    }
}
