//! Evaluating a selector against a set of labels (Calico's `Evaluate` methods).

use super::ast::{Comparison, Node, NodeId, Span, Tree};
use super::labels::{Labels, same};

/// The label looked up last and its value. Selectors often test one label many times
/// (`(rack == 'r1' && ...) || (rack == 'r2' && ...)`); the parser gives repeated label names the
/// same span, so a repeat is recognised by comparing two integers and costs no map lookup.
struct LastLookup<'l> {
    label: Span,
    value: Option<&'l str>,
}

impl Tree {
    /// Whether the labels satisfy the selector.
    pub(crate) fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let mut last = LastLookup {
            label: Span {
                start: usize::MAX,
                end: usize::MAX,
            },
            value: None,
        };
        self.node_matches(self.root, labels, &mut last)
    }

    /// The value of `label`, from the last lookup when it was the same label.
    #[inline(always)]
    fn lookup<'l, L: Labels + ?Sized>(
        &self,
        label: Span,
        labels: &'l L,
        last: &mut LastLookup<'l>,
    ) -> Option<&'l str> {
        if label != last.label {
            last.label = label;
            last.value = labels.get_label(label.of(&self.text));
        }
        last.value
    }

    /// Whether the labels satisfy node `id`.
    fn node_matches<'l, L: Labels + ?Sized>(
        &self,
        id: NodeId,
        labels: &'l L,
        last: &mut LastLookup<'l>,
    ) -> bool {
        match &self.nodes[id] {
            Node::Not(operand) => !self.operand_matches(*operand, labels, last),
            Node::And(operands) => self
                .operands(*operands)
                .iter()
                .all(|&operand| self.operand_matches(operand, labels, last)),
            Node::Or(operands) => self
                .operands(*operands)
                .iter()
                .any(|&operand| self.operand_matches(operand, labels, last)),
            _ => self.leaf_matches(id, labels, last),
        }
    }

    /// Like [`Tree::node_matches`], but evaluates leaves in place: most operands are leaves,
    /// and a call per leaf would cost as much as the label lookup itself.
    #[inline(always)]
    fn operand_matches<'l, L: Labels + ?Sized>(
        &self,
        id: NodeId,
        labels: &'l L,
        last: &mut LastLookup<'l>,
    ) -> bool {
        match &self.nodes[id] {
            Node::Not(_) | Node::And(_) | Node::Or(_) => self.node_matches(id, labels, last),
            _ => self.leaf_matches(id, labels, last),
        }
    }

    /// Whether the labels satisfy node `id`, a node without operands. Negative operators (`!=`,
    /// `not in`) are true when the label is absent; every positive one requires it.
    #[inline(always)]
    fn leaf_matches<'l, L: Labels + ?Sized>(
        &self,
        id: NodeId,
        labels: &'l L,
        last: &mut LastLookup<'l>,
    ) -> bool {
        let text = self.text.as_str();
        match &self.nodes[id] {
            Node::All | Node::Global => true,
            Node::Has(label) => self.lookup(*label, labels, last).is_some(),
            Node::Compare { label, op, value } => {
                let value = value.of(text);
                match (self.lookup(*label, labels, last), op) {
                    (None, Comparison::Ne) => true,
                    (None, _) => false,
                    (Some(actual), Comparison::Eq) => same(actual, value),
                    (Some(actual), Comparison::Ne) => !same(actual, value),
                    (Some(actual), Comparison::Contains) => actual.contains(value),
                    (Some(actual), Comparison::StartsWith) => actual.starts_with(value),
                    (Some(actual), Comparison::EndsWith) => actual.ends_with(value),
                }
            }
            Node::InSet {
                label,
                negated,
                values,
            } => match self.lookup(*label, labels, last) {
                Some(actual) => {
                    let found = self
                        .values(*values)
                        .binary_search_by(|probe| probe.of(text).cmp(actual))
                        .is_ok();
                    found != *negated
                }
                None => *negated,
            },
            Node::Not(_) | Node::And(_) | Node::Or(_) => self.node_matches(id, labels, last),
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
    fn repeated_labels_give_the_same_answer_every_time() {
        // `a` recurs before and after more distinct labels than the parser remembers.
        let selector = "a == 'x' || (b == 'q' && a != 'y') || (c1 == '' || c2 == '' || c3 == '' \
                        || c4 == '' || c5 == '' || c6 == '' || c7 == '' || c8 == '' || c9 == '') \
                        || a in {'z'} || !has(a)";
        assert!(matches(selector, &[("a", "x")]));
        assert!(matches(selector, &[("a", "z")]));
        assert!(matches(selector, &[("b", "q"), ("a", "w")]));
        assert!(!matches(selector, &[("b", "q"), ("a", "y")]));
        assert!(matches(selector, &[]));
        assert!(!matches(selector, &[("a", "w")]));
    }

    #[test]
    fn substring_operators() {
        assert!(matches("k contains 'ac'", &[("k", "rack-01")]));
        assert!(matches("k starts with 'ra'", &[("k", "rack")]));
        assert!(!matches("k starts with 'ck'", &[("k", "rack")]));
        assert!(matches("k ends with 'ck'", &[("k", "rack")]));
    }
}
