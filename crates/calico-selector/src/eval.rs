//! Evaluating a selector against a set of labels (Calico's `Evaluate` methods).

use super::ast::{Comparison, Node, NodeId, Span, Tree};
use super::labels::{Labels, same};

/// One instruction of a selector compiled for evaluation.
///
/// Matching walks a flat program instead of the tree: each step reads or sets one boolean, the
/// result so far, and `&&` / `||` short-circuit by jumping over the operands they no longer
/// need. No recursion and no call per node, so evaluating costs little more than the label
/// lookups themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// The result is whether the labels satisfy this leaf node (`has`, a comparison, a set test,
    /// `all()`, `global()`).
    Leaf(NodeId),
    /// The result is negated (`!`).
    Not,
    /// When the result equals `when`, continue at step `to`: an `&&` already false
    /// (`when: false`) or an `||` already true (`when: true`).
    JumpIf { when: bool, to: usize },
    /// `Leaf` then `JumpIf`, fused: the usual shape of an `&&` or `||` operand.
    LeafThenJumpIf { leaf: NodeId, when: bool, to: usize },
}

/// Marks the end of a chain of jumps still waiting for their target.
const UNPATCHED: usize = usize::MAX;

/// Compiles the tree under `root` into a program (see [`Step`]).
///
/// An n-ary `a && b && c` becomes `a; jump to end if false; b; jump to end if false; c; end:`
/// (and `||` likewise, jumping if true), so the result register always holds the value of the last
/// operand evaluated, which is the value of the whole group. Recursion follows the tree, whose
/// depth the parser bounds.
pub(crate) fn compile(nodes: &[Node], operands: &[NodeId], root: NodeId) -> Vec<Step> {
    let mut program = Vec::with_capacity(nodes.len() + operands.len());
    emit(nodes, operands, root, &mut program);
    program
}

fn emit(nodes: &[Node], operands: &[NodeId], id: NodeId, program: &mut Vec<Step>) {
    let (group, short_circuits_on) = match nodes.get(id) {
        Some(Node::Not(operand)) => {
            emit(nodes, operands, *operand, program);
            program.push(Step::Not);
            return;
        }
        Some(Node::And(group)) => (group, false),
        Some(Node::Or(group)) => (group, true),
        Some(_) => {
            program.push(Step::Leaf(id));
            return;
        }
        None => return,
    };
    let members = operands.get(group.start..group.end).unwrap_or_default();
    // The group's jumps are chained through their targets until the group's end is known.
    let mut pending = UNPATCHED;
    for (index, &member) in members.iter().enumerate() {
        emit(nodes, operands, member, program);
        if index + 1 < members.len() {
            // A leaf operand and its jump become one step. Only a leaf that is itself the
            // operand: a leaf ending a nested group may be the target of that group's jumps,
            // which must still reach this jump.
            let leaf = match program.last() {
                Some(&Step::Leaf(leaf)) if leaf == member => program.pop().map(|_| leaf),
                _ => None,
            };
            let (when, to) = (short_circuits_on, pending);
            let jump = match leaf {
                Some(leaf) => Step::LeafThenJumpIf { leaf, when, to },
                None => Step::JumpIf { when, to },
            };
            pending = program.len();
            program.push(jump);
        }
    }
    let end = program.len();
    while let Some(step) = program.get_mut(pending) {
        let (Step::JumpIf { to, .. } | Step::LeafThenJumpIf { to, .. }) = step else {
            break;
        };
        pending = std::mem::replace(to, end);
    }
}

/// The label looked up last and its value. Selectors often test one label many times
/// (`(rack == 'r1' && ...) || (rack == 'r2' && ...)`); the parser gives repeated label names the
/// same span, so a repeat is recognised by comparing two integers and costs no map lookup.
struct LastLookup<'l> {
    label: Span,
    value: Option<&'l str>,
}

impl Tree {
    /// Whether the labels satisfy the selector: runs the compiled program.
    pub(crate) fn matches<L: Labels + ?Sized>(&self, labels: &L) -> bool {
        let mut last = LastLookup {
            label: Span {
                start: usize::MAX,
                end: usize::MAX,
            },
            value: None,
        };
        let mut result = true;
        let mut next = 0;
        while let Some(&step) = self.program.get(next) {
            next += 1;
            match step {
                Step::Leaf(id) => result = self.leaf_matches(id, labels, &mut last),
                Step::Not => result = !result,
                Step::JumpIf { when, to } => {
                    if result == when {
                        next = to;
                    }
                }
                Step::LeafThenJumpIf { leaf, when, to } => {
                    result = self.leaf_matches(leaf, labels, &mut last);
                    if result == when {
                        next = to;
                    }
                }
            }
        }
        result
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

    /// Whether the labels satisfy node `id`, a node without operands (the only kind a
    /// [`Step::Leaf`] names). Negative operators (`!=`, `not in`) are true when the label is
    /// absent; every positive one requires it.
    #[inline(always)]
    fn leaf_matches<'l, L: Labels + ?Sized>(
        &self,
        id: NodeId,
        labels: &'l L,
        last: &mut LastLookup<'l>,
    ) -> bool {
        let text = self.text.as_str();
        match self.nodes.get(id) {
            Some(Node::All | Node::Global) => true,
            Some(Node::Has(label)) => self.lookup(*label, labels, last).is_some(),
            Some(Node::Compare { label, op, value }) => {
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
            Some(Node::InSet {
                label,
                negated,
                values,
            }) => match self.lookup(*label, labels, last) {
                Some(actual) => {
                    let found = self
                        .values(*values)
                        .binary_search_by(|probe| probe.of(text).cmp(actual))
                        .is_ok();
                    found != *negated
                }
                None => *negated,
            },
            // `compile` names only leaves in `Step::Leaf`, and only nodes that exist.
            Some(Node::Not(_) | Node::And(_) | Node::Or(_)) | None => false,
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
    fn groups_compile_to_short_circuit_jumps_past_their_end() {
        use super::Step::{JumpIf, Leaf, LeafThenJumpIf, Not};
        // Nodes are numbered in parse order: a=0, b=1, (a && b)=2, !c: c=3 then Not=4, d=5, ...
        let tree = parse_root("a == 'x' && b == 'y' || !has(c) || has(d)").unwrap();
        assert_eq!(
            tree.program,
            [
                LeafThenJumpIf {
                    leaf: 0,
                    when: false,
                    to: 2
                },
                Leaf(1),
                JumpIf { when: true, to: 7 },
                Leaf(3),
                Not,
                JumpIf { when: true, to: 7 },
                Leaf(5),
            ]
        );
        assert_eq!(parse_root("").unwrap().program, [Leaf(0)]);
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
