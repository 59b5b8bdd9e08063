//! Recursive-descent parser: Calico's `parser.go` grammar over the pull [`Lexer`].
//!
//! ```text
//! selector  = [ or_expr ] EOF                  (empty or blank: all())
//! or_expr   = and_expr { "||" and_expr }
//! and_expr  = operation { "&&" operation }
//! operation = { "!" } ( has | all | global | label op string | label set_op set | "(" or_expr ")" )
//! set       = "{" [ string { "," string } [ "," ] ] "}"
//! ```
//!
//! Recursion happens only through parentheses and is capped at [`MAX_DEPTH`] levels, so no input
//! can exhaust the stack; every other loop is iterative.

use super::MAX_DEPTH;
use super::ast::{Comparison, Node, Span, Tree};
use super::error::{ParseError, ParseErrorKind};
use super::lexer::{Lexer, Token, TokenKind};

/// Parses a whole selector (whose length the caller has already bounded).
pub(crate) fn parse_root(input: &str) -> Result<Tree, ParseError> {
    let mut parser = Parser::new(input)?;
    let root = if parser.current.kind == TokenKind::Eof {
        Node::All
    } else {
        parser.or_expression(0)?
    };
    match parser.current.kind {
        TokenKind::Eof => Ok(Tree {
            text: input.to_owned(),
            root,
        }),
        _ => Err(parser.error_here(ParseErrorKind::ExpectedEnd)),
    }
}

/// Where a token's value is in the input.
fn value_span(token: &Token<'_>) -> Span {
    Span {
        start: token.value_start,
        end: token.value_start + token.value.len(),
    }
}

struct Parser<'a> {
    input: &'a str,
    lexer: Lexer<'a>,
    /// The token being looked at.
    current: Token<'a>,
    /// The kind of the token before `current`, to say what an operand was expected after.
    previous: Option<TokenKind>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Self, ParseError> {
        let mut lexer = Lexer::new(input);
        let current = lexer.next_token()?;
        Ok(Self {
            input,
            lexer,
            current,
            previous: None,
        })
    }

    /// Moves to the next token.
    fn advance(&mut self) -> Result<(), ParseError> {
        let next = self.lexer.next_token()?;
        self.previous = Some(self.current.kind);
        self.current = next;
        Ok(())
    }

    /// Moves to the next token and returns the one that was current.
    fn take(&mut self) -> Result<Token<'a>, ParseError> {
        let token = self.current;
        self.advance()?;
        Ok(token)
    }

    fn error_here(&self, kind: ParseErrorKind) -> ParseError {
        ParseError::new(kind, self.current.start)
    }

    /// `and_expr { "||" and_expr }`; a single operand is returned unwrapped.
    fn or_expression(&mut self, depth: usize) -> Result<Node, ParseError> {
        let first = self.and_expression(depth)?;
        if self.current.kind != TokenKind::Or {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.current.kind == TokenKind::Or {
            self.advance()?;
            operands.push(self.and_expression(depth)?);
        }
        Ok(Node::Or(operands))
    }

    /// `operation { "&&" operation }`; a single operand is returned unwrapped.
    fn and_expression(&mut self, depth: usize) -> Result<Node, ParseError> {
        let first = self.operation(depth)?;
        if self.current.kind != TokenKind::And {
            return Ok(first);
        }
        let mut operands = vec![first];
        while self.current.kind == TokenKind::And {
            self.advance()?;
            operands.push(self.operation(depth)?);
        }
        Ok(Node::And(operands))
    }

    /// One possibly negated operation. A run of `!` collapses to its parity, as in Calico.
    fn operation(&mut self, depth: usize) -> Result<Node, ParseError> {
        let mut negated = false;
        while self.current.kind == TokenKind::Not {
            negated = !negated;
            self.advance()?;
        }
        let node = match self.current.kind {
            TokenKind::Has => Node::Has(value_span(&self.take()?)),
            TokenKind::All => {
                self.advance()?;
                Node::All
            }
            TokenKind::Global => {
                self.advance()?;
                Node::Global
            }
            TokenKind::Label => self.label_operation()?,
            TokenKind::LParen => self.group(depth)?,
            _ => {
                let after = self.previous.map(TokenKind::spelling);
                return Err(self.error_here(ParseErrorKind::ExpectedTerm { after }));
            }
        };
        Ok(if negated {
            Node::Not(Box::new(node))
        } else {
            node
        })
    }

    /// `"(" or_expr ")"`, one level deeper.
    fn group(&mut self, depth: usize) -> Result<Node, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error_here(ParseErrorKind::TooDeep));
        }
        let open = self.take()?.start;
        let inner = self.or_expression(depth + 1)?;
        if self.current.kind != TokenKind::RParen {
            return Err(self.error_here(ParseErrorKind::ExpectedCloseParen { open }));
        }
        self.advance()?;
        Ok(inner)
    }

    /// `label op "value"` or `label (not) in {...}`; the current token is the label.
    fn label_operation(&mut self) -> Result<Node, ParseError> {
        let label_token = self.take()?;
        let label = value_span(&label_token);
        let comparison = match self.current.kind {
            TokenKind::Eq => Comparison::Eq,
            TokenKind::Ne => Comparison::Ne,
            TokenKind::Contains => Comparison::Contains,
            TokenKind::StartsWith => Comparison::StartsWith,
            TokenKind::EndsWith => Comparison::EndsWith,
            TokenKind::In | TokenKind::NotIn => return self.set_operation(label),
            _ => {
                let label = label_token.value.to_owned();
                return Err(self.error_here(ParseErrorKind::ExpectedOperator { label }));
            }
        };
        self.advance()?;
        if self.current.kind != TokenKind::StringLiteral {
            let operator = comparison.as_str();
            return Err(self.error_here(ParseErrorKind::ExpectedString { operator }));
        }
        let value = value_span(&self.take()?);
        Ok(Node::Compare {
            label,
            op: comparison,
            value,
        })
    }

    /// `in {...}` / `not in {...}` after `label`; the current token is the operator.
    fn set_operation(&mut self, label: Span) -> Result<Node, ParseError> {
        let negated = self.take()?.kind == TokenKind::NotIn;
        if self.current.kind != TokenKind::LBrace {
            let operator = if negated { "not in" } else { "in" };
            return Err(self.error_here(ParseErrorKind::ExpectedSet { operator }));
        }
        self.advance()?;
        let mut values = Vec::new();
        while self.current.kind == TokenKind::StringLiteral {
            values.push(value_span(&self.take()?));
            if self.current.kind != TokenKind::Comma {
                break;
            }
            self.advance()?;
        }
        if self.current.kind != TokenKind::RBrace {
            let kind = match self.previous {
                Some(TokenKind::StringLiteral) => ParseErrorKind::ExpectedSetSeparator,
                _ => ParseErrorKind::ExpectedSetElement,
            };
            return Err(self.error_here(kind));
        }
        self.advance()?;
        Ok(Node::in_set(self.input, label, negated, values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(input: &str) -> (ParseErrorKind, usize) {
        let err = parse_root(input).unwrap_err();
        (err.kind().clone(), err.offset())
    }

    #[test]
    fn precedence_is_not_then_and_then_or() {
        let node = parse_root("!a == 'x' || b == 'y' && !!has(c) || all()").unwrap();
        assert_eq!(
            node.to_string(),
            r#"(!a == "x" || (b == "y" && has(c)) || all())"#
        );
    }

    #[test]
    fn groups_stay_nested_and_single_operands_unwrapped() {
        let node = parse_root("((a == 'x')) && (b == 'y' && (c == 'z'))").unwrap();
        assert_eq!(node.to_string(), r#"(a == "x" && (b == "y" && c == "z"))"#);
    }

    #[test]
    fn blank_is_all() {
        assert_eq!(parse_root(" \t ").unwrap().to_string(), "all()");
    }

    #[test]
    fn errors_say_what_was_expected_where() {
        use ParseErrorKind as E;
        let cases: [(&str, ParseErrorKind, usize); 13] = [
            ("a ==", E::ExpectedString { operator: "==" }, 4),
            (
                "a starts with b",
                E::ExpectedString {
                    operator: "starts with",
                },
                14,
            ),
            ("a not in 'x'", E::ExpectedSet { operator: "not in" }, 9),
            ("a in {'x' 'y'}", E::ExpectedSetSeparator, 10),
            ("a in {,}", E::ExpectedSetElement, 6),
            ("a in {'x',,}", E::ExpectedSetElement, 10),
            ("a", E::ExpectedOperator { label: "a".into() }, 1),
            ("a )", E::ExpectedOperator { label: "a".into() }, 2),
            (")", E::ExpectedTerm { after: None }, 0),
            ("has(a) && ", E::ExpectedTerm { after: Some("&&") }, 10),
            ("!", E::ExpectedTerm { after: Some("!") }, 1),
            ("( a == 'b'", E::ExpectedCloseParen { open: 0 }, 10),
            ("all() all()", E::ExpectedEnd, 6),
        ];
        for (input, kind, offset) in cases {
            assert_eq!(error(input), (kind, offset), "{input}");
        }
    }

    #[test]
    fn depth_limit_is_exactly_max_depth() {
        let ok = format!("{}all(){}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse_root(&ok).unwrap().to_string(), "all()");
        let deep = format!(
            "{}all(){}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(error(&deep), (ParseErrorKind::TooDeep, MAX_DEPTH));
    }

    #[test]
    fn lexer_errors_surface_in_input_order() {
        assert_eq!(
            error("a == 'b' & c"),
            (ParseErrorKind::ExpectedDoubleAmpersand, 9)
        );
    }
}
