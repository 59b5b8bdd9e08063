//! Property tests of the selector language against an independent model of the specification
//! (docs/calico-rules.md 6.3 evaluation, 6.4 canonical form):
//!
//! - a generated syntax tree, printed canonically, re-parses to the same canonical form;
//! - the same tree written in any of the accepted spellings (blanks, quotes, redundant
//!   parentheses, `!!`, `startswith`, `notin`, trailing commas) parses to that canonical form;
//! - evaluation of the parsed selector equals the model's evaluation on generated labels;
//! - no input at all makes the parser panic.

use std::collections::BTreeMap;

use calico_selector::{self as selector, MAX_LEN, ParseErrorKind};
use proptest::prelude::*;
use proptest::sample::select;

/// The specification's syntax tree, with values as written (sets unsorted, duplicates kept).
#[derive(Clone, Debug)]
enum Model {
    All,
    Global,
    Has(String),
    Compare(String, Op, String),
    InSet(String, bool, Vec<String>),
    Not(Box<Model>),
    And(Vec<Model>),
    Or(Vec<Model>),
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Eq,
    Ne,
    Contains,
    StartsWith,
    EndsWith,
}

fn quoted(value: &str) -> String {
    if value.contains('"') {
        format!("'{value}'")
    } else {
        format!("\"{value}\"")
    }
}

impl Model {
    /// Calico's `String()`, written from the specification.
    fn canonical(&self) -> String {
        match self {
            Model::All => "all()".into(),
            Model::Global => "global()".into(),
            Model::Has(label) => format!("has({label})"),
            Model::Compare(label, op, value) => {
                let op = match op {
                    Op::Eq => "==",
                    Op::Ne => "!=",
                    Op::Contains => "contains",
                    Op::StartsWith => "starts with",
                    Op::EndsWith => "ends with",
                };
                format!("{label} {op} {}", quoted(value))
            }
            Model::InSet(label, negated, values) => {
                let mut values = values.clone();
                values.sort();
                values.dedup();
                let values: Vec<String> = values.iter().map(|v| quoted(v)).collect();
                let op = if *negated { "not in" } else { "in" };
                format!("{label} {op} {{{}}}", values.join(", "))
            }
            Model::Not(operand) => format!("!{}", operand.canonical()),
            Model::And(operands) => join(operands, " && "),
            Model::Or(operands) => join(operands, " || "),
        }
    }

    /// The evaluation table of the specification.
    fn eval(&self, labels: &BTreeMap<String, String>) -> bool {
        let get = |label: &String| labels.get(label).map(String::as_str);
        match self {
            Model::All | Model::Global => true,
            Model::Has(label) => get(label).is_some(),
            Model::Compare(label, op, value) => match (get(label), op) {
                (None, Op::Ne) => true,
                (None, _) => false,
                (Some(v), Op::Eq) => v == value,
                (Some(v), Op::Ne) => v != value,
                (Some(v), Op::Contains) => v.contains(value.as_str()),
                (Some(v), Op::StartsWith) => v.starts_with(value.as_str()),
                (Some(v), Op::EndsWith) => v.ends_with(value.as_str()),
            },
            Model::InSet(label, negated, values) => match get(label) {
                Some(v) => values.iter().any(|x| x == v) != *negated,
                None => *negated,
            },
            Model::Not(operand) => !operand.eval(labels),
            Model::And(operands) => operands.iter().all(|o| o.eval(labels)),
            Model::Or(operands) => operands.iter().any(|o| o.eval(labels)),
        }
    }

    /// Writes the tree in one of its many accepted spellings, chosen by `noise`.
    fn noisy(&self, noise: &mut Noise) -> String {
        let text = match self {
            Model::All => format!("all({})", noise.blank()),
            Model::Global => format!("global({})", noise.blank()),
            Model::Has(label) => format!("has({}{label}{})", noise.blank(), noise.blank()),
            Model::Compare(label, op, value) => {
                let op = match op {
                    Op::Eq => format!("{}==", noise.blank()),
                    Op::Ne => format!("{}!=", noise.blank()),
                    Op::Contains => format!(" {}contains", noise.blank()),
                    Op::StartsWith => format!(" starts{}with", noise.blank()),
                    Op::EndsWith => format!(" ends{}with", noise.blank()),
                };
                format!("{label}{op}{}{}", noise.blank(), noise.quoted(value))
            }
            Model::InSet(label, negated, values) => {
                let op = if *negated {
                    format!(" not{}in", noise.blank())
                } else {
                    " in".to_string()
                };
                let values: Vec<String> = values.iter().map(|v| noise.quoted(v)).collect();
                let separator = format!("{},{}", noise.blank(), noise.blank());
                let trailing = if !values.is_empty() && noise.flip() {
                    ","
                } else {
                    ""
                };
                format!(
                    "{label}{op}{}{{{}{}{trailing}}}",
                    noise.blank(),
                    noise.blank(),
                    values.join(&separator)
                )
            }
            Model::Not(operand) => {
                let inner = operand.noisy(noise);
                // A parenthesised single operand is the same tree.
                match operand.as_ref() {
                    Model::And(_) | Model::Or(_) | Model::Not(_) => {
                        format!("!{}({inner})", noise.blank())
                    }
                    _ => format!("!{}{inner}", noise.blank()),
                }
            }
            Model::And(operands) => noisy_join(operands, "&&", noise),
            Model::Or(operands) => noisy_join(operands, "||", noise),
        };
        // `!!x` and `(x)` are x.
        let text = if noise.flip() {
            format!("!!{}{text}", noise.blank())
        } else {
            text
        };
        if noise.flip() {
            format!("({}{text}{})", noise.blank(), noise.blank())
        } else {
            text
        }
    }
}

fn join(operands: &[Model], separator: &str) -> String {
    let parts: Vec<String> = operands.iter().map(Model::canonical).collect();
    format!("({})", parts.join(separator))
}

fn noisy_join(operands: &[Model], operator: &str, noise: &mut Noise) -> String {
    let parts: Vec<String> = operands
        .iter()
        .map(|operand| {
            let text = operand.noisy(noise);
            // A nested group of either operator must keep its parentheses.
            match operand {
                Model::And(_) | Model::Or(_) => format!("({text})"),
                _ => text,
            }
        })
        .collect();
    let separator = format!("{}{operator}{}", noise.blank(), noise.blank());
    format!("({})", parts.join(&separator))
}

/// A cycle of random bytes that chooses between equivalent spellings.
struct Noise {
    bytes: Vec<u8>,
    next: usize,
}

impl Noise {
    fn byte(&mut self) -> u8 {
        let byte = self
            .bytes
            .get(self.next % self.bytes.len().max(1))
            .copied()
            .unwrap_or(0);
        self.next += 1;
        byte
    }

    fn flip(&mut self) -> bool {
        self.byte().is_multiple_of(4)
    }

    fn blank(&mut self) -> &'static str {
        ["", "", " ", "\t", "  "][usize::from(self.byte()) % 5]
    }

    fn quoted(&mut self, value: &str) -> String {
        if value.contains('"') || (!value.contains('\'') && self.byte().is_multiple_of(2)) {
            format!("'{value}'")
        } else {
            format!("\"{value}\"")
        }
    }
}

/// Label names: mostly from a small pool (so generated label maps hit them), including words
/// that are keywords or operators elsewhere; sometimes any valid label.
fn label() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["a", "rack", "has", "all", "global", "in", "not", "contains", "starts"])
            .prop_map(String::from),
        1 => "[A-Za-z0-9_./-]{1,16}",
    ]
}

/// Values: any text without both quote characters (no literal can hold both), including blanks,
/// newlines, non-ASCII and selector punctuation.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(vec!["", "x", "y", "rack-01", "it's", "say \"hi\""]).prop_map(String::from),
        1 => "[a-z' \t\n\u{e9}(){},!&|=]{0,8}",
        1 => "[a-z\" \t\n\u{e9}(){},!&|=]{0,8}",
    ]
}

fn op() -> impl Strategy<Value = Op> {
    select(vec![
        Op::Eq,
        Op::Ne,
        Op::Contains,
        Op::StartsWith,
        Op::EndsWith,
    ])
}

fn leaf() -> impl Strategy<Value = Model> {
    prop_oneof![
        Just(Model::All),
        Just(Model::Global),
        label().prop_map(Model::Has),
        (label(), op(), value()).prop_map(|(l, op, v)| Model::Compare(l, op, v)),
        (label(), any::<bool>(), prop::collection::vec(value(), 0..4))
            .prop_map(|(l, negated, values)| Model::InSet(l, negated, values)),
    ]
}

/// Trees as Calico's parser builds them from canonical text: `!` never directly wraps `!`
/// (Calico reads `!!x` as `x`), `&&` and `||` have at least two operands.
fn tree() -> impl Strategy<Value = Model> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner
                .clone()
                .prop_filter("a negation never wraps a negation", |m| !matches!(
                    m,
                    Model::Not(_)
                ))
                .prop_map(|m| Model::Not(Box::new(m))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Model::And),
            prop::collection::vec(inner, 2..4).prop_map(Model::Or),
        ]
    })
}

/// Any tree, including `!` directly around `!` (Calico builds those from `!(!x)`).
fn any_tree() -> impl Strategy<Value = Model> {
    leaf().prop_recursive(5, 48, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|m| Model::Not(Box::new(m))),
            prop::collection::vec(inner.clone(), 2..4).prop_map(Model::And),
            prop::collection::vec(inner, 2..4).prop_map(Model::Or),
        ]
    })
}

fn label_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(label(), value(), 0..5)
}

fn parsed(text: &str) -> Result<selector::Selector, TestCaseError> {
    selector::parse(text).map_err(|err| TestCaseError::fail(err.render(text)))
}

/// Checks everything that must hold for any input, valid or not.
fn check_any_input(input: &str) -> Result<(), TestCaseError> {
    match selector::parse(input) {
        Ok(sel) => {
            // Calico's canonical form is a fixed point after at most one more round (`!(!x)`
            // prints as `!!x`, which reads back as `x`).
            let stable = parsed(&sel.to_string())?.to_string();
            prop_assert_eq!(parsed(&stable)?.to_string(), stable);
        }
        Err(err) => {
            match err.kind() {
                ParseErrorKind::TooLong { .. } => prop_assert_eq!(err.offset(), MAX_LEN),
                _ => prop_assert!(err.offset() <= input.len()),
            }
            prop_assert!(err.render(input).ends_with(&err.to_string()));
        }
    }
    for warning in selector::warnings(input) {
        prop_assert!(warning.chars().count() <= 120);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn canonical_form_reparses_to_itself(model in tree(), labels in label_map()) {
        let canonical = model.canonical();
        let sel = parsed(&canonical)?;
        prop_assert_eq!(sel.to_string(), canonical);
        prop_assert_eq!(sel.matches(&labels), model.eval(&labels));
    }

    #[test]
    fn every_spelling_parses_to_the_canonical_form(
        model in tree(),
        noise in prop::collection::vec(any::<u8>(), 1..64),
        labels in label_map(),
    ) {
        let text = model.noisy(&mut Noise { bytes: noise, next: 0 });
        let sel = parsed(&text)?;
        prop_assert_eq!(sel.to_string(), model.canonical(), "{}", text);
        prop_assert_eq!(sel.matches(&labels), model.eval(&labels), "{}", text);
    }

    #[test]
    fn reparsed_selector_evaluates_like_the_tree(model in any_tree(), labels in label_map()) {
        let sel = parsed(&model.canonical())?;
        prop_assert_eq!(sel.matches(&labels), model.eval(&labels));
        let reparsed = parsed(&sel.to_string())?;
        prop_assert_eq!(reparsed.matches(&labels), model.eval(&labels));
        check_any_input(&model.canonical())?;
    }

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_any_input(&input)?;
    }

    #[test]
    fn strings_of_selector_characters_never_panic(input in "[a-z()!&|='\"{}, \t\n]{0,80}") {
        check_any_input(&input)?;
    }
}
