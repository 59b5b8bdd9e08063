//! The parsed selector's tree and its canonical form: Calico's `parser/ast.go` `String()`, byte
//! for byte.
//!
//! Label names and values are not copied one by one: the selector keeps one copy of its source
//! text and the tree refers to byte ranges ([`Span`]) in it. Parsing therefore allocates only for
//! the text, the `&&`/`||` operand lists and the sets, which keeps it several times faster than
//! Calico's own parser.

use std::fmt::{self, Write};

/// A byte range in a selector's text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Span {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Span {
    /// The text the span covers (empty if it were ever out of range, which parsing rules out).
    #[inline]
    pub(crate) fn of(self, text: &str) -> &str {
        text.get(self.start..self.end).unwrap_or_default()
    }
}

/// A comparison between a label's value and a string literal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Comparison {
    /// `==`: present and equal.
    Eq,
    /// `!=`: absent, or present and different.
    Ne,
    /// `contains`: present and containing the literal.
    Contains,
    /// `starts with`: present and starting with the literal.
    StartsWith,
    /// `ends with`: present and ending with the literal.
    EndsWith,
}

impl Comparison {
    /// The operator as Calico prints it (and as it appears in error messages).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "==",
            Self::Ne => "!=",
            Self::Contains => "contains",
            Self::StartsWith => "starts with",
            Self::EndsWith => "ends with",
        }
    }
}

/// A node of the selector's syntax tree: one of Calico's AST node types.
///
/// The tree keeps Calico's shape exactly, because the canonical form is printed from it: `&&` and
/// `||` are n-ary and flat within one level, a parenthesised group stays a nested node, a single
/// operand is never wrapped, and a run of `!` becomes at most one `Not`.
#[derive(Clone, Debug)]
pub(crate) enum Node {
    /// `all()`, or an empty selector.
    All,
    /// `global()`: matches everything (its restrictions apply only to policy rules).
    Global,
    /// `has(label)`.
    Has(Span),
    /// `label <op> "value"`.
    Compare {
        label: Span,
        op: Comparison,
        value: Span,
    },
    /// `label in {...}` or, when `negated`, `label not in {...}`. The values are sorted bytewise
    /// and de-duplicated (Calico's `ConvertToStringSetInPlace`), so membership is a binary search.
    InSet {
        label: Span,
        negated: bool,
        values: Vec<Span>,
    },
    /// `!operand`.
    Not(Box<Node>),
    /// `(a && b && ...)`, at least two operands.
    And(Vec<Node>),
    /// `(a || b || ...)`, at least two operands.
    Or(Vec<Node>),
}

/// The text of a selector together with the tree that points into it.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    /// The source text, plus any labels rewritten by [`Tree::prefix_labels`].
    pub(crate) text: String,
    pub(crate) root: Node,
}

impl Node {
    /// Builds a set node from the literals as written: sorts and de-duplicates them by their
    /// text in `text`.
    pub(crate) fn in_set(text: &str, label: Span, negated: bool, mut values: Vec<Span>) -> Self {
        values.sort_unstable_by(|a, b| a.of(text).cmp(b.of(text)));
        values.dedup_by(|a, b| a.of(text) == b.of(text));
        Self::InSet {
            label,
            negated,
            values,
        }
    }

    /// Calls `visit` on every label name in the tree.
    fn for_each_label(&mut self, visit: &mut impl FnMut(&mut Span)) {
        match self {
            Self::All | Self::Global => {}
            Self::Has(label) | Self::Compare { label, .. } | Self::InSet { label, .. } => {
                visit(label)
            }
            Self::Not(operand) => operand.for_each_label(visit),
            Self::And(operands) | Self::Or(operands) => {
                for operand in operands {
                    operand.for_each_label(visit);
                }
            }
        }
    }
}

impl Tree {
    /// Prepends `prefix` to every label name (Calico's `PrefixVisitor`). The new names are
    /// appended to the text; the old ones stay unused.
    pub(crate) fn prefix_labels(&mut self, prefix: &str) {
        let text = &mut self.text;
        self.root.for_each_label(&mut |label: &mut Span| {
            let start = text.len();
            text.push_str(prefix);
            text.extend_from_within(label.start..label.end);
            *label = Span {
                start,
                end: text.len(),
            };
        });
    }
}

/// Writes `value` in double quotes, or in single quotes when it contains a double quote (a
/// literal can never contain both, so this always re-parses to the same value).
fn write_quoted(f: &mut fmt::Formatter<'_>, value: &str) -> fmt::Result {
    let quote = if value.contains('"') { '\'' } else { '"' };
    f.write_char(quote)?;
    f.write_str(value)?;
    f.write_char(quote)
}

/// Writes `node` in canonical form.
fn write_node(f: &mut fmt::Formatter<'_>, text: &str, node: &Node) -> fmt::Result {
    match node {
        Node::All => f.write_str("all()"),
        Node::Global => f.write_str("global()"),
        Node::Has(label) => {
            f.write_str("has(")?;
            f.write_str(label.of(text))?;
            f.write_char(')')
        }
        Node::Compare { label, op, value } => {
            f.write_str(label.of(text))?;
            f.write_char(' ')?;
            f.write_str(op.as_str())?;
            f.write_char(' ')?;
            write_quoted(f, value.of(text))
        }
        Node::InSet {
            label,
            negated,
            values,
        } => {
            f.write_str(label.of(text))?;
            f.write_str(if *negated { " not in {" } else { " in {" })?;
            for (index, value) in values.iter().enumerate() {
                if index > 0 {
                    f.write_str(", ")?;
                }
                write_quoted(f, value.of(text))?;
            }
            f.write_char('}')
        }
        Node::Not(operand) => {
            f.write_char('!')?;
            write_node(f, text, operand)
        }
        Node::And(operands) => write_joined(f, text, operands, " && "),
        Node::Or(operands) => write_joined(f, text, operands, " || "),
    }
}

fn write_joined(
    f: &mut fmt::Formatter<'_>,
    text: &str,
    operands: &[Node],
    separator: &str,
) -> fmt::Result {
    f.write_char('(')?;
    for (index, operand) in operands.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        write_node(f, text, operand)?;
    }
    f.write_char(')')
}

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_node(f, &self.text, &self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree over `text` whose spans are found by searching for each piece.
    fn span(text: &str, piece: &str) -> Span {
        let start = text.find(piece).unwrap();
        Span {
            start,
            end: start + piece.len(),
        }
    }

    #[test]
    fn prints_like_calico() {
        let text = "a b c d say \"hi\"";
        let tree = Tree {
            text: text.into(),
            root: Node::And(vec![
                Node::Compare {
                    label: span(text, "a"),
                    op: Comparison::Eq,
                    value: span(text, "b"),
                },
                Node::Not(Box::new(Node::Or(vec![
                    Node::Has(span(text, "c")),
                    Node::Global,
                ]))),
                Node::Compare {
                    label: span(text, "d"),
                    op: Comparison::StartsWith,
                    value: span(text, "say \"hi\""),
                },
            ]),
        };
        assert_eq!(
            tree.to_string(),
            r#"(a == "b" && !(has(c) || global()) && d starts with 'say "hi"')"#
        );
    }

    #[test]
    fn sets_are_sorted_and_deduplicated() {
        let text = "k z a \" a ";
        let values = vec![
            span(text, "z"),
            span(text, "a"),
            span(text, "\""),
            Span { start: 8, end: 9 },
            Span { start: 10, end: 10 },
        ];
        let root = Node::in_set(text, span(text, "k"), true, values);
        let tree = Tree {
            text: text.into(),
            root,
        };
        assert_eq!(tree.to_string(), r#"k not in {"", '"', "a", "z"}"#);
    }

    #[test]
    fn prefix_reaches_every_label() {
        let text = "a b c x y";
        let mut tree = Tree {
            text: text.into(),
            root: Node::Or(vec![
                Node::Not(Box::new(Node::Has(span(text, "a")))),
                Node::in_set(text, span(text, "b"), false, vec![span(text, "x")]),
                Node::Compare {
                    label: span(text, "c"),
                    op: Comparison::Ne,
                    value: span(text, "y"),
                },
                Node::All,
            ]),
        };
        tree.prefix_labels("p/");
        assert_eq!(
            tree.to_string(),
            r#"(!has(p/a) || p/b in {"x"} || p/c != "y" || all())"#
        );
    }
}
