//! The label sets a selector can be evaluated against.

use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

/// A set of labels a selector is evaluated against (Calico's `parser.Labels`).
///
/// A trait rather than a concrete map so that callers can evaluate against whatever they already
/// hold (a Kubernetes object's `BTreeMap`, a `HashMap` with a fast hasher, computed labels)
/// without copying.
pub trait Labels {
    /// The value of the label `key`, if present.
    fn get_label(&self, key: &str) -> Option<&str>;
}

impl<S: BuildHasher> Labels for HashMap<String, String, S> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for BTreeMap<String, String> {
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl Labels for [(&str, &str)] {
    /// A linear scan: for the handful of labels a node usually has, faster than any map.
    fn get_label(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_container_finds_the_same_labels() {
        let pairs = [("rack", "r1"), ("role", "")];
        let btree: BTreeMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let hash: HashMap<String, String> = btree.clone().into_iter().collect();
        for key in ["rack", "role", "racks", "rac", ""] {
            let expected = pairs[..].get_label(key);
            assert_eq!(btree.get_label(key), expected, "{key}");
            assert_eq!(hash.get_label(key), expected, "{key}");
        }
        assert_eq!(pairs[..].get_label("rack"), Some("r1"));
        assert_eq!(pairs[..].get_label("role"), Some(""));
        assert_eq!(pairs[..].get_label("ro"), None);
    }
}
