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

/// Identifies a node in [`Tree::nodes`].
pub(crate) type NodeId = usize;

/// A range of indices into one of the tree's shared lists ([`Tree::operands`] or
/// [`Tree::values`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Slice {
    pub(crate) start: usize,
    pub(crate) end: usize,
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
    /// `label in {...}` or, when `negated`, `label not in {...}`. The values (a slice of
    /// [`Tree::values`]) are sorted bytewise and de-duplicated (Calico's
    /// `ConvertToStringSetInPlace`), so membership is a binary search.
    InSet {
        label: Span,
        negated: bool,
        values: Slice,
    },
    /// `!operand`.
    Not(NodeId),
    /// `(a && b && ...)`: at least two operands, a slice of [`Tree::operands`].
    And(Slice),
    /// `(a || b || ...)`: at least two operands, a slice of [`Tree::operands`].
    Or(Slice),
}

/// A parsed selector: its text and a tree of nodes pointing into it.
///
/// Nodes live in one vector and refer to each other by index, and the operand lists and set
/// values of all nodes share one vector each: a parse makes a handful of allocations whatever
/// the selector's size, and dropping never recurses. Every index is created by the parser
/// together with the entry it points at, so indexing cannot fail.
#[derive(Clone, Debug)]
pub(crate) struct Tree {
    /// The source text, plus (in tests) any labels rewritten by `Tree::prefix_labels`.
    pub(crate) text: String,
    pub(crate) nodes: Vec<Node>,
    pub(crate) operands: Vec<NodeId>,
    pub(crate) values: Vec<Span>,
    pub(crate) root: NodeId,
}

impl Tree {
    /// The operands of an `And` / `Or` node.
    pub(crate) fn operands(&self, slice: Slice) -> &[NodeId] {
        &self.operands[slice.start..slice.end]
    }

    /// The sorted values of a set node.
    pub(crate) fn values(&self, slice: Slice) -> &[Span] {
        &self.values[slice.start..slice.end]
    }

    /// Prepends `prefix` to every label name (Calico's `PrefixVisitor`). The new names are
    /// appended to the text; the old ones stay unused. Only Calico's vectors need it.
    #[cfg(test)]
    pub(crate) fn prefix_labels(&mut self, prefix: &str) {
        let text = &mut self.text;
        for node in &mut self.nodes {
            if let Node::Has(label) | Node::Compare { label, .. } | Node::InSet { label, .. } = node
            {
                let start = text.len();
                text.push_str(prefix);
                text.extend_from_within(label.start..label.end);
                *label = Span {
                    start,
                    end: text.len(),
                };
            }
        }
    }

    /// Writes node `id` in canonical form.
    fn write_node(&self, f: &mut fmt::Formatter<'_>, id: NodeId) -> fmt::Result {
        let text = self.text.as_str();
        match &self.nodes[id] {
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
                for (index, value) in self.values(*values).iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, value.of(text))?;
                }
                f.write_char('}')
            }
            Node::Not(operand) => {
                f.write_char('!')?;
                self.write_node(f, *operand)
            }
            Node::And(operands) => self.write_joined(f, *operands, " && "),
            Node::Or(operands) => self.write_joined(f, *operands, " || "),
        }
    }

    fn write_joined(
        &self,
        f: &mut fmt::Formatter<'_>,
        slice: Slice,
        separator: &str,
    ) -> fmt::Result {
        f.write_char('(')?;
        for (index, &operand) in self.operands(slice).iter().enumerate() {
            if index > 0 {
                f.write_str(separator)?;
            }
            self.write_node(f, operand)?;
        }
        f.write_char(')')
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

impl fmt::Display for Tree {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_node(f, self.root)
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::parse_root;

    // The tree is built by the parser; these tests check printing and rewriting on parsed input.

    #[test]
    fn prints_like_calico() {
        let tree = parse_root("a=='b'&&!(has(c)||global())&& d startswith 'say \"hi\"'").unwrap();
        assert_eq!(
            tree.to_string(),
            r#"(a == "b" && !(has(c) || global()) && d starts with 'say "hi"')"#
        );
    }

    #[test]
    fn sets_are_sorted_and_deduplicated() {
        let tree = parse_root(r#"k not in {'z', "a", '"', 'a', "",}"#).unwrap();
        assert_eq!(tree.to_string(), r#"k not in {"", '"', "a", "z"}"#);
        let tree = parse_root("k in {} || j in {'b', 'b'} || i in {'c', 'a'}").unwrap();
        assert_eq!(
            tree.to_string(),
            r#"(k in {} || j in {"b"} || i in {"a", "c"})"#
        );
    }

    #[test]
    fn prefix_reaches_every_label() {
        let mut tree = parse_root("!has(a) || b in {'x'} || (c != 'y' && all())").unwrap();
        tree.prefix_labels("p/");
        assert_eq!(
            tree.to_string(),
            r#"(!has(p/a) || p/b in {"x"} || (p/c != "y" && all()))"#
        );
    }
}
