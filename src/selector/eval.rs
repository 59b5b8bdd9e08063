//! Evaluating a selector against a set of labels (Calico's `Evaluate` methods).

use super::ast::{Comparison, Node};
use super::labels::Labels;

impl Node {
    /// Whether the labels satisfy this node. Negative operators (`!=`, `not in`) are true when
    /// the label is absent; every positive one requires it.
    pub(crate) fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        match self {
            Self::All | Self::Global => true,
            Self::Has(label) => labels.get_label(label).is_some(),
            Self::Compare { label, op, value } => match (labels.get_label(label), op) {
                (None, Comparison::Ne) => true,
                (None, _) => false,
                (Some(actual), Comparison::Eq) => actual == &**value,
                (Some(actual), Comparison::Ne) => actual != &**value,
                (Some(actual), Comparison::Contains) => actual.contains(&**value),
                (Some(actual), Comparison::StartsWith) => actual.starts_with(&**value),
                (Some(actual), Comparison::EndsWith) => actual.ends_with(&**value),
            },
            Self::InSet {
                label,
                negated,
                values,
            } => match labels.get_label(label) {
                Some(actual) => {
                    let found = values
                        .binary_search_by(|probe| (**probe).cmp(actual))
                        .is_ok();
                    found != *negated
                }
                None => *negated,
            },
            Self::Not(operand) => !operand.matches(labels),
            Self::And(operands) => operands.iter().all(|operand| operand.matches(labels)),
            Self::Or(operands) => operands.iter().any(|operand| operand.matches(labels)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::parser::parse_root;

    fn matches(selector: &str, labels: &[(&str, &str)]) -> bool {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_root(selector).unwrap().matches(&labels)
    }

    #[test]
    fn absent_labels_satisfy_only_negative_operators() {
        for selector in ["a != 'x'", "a not in {'x'}", "a not in {}", "!has(a)"] {
            assert!(matches(selector, &[]), "{selector}");
        }
        for selector in [
            "a == ''",
            "a contains ''",
            "a starts with ''",
            "a ends with ''",
            "a in {''}",
            "has(a)",
        ] {
            assert!(!matches(selector, &[]), "{selector}");
            assert!(matches(selector, &[("a", "")]), "{selector}");
        }
    }

    #[test]
    fn sets_use_exact_membership() {
        let selector = "k in {'b', 'a', 'c', 'a'}";
        assert!(matches(selector, &[("k", "a")]));
        assert!(matches(selector, &[("k", "c")]));
        assert!(!matches(selector, &[("k", "d")]));
        assert!(!matches(selector, &[("k", "A")]));
        assert!(!matches("k in {}", &[("k", "")]));
    }

    #[test]
    fn substring_operators() {
        assert!(matches("k contains 'ac'", &[("k", "rack-01")]));
        assert!(matches("k starts with 'ra'", &[("k", "rack")]));
        assert!(!matches("k starts with 'ck'", &[("k", "rack")]));
        assert!(matches("k ends with 'ck'", &[("k", "rack")]));
    }
}
