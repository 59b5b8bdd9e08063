//! Properties of generated syntax trees: the canonical form re-parses to the same tree, and
//! evaluation is unchanged by printing and re-parsing.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::sample::select;

use super::ast::{Comparison, Node};
use super::parser::parse_root;

/// Label names: mostly from a small pool (so generated label maps hit them), including words
/// that are keywords or operators elsewhere; sometimes any valid label.
fn label() -> impl Strategy<Value = Box<str>> {
    prop_oneof![
        3 => select(vec!["a", "rack", "has", "all", "global", "in", "not", "contains", "starts"])
            .prop_map(Box::from),
        1 => "[A-Za-z0-9_./-]{1,16}".prop_map(Box::from),
    ]
}

/// Values: any text that does not hold both quote characters (no literal can), including
/// blanks, newlines, non-ASCII and one kind of quote.
fn value() -> impl Strategy<Value = Box<str>> {
    prop_oneof![
        3 => select(vec!["", "x", "y", "rack-01", "it's", "say \"hi\""]).prop_map(Box::from),
        1 => "[a-z' \t\n\u{e9}(){},!&|=]{0,8}".prop_map(Box::from),
        1 => "[a-z\" \t\n\u{e9}(){},!&|=]{0,8}".prop_map(Box::from),
    ]
}

fn comparison() -> impl Strategy<Value = Comparison> {
    select(vec![
        Comparison::Eq,
        Comparison::Ne,
        Comparison::Contains,
        Comparison::StartsWith,
        Comparison::EndsWith,
    ])
}

fn leaf() -> impl Strategy<Value = Node> {
    prop_oneof![
        Just(Node::All),
        Just(Node::Global),
        label().prop_map(Node::Has),
        (label(), comparison(), value()).prop_map(|(label, op, value)| Node::Compare {
            label,
            op,
            value
        }),
        (label(), any::<bool>(), prop::collection::vec(value(), 0..4))
            .prop_map(|(label, negated, values)| Node::in_set(&label, negated, values)),
    ]
}

/// Trees the parser can produce from canonical text: `!` never directly wraps `!` (Calico reads
/// `!!x` as `x`), `&&`/`||` have at least two operands.
fn tree() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_filter("a negation never wraps a negation", |node| {
                    !matches!(node, Node::Not(_))
                })
                .prop_map(|node| Node::Not(Box::new(node))),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|operands| Node::And(operands.into_boxed_slice())),
            prop::collection::vec(inner, 2..4)
                .prop_map(|operands| Node::Or(operands.into_boxed_slice())),
        ]
    })
}

/// Any tree, including `!` directly around `!` (Calico builds those from `!(!x)`).
fn any_tree() -> impl Strategy<Value = Node> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|node| Node::Not(Box::new(node))),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|operands| Node::And(operands.into_boxed_slice())),
            prop::collection::vec(inner, 2..4)
                .prop_map(|operands| Node::Or(operands.into_boxed_slice())),
        ]
    })
}

fn label_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        label().prop_map(String::from),
        value().prop_map(String::from),
        0..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_form_reparses_to_the_same_tree(node in tree()) {
        let printed = node.to_string();
        let reparsed = parse_root(&printed)
            .map_err(|err| TestCaseError::fail(format!("{printed:?}: {err}")))?;
        prop_assert_eq!(&reparsed, &node, "{}", printed);
        prop_assert_eq!(reparsed.to_string(), printed);
    }

    #[test]
    fn reparsed_tree_evaluates_like_the_original(node in any_tree(), labels in label_map()) {
        let printed = node.to_string();
        let reparsed = parse_root(&printed)
            .map_err(|err| TestCaseError::fail(format!("{printed:?}: {err}")))?;
        prop_assert_eq!(reparsed.matches(&labels), node.matches(&labels), "{}", printed);
        // One more round reaches Calico's fixed point even for `!(!x)`, printed as `!!x`.
        let canonical = reparsed.to_string();
        let again = parse_root(&canonical)
            .map_err(|err| TestCaseError::fail(format!("{canonical:?}: {err}")))?;
        prop_assert_eq!(again.to_string(), canonical);
    }
}
