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
    /// A linear scan: for the handful of labels a node usually has, as fast as any map.
    fn get_label(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(name, _)| *name == key)
            .map(|(_, value)| *value)
    }
}
