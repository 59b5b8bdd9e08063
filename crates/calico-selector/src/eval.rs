//! Evaluating a selector against a set of labels (Calico's `Evaluate` methods).

use super::ast::{Comparison, Node, NodeId, Tree};
use super::labels::Labels;

impl Tree {
    /// Whether the labels satisfy the selector.
    pub(crate) fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        self.node_matches(self.root, labels)
    }

    /// Whether the labels satisfy node `id`. `&&` and `||` short-circuit as in Calico; the
    /// recursion follows the tree, whose depth the parser bounds. Negative operators (`!=`,
    /// `not in`) are true when the label is absent; every positive one requires it.
    fn node_matches<L: Labels + ?Sized>(&self, id: NodeId, labels: &L) -> bool {
        let text = self.text.as_str();
        let Some(node) = self.nodes.get(id) else {
            // The parser creates every node id it stores; an unknown one never occurs.
            return false;
        };
        match node {
            Node::All | Node::Global => true,
            Node::Has(label) => labels.get_label(label.of(text)).is_some(),
            Node::Compare { label, op, value } => {
                let value = value.of(text);
                match (labels.get_label(label.of(text)), op) {
                    (None, Comparison::Ne) => true,
                    (None, _) => false,
                    (Some(actual), Comparison::Eq) => actual == value,
                    (Some(actual), Comparison::Ne) => actual != value,
                    (Some(actual), Comparison::Contains) => actual.contains(value),
                    (Some(actual), Comparison::StartsWith) => actual.starts_with(value),
                    (Some(actual), Comparison::EndsWith) => actual.ends_with(value),
                }
            }
            Node::InSet {
                label,
                negated,
                values,
            } => match labels.get_label(label.of(text)) {
                Some(actual) => {
                    let found = self
                        .values(*values)
                        .binary_search_by(|probe| probe.of(text).cmp(actual))
                        .is_ok();
                    found != *negated
                }
                None => *negated,
            },
            Node::Not(operand) => !self.node_matches(*operand, labels),
            Node::And(operands) => self
                .operands(*operands)
                .iter()
                .all(|&operand| self.node_matches(operand, labels)),
            Node::Or(operands) => self
                .operands(*operands)
                .iter()
                .any(|&operand| self.node_matches(operand, labels)),
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
    fn nested_groups_decide_like_the_tree() {
        let selector = "(a == 'x' || b == 'y') && !(c == 'z' && d == 'w')";
        assert!(matches(selector, &[("a", "x")]));
        assert!(matches(selector, &[("b", "y"), ("c", "z")]));
        assert!(!matches(selector, &[("b", "y"), ("c", "z"), ("d", "w")]));
        assert!(!matches(selector, &[("c", "z")]));
        // Same-operator groups stay nested (Calico keeps the parentheses): the inner group's
        // early exit must still pass through the outer group's jump.
        let selector = "(a == 'x' && b == 'y') && c == 'z' || (d == 'w' || e == 'v') || f == 'u'";
        assert!(!matches(selector, &[("b", "y"), ("c", "z")]));
        assert!(matches(selector, &[("a", "x"), ("b", "y"), ("c", "z")]));
        assert!(matches(selector, &[("d", "w")]));
        assert!(matches(selector, &[("f", "u")]));
        assert!(!matches(selector, &[("a", "x"), ("c", "z")]));
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
        // `a` recurs before and after many other labels.
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
