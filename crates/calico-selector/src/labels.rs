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
            .find(|(name, _)| same(name, key))
            .map(|(_, value)| *value)
    }
}

/// String equality tuned for label names and values, which are short (Kubernetes caps both at
/// 63 bytes after an optional prefix): a length check and a few word-sized comparisons beat a
/// call into `memcmp` or a byte loop.
#[inline(always)]
pub(crate) fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let len = a.len();
    if len != b.len() {
        return false;
    }
    match len {
        0..4 => a == b,
        4..8 => {
            word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, len - 4) == word::<4>(b, len - 4)
        }
        8..=32 => {
            // Whole words, then one last word that may overlap the previous one.
            (0..len / 8).all(|i| word::<8>(a, i * 8) == word::<8>(b, i * 8))
                && word::<8>(a, len - 8) == word::<8>(b, len - 8)
        }
        _ => a == b,
    }
}

/// The `N` bytes of `bytes` at `at` as an integer (callers keep `at + N` within bounds; out of
/// range reads as 0, which only `same`'s length checks could make reachable).
#[inline(always)]
fn word<const N: usize>(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    if let Some(source) = bytes.get(at..at + N) {
        word[..N].copy_from_slice(source);
    }
    u64::from_ne_bytes(word)
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

    #[test]
    fn same_is_string_equality() {
        let base = "abcdefghijklmnopqrstuvwxyz0123456789-._/ABCDEFGHIJ";
        for len in 0..base.len() {
            let a = &base[..len];
            assert!(same(a, a), "{a:?}");
            for at in 0..len {
                let mut b = a.as_bytes().to_vec();
                b[at] = b'#';
                let b = String::from_utf8(b).unwrap();
                assert!(!same(a, &b), "{a:?} {b:?}");
            }
            assert!(!same(a, &base[..len + 1]));
        }
        for (a, b) in [("", ""), ("é", "e"), ("xé", "xé")] {
            assert_eq!(same(a, b), a == b, "{a:?} {b:?}");
        }
    }
}
