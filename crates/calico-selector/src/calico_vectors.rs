//! Calico's own selector test vectors (tests/fixtures/calico/selectors.json and
//! selector_tokens.json, taken from Calico v3.28.5 and master): every vector must agree.
//!
//! Unit tests rather than integration tests because two vector kinds need what only they use:
//! [`Selector::prefix_labels`](crate::Selector::prefix_labels) (Calico's `PrefixVisitor`) and
//! [`TokenKind::go_name`] (Calico's token names).

use std::collections::BTreeMap;

use crate::{self as selector, TokenKind};
use serde_json::Value;

fn load(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/tests/fixtures/calico/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"));
    serde_json::from_str(&text).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn str_field<'a>(vector: &'a Value, field: &str) -> &'a str {
    vector[field]
        .as_str()
        .unwrap_or_else(|| panic!("vector without string {field}: {vector}"))
}

#[test]
fn every_selector_vector_agrees() {
    let vectors = load("selectors.json");
    assert_eq!(vectors.len(), 170, "fixture changed size");
    let mut checked = BTreeMap::<&str, usize>::new();
    for vector in &vectors {
        let input = str_field(vector, "selector");
        let valid = vector["valid"].as_bool().expect("valid is a bool");
        let parsed = selector::parse(input);
        assert_eq!(
            parsed.is_ok(),
            valid,
            "validity of {input:?}: {:?} ({})",
            parsed.as_ref().err().map(ToString::to_string),
            vector["source"]
        );
        *checked.entry("validity").or_default() += 1;
        let Ok(mut sel) = parsed else { continue };

        if let Some(canonical) = vector.get("canonical") {
            assert_eq!(
                Some(sel.to_string().as_str()),
                canonical.as_str(),
                "{input:?}"
            );
            *checked.entry("canonical").or_default() += 1;
        }
        if let Some(labels) = vector.get("labels") {
            let labels: BTreeMap<String, String> =
                serde_json::from_value(labels.clone()).expect("labels are strings");
            let expected = vector["matches"].as_bool().expect("matches is a bool");
            assert_eq!(sel.matches(&labels), expected, "{input:?} on {labels:?}");
            *checked.entry("matches").or_default() += 1;
        }
        if let Some(prefix) = vector.get("prefix_visitor") {
            sel.prefix_labels(prefix.as_str().expect("prefix is a string"));
            assert_eq!(
                sel.to_string(),
                str_field(vector, "visited_canonical"),
                "{input:?}"
            );
            *checked.entry("prefix_visitor").or_default() += 1;
        }
        // `uniqueId` (SHA-224 of the canonical form) is not computed by this crate; the canonical
        // form it hashes is checked above.
    }
    assert_eq!(
        checked,
        BTreeMap::from([
            ("canonical", 23),
            ("matches", 70),
            ("prefix_visitor", 5),
            ("validity", 170),
        ])
    );
}

#[test]
fn every_token_vector_agrees() {
    let vectors = load("selector_tokens.json");
    assert_eq!(vectors.len(), 48, "fixture changed size");
    for vector in &vectors {
        let input = str_field(vector, "input");
        let expected_ok = vector["tokenize_ok"]
            .as_bool()
            .expect("tokenize_ok is a bool");
        let tokens = selector::tokenize(input);
        assert_eq!(tokens.is_ok(), expected_ok, "{input:?}: {tokens:?}");
        let Ok(tokens) = tokens else { continue };
        let actual: Vec<(&str, &str)> = tokens
            .iter()
            .map(|token| (token.kind.go_name(), token.value))
            .collect();
        let expected: Vec<(&str, &str)> = vector["tokens"]
            .as_array()
            .expect("tokens is an array")
            .iter()
            .map(|token| {
                (
                    str_field(token, "kind"),
                    token.get("value").and_then(Value::as_str).unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(actual, expected, "{input:?}");
        assert_eq!(tokens.last().map(|t| t.kind), Some(TokenKind::Eof));
    }
}

/// A failed tokenization makes the whole selector invalid. (The converse does not hold:
/// `a not in "bar"` tokenizes but does not parse, so successful vectors are not parsed here.)
#[test]
fn token_vectors_that_fail_to_tokenize_fail_to_parse() {
    for vector in load("selector_tokens.json") {
        if vector["tokenize_ok"] == Value::Bool(false) {
            let input = str_field(&vector, "input");
            assert!(selector::parse(input).is_err(), "{input:?}");
        }
    }
}
