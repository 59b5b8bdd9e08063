//! The parsed selector and its canonical form: Calico's `parser/ast.go` `String()`, byte for
//! byte.

use std::fmt::{self, Write};

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
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Node {
    /// `all()`, or an empty selector.
    All,
    /// `global()`: matches everything (its restrictions apply only to policy rules).
    Global,
    /// `has(label)`.
    Has(Box<str>),
    /// `label <op> "value"`.
    Compare {
        label: Box<str>,
        op: Comparison,
        value: Box<str>,
    },
    /// `label in {...}` or, when `negated`, `label not in {...}`. The values are sorted bytewise
    /// and de-duplicated (Calico's `ConvertToStringSetInPlace`), so membership is a binary search.
    InSet {
        label: Box<str>,
        negated: bool,
        values: Box<[Box<str>]>,
    },
    /// `!operand`.
    Not(Box<Node>),
    /// `(a && b && ...)`, at least two operands.
    And(Box<[Node]>),
    /// `(a || b || ...)`, at least two operands.
    Or(Box<[Node]>),
}

impl Node {
    /// Builds a set node from the literals as written: sorts and de-duplicates them.
    pub(crate) fn in_set(label: &str, negated: bool, mut values: Vec<Box<str>>) -> Self {
        values.sort_unstable();
        values.dedup();
        Self::InSet {
            label: label.into(),
            negated,
            values: values.into_boxed_slice(),
        }
    }

    /// Prepends `prefix` to every label name (Calico's `PrefixVisitor`).
    pub(crate) fn prefix_labels(&mut self, prefix: &str) {
        let prefixed = |label: &mut Box<str>| *label = format!("{prefix}{label}").into();
        match self {
            Self::All | Self::Global => {}
            Self::Has(label) | Self::Compare { label, .. } | Self::InSet { label, .. } => {
                prefixed(label)
            }
            Self::Not(operand) => operand.prefix_labels(prefix),
            Self::And(operands) | Self::Or(operands) => {
                for operand in operands.iter_mut() {
                    operand.prefix_labels(prefix);
                }
            }
        }
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

fn write_joined(f: &mut fmt::Formatter<'_>, operands: &[Node], separator: &str) -> fmt::Result {
    f.write_char('(')?;
    for (index, operand) in operands.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        fmt::Display::fmt(operand, f)?;
    }
    f.write_char(')')
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::All => f.write_str("all()"),
            Self::Global => f.write_str("global()"),
            Self::Has(label) => write!(f, "has({label})"),
            Self::Compare { label, op, value } => {
                write!(f, "{label} {} ", op.as_str())?;
                write_quoted(f, value)
            }
            Self::InSet {
                label,
                negated,
                values,
            } => {
                let op = if *negated { "not in" } else { "in" };
                write!(f, "{label} {op} {{")?;
                for (index, value) in values.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write_quoted(f, value)?;
                }
                f.write_char('}')
            }
            Self::Not(operand) => write!(f, "!{operand}"),
            Self::And(operands) => write_joined(f, operands, " && "),
            Self::Or(operands) => write_joined(f, operands, " || "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(label: &str, op: Comparison, value: &str) -> Node {
        Node::Compare {
            label: label.into(),
            op,
            value: value.into(),
        }
    }

    #[test]
    fn prints_like_calico() {
        let node = Node::And(
            vec![
                compare("a", Comparison::Eq, "b"),
                Node::Not(Box::new(Node::Or(
                    vec![Node::Has("c".into()), Node::Global].into(),
                ))),
                compare("d", Comparison::StartsWith, "say \"hi\""),
            ]
            .into(),
        );
        assert_eq!(
            node.to_string(),
            r#"(a == "b" && !(has(c) || global()) && d starts with 'say "hi"')"#
        );
    }

    #[test]
    fn sets_are_sorted_and_deduplicated() {
        let values = ["z", "a", "\"", "a", ""].map(Box::<str>::from).to_vec();
        let node = Node::in_set("k", true, values);
        assert_eq!(node.to_string(), r#"k not in {"", '"', "a", "z"}"#);
        assert_eq!(Node::in_set("k", false, Vec::new()).to_string(), "k in {}");
    }

    #[test]
    fn prefix_reaches_every_label() {
        let mut node = Node::Or(
            vec![
                Node::Not(Box::new(Node::Has("a".into()))),
                Node::in_set("b", false, vec!["x".into()]),
                compare("c", Comparison::Ne, "y"),
                Node::All,
            ]
            .into(),
        );
        node.prefix_labels("p/");
        assert_eq!(
            node.to_string(),
            r#"(!has(p/a) || p/b in {"x"} || p/c != "y" || all())"#
        );
    }
}
