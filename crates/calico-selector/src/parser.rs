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
use super::ast::{Comparison, Node, NodeId, Slice, Span, Tree};
use super::error::{ParseError, ParseErrorKind};
use super::lexer::{Lexer, Token, TokenKind};

/// Parses a whole selector (whose length the caller has already bounded).
pub(crate) fn parse_root(input: &str) -> Result<Tree, ParseError> {
    let mut parser = Parser::new(input)?;
    let root = if parser.kind() == TokenKind::Eof {
        parser.push(Node::All)
    } else {
        parser.or_expression(0)?
    };
    if parser.kind() != TokenKind::Eof {
        return Err(parser.error_here(ParseErrorKind::ExpectedEnd));
    }
    Ok(Tree {
        text: input.to_owned(),
        nodes: parser.nodes,
        operands: parser.operands,
        values: parser.values,
        root,
    })
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
    /// The kind of the token before the current one, to say what an operand was expected after.
    previous: Option<TokenKind>,
    /// The tree under construction (see [`Tree`]).
    nodes: Vec<Node>,
    operands: Vec<NodeId>,
    values: Vec<Span>,
    /// Operands of the `&&` / `||` lists being parsed, innermost last; each list is moved to
    /// `operands` when it is complete.
    pending: Vec<NodeId>,
}

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Result<Self, ParseError> {
        // Rough upper bounds for typical selectors, so that most parses never regrow a vector:
        // 5-22 % faster on three of the four benchmark selectors, ~10 ns slower on the shortest
        // (benches/selector.rs).
        let tokens = input.len() / 4 + 1;
        Ok(Self {
            input,
            lexer: Lexer::new(input)?,
            previous: None,
            nodes: Vec::with_capacity(tokens / 2),
            operands: Vec::with_capacity(tokens / 4),
            values: Vec::with_capacity(tokens / 4),
            pending: Vec::new(),
        })
    }

    #[inline]
    fn kind(&self) -> TokenKind {
        self.lexer.token().kind
    }

    /// Moves to the next token.
    #[inline]
    fn advance(&mut self) -> Result<(), ParseError> {
        self.previous = Some(self.kind());
        self.lexer.advance()
    }

    fn error_here(&self, kind: ParseErrorKind) -> ParseError {
        ParseError::new(kind, self.lexer.token().start)
    }

    fn push(&mut self, node: Node) -> NodeId {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Moves the operands pending since `base` into a list and returns where it is.
    fn finish_list(&mut self, base: usize) -> Slice {
        let start = self.operands.len();
        self.operands.extend(self.pending.drain(base..));
        Slice {
            start,
            end: self.operands.len(),
        }
    }

    /// `and_expr { "||" and_expr }`; a single operand is returned unwrapped.
    fn or_expression(&mut self, depth: usize) -> Result<NodeId, ParseError> {
        let first = self.and_expression(depth)?;
        if self.kind() != TokenKind::Or {
            return Ok(first);
        }
        let base = self.pending.len();
        self.pending.push(first);
        while self.kind() == TokenKind::Or {
            self.advance()?;
            let operand = self.and_expression(depth)?;
            self.pending.push(operand);
        }
        let operands = self.finish_list(base);
        Ok(self.push(Node::Or(operands)))
    }

    /// `operation { "&&" operation }`; a single operand is returned unwrapped.
    fn and_expression(&mut self, depth: usize) -> Result<NodeId, ParseError> {
        let first = self.operation(depth)?;
        if self.kind() != TokenKind::And {
            return Ok(first);
        }
        let base = self.pending.len();
        self.pending.push(first);
        while self.kind() == TokenKind::And {
            self.advance()?;
            let operand = self.operation(depth)?;
            self.pending.push(operand);
        }
        let operands = self.finish_list(base);
        Ok(self.push(Node::And(operands)))
    }

    /// One possibly negated operation. A run of `!` collapses to its parity, as in Calico.
    fn operation(&mut self, depth: usize) -> Result<NodeId, ParseError> {
        let mut negated = false;
        while self.kind() == TokenKind::Not {
            negated = !negated;
            self.advance()?;
        }
        let node = match self.kind() {
            TokenKind::Has => {
                let label = value_span(self.lexer.token());
                self.advance()?;
                self.push(Node::Has(label))
            }
            TokenKind::All => {
                self.advance()?;
                self.push(Node::All)
            }
            TokenKind::Global => {
                self.advance()?;
                self.push(Node::Global)
            }
            TokenKind::Label => self.label_operation()?,
            TokenKind::LParen => self.group(depth)?,
            _ => {
                let after = self.previous.map(TokenKind::spelling);
                return Err(self.error_here(ParseErrorKind::ExpectedTerm { after }));
            }
        };
        Ok(if negated {
            self.push(Node::Not(node))
        } else {
            node
        })
    }

    /// `"(" or_expr ")"`, one level deeper.
    fn group(&mut self, depth: usize) -> Result<NodeId, ParseError> {
        if depth >= MAX_DEPTH {
            return Err(self.error_here(ParseErrorKind::TooDeep));
        }
        let open = self.lexer.token().start;
        self.advance()?;
        let inner = self.or_expression(depth + 1)?;
        if self.kind() != TokenKind::RParen {
            return Err(self.error_here(ParseErrorKind::ExpectedCloseParen { open }));
        }
        self.advance()?;
        Ok(inner)
    }

    /// `label op "value"` or `label (not) in {...}`; the current token is the label.
    fn label_operation(&mut self) -> Result<NodeId, ParseError> {
        let label_token = *self.lexer.token();
        let label = value_span(&label_token);
        self.advance()?;
        let op = match self.kind() {
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
        if self.kind() != TokenKind::StringLiteral {
            let operator = op.as_str();
            return Err(self.error_here(ParseErrorKind::ExpectedString { operator }));
        }
        let value = value_span(self.lexer.token());
        self.advance()?;
        Ok(self.push(Node::Compare { label, op, value }))
    }

    /// `in {...}` / `not in {...}` after `label`; the current token is the operator.
    fn set_operation(&mut self, label: Span) -> Result<NodeId, ParseError> {
        let negated = self.kind() == TokenKind::NotIn;
        self.advance()?;
        if self.kind() != TokenKind::LBrace {
            let operator = if negated { "not in" } else { "in" };
            return Err(self.error_here(ParseErrorKind::ExpectedSet { operator }));
        }
        self.advance()?;
        let start = self.values.len();
        while self.kind() == TokenKind::StringLiteral {
            self.values.push(value_span(self.lexer.token()));
            self.advance()?;
            if self.kind() != TokenKind::Comma {
                break;
            }
            self.advance()?;
        }
        if self.kind() != TokenKind::RBrace {
            let kind = match self.previous {
                Some(TokenKind::StringLiteral) => ParseErrorKind::ExpectedSetSeparator,
                _ => ParseErrorKind::ExpectedSetElement,
            };
            return Err(self.error_here(kind));
        }
        self.advance()?;
        let values = self.sort_set(start);
        Ok(self.push(Node::InSet {
            label,
            negated,
            values,
        }))
    }

    /// Sorts the set values from `start` to the end bytewise and removes duplicates, in place.
    fn sort_set(&mut self, start: usize) -> Slice {
        let text = self.input;
        let set = &mut self.values[start..];
        set.sort_unstable_by(|a, b| a.of(text).cmp(b.of(text)));
        let mut kept = 0;
        for index in 0..set.len() {
            if kept == 0 || set[index].of(text) != set[kept - 1].of(text) {
                set[kept] = set[index];
                kept += 1;
            }
        }
        self.values.truncate(start + kept);
        Slice {
            start,
            end: start + kept,
        }
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
