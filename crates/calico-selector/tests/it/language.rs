//! The selector language's edge cases from the specification (docs/calico-rules.md section 6), beyond
//! Calico's own vectors: where v3.28 and v3.30+ differ, this crate follows v3.30+.

use std::collections::HashMap;

use calico_selector::{self as selector, ParseErrorKind};

fn canonical(input: &str) -> String {
    match selector::parse(input) {
        Ok(sel) => sel.to_string(),
        Err(err) => panic!("{input:?} should parse: {err}"),
    }
}

fn rejected(input: &str) -> ParseErrorKind {
    match selector::parse(input) {
        Ok(sel) => panic!("{input:?} should be rejected, parsed as {sel}"),
        Err(err) => err.kind().clone(),
    }
}

#[test]
fn keywords_and_operator_words_are_ordinary_labels_elsewhere() {
    assert_eq!(
        canonical("contains contains 'contains'"),
        r#"contains contains "contains""#
    );
    assert_eq!(canonical("not in {'a'}"), r#"not in {"a"}"#);
    assert_eq!(
        canonical("has == 'x' && all != 'y'"),
        r#"(has == "x" && all != "y")"#
    );
    assert_eq!(canonical("global in {}"), "global in {}");
    assert_eq!(
        canonical("- == '' || / == '' || a//b == '' || .x == ''"),
        r#"(- == "" || / == "" || a//b == "" || .x == "")"#
    );
}

#[test]
fn operator_spellings() {
    assert_eq!(canonical("a startswith 'x'"), r#"a starts with "x""#);
    assert_eq!(canonical("a starts \t with 'x'"), r#"a starts with "x""#);
    assert_eq!(canonical("a endswith'x'"), r#"a ends with "x""#);
    assert_eq!(canonical("a notin{'x'}"), r#"a not in {"x"}"#);
    assert_eq!(canonical("a not \t in {'x',}"), r#"a not in {"x"}"#);
    assert_eq!(canonical("a!='x'"), r#"a != "x""#);
}

#[test]
fn string_literals() {
    assert_eq!(canonical(r#"a == 'say "hi"'"#), r#"a == 'say "hi"'"#);
    assert_eq!(canonical(r#"a == "it's""#), r#"a == "it's""#);
    assert_eq!(canonical("a == ''"), r#"a == """#);
    assert_eq!(canonical("a == 'line\nbreak'"), "a == \"line\nbreak\"");
    assert_eq!(canonical("a == 'ü'"), "a == \"ü\"");
    for bad in [
        "b == b",
        "'b1' == b",
        "b",
        "a b",
        "a ",
        "a in {b}",
        "a in {'x' 'y'}",
    ] {
        rejected(bad);
    }
}

#[test]
fn negation_binds_one_operation_and_collapses_by_parity() {
    assert_eq!(
        canonical("!a == 'b' && c == 'd'"),
        r#"(!a == "b" && c == "d")"#
    );
    assert_eq!(canonical("!!has(a)"), "has(a)");
    assert_eq!(canonical("!!!has(a)"), "!has(a)");
    assert_eq!(canonical("!(a == 'b')"), r#"!a == "b""#);
    assert_eq!(
        canonical("!(a == 'b' || c == 'd')"),
        r#"!(a == "b" || c == "d")"#
    );
}

/// Calico's `String()` prints a negated group holding a single negation as `!!x`, which Calico
/// itself re-reads as `x`. This crate prints exactly what Calico prints; the canonical form of
/// that output is then stable.
#[test]
fn negated_negation_in_parentheses_prints_as_calico_does() {
    let first = canonical("!(!has(a))");
    assert_eq!(first, "!!has(a)");
    assert_eq!(canonical(&first), "has(a)");
    assert_eq!(canonical("has(a)"), "has(a)");
}

/// docs/calico-rules.md 6.6 (1): a 513-byte label followed directly by an operator is accepted by
/// v3.28's regex tokenizer (which splits the label after 512 bytes) and rejected by v3.30+.
#[test]
fn v3_30_rejects_labels_over_512_bytes_even_when_v3_28_would_split_them() {
    let label = "a".repeat(512);
    assert_eq!(
        canonical(&format!("{label} in {{\"x\"}}")),
        format!("{label} in {{\"x\"}}")
    );
    assert_eq!(
        rejected(&format!("{label}ain {{\"x\"}}")),
        ParseErrorKind::LabelTooLong { len: 515 }
    );
}

/// docs/calico-rules.md 6.6 (2): v3.28 accepts `\n`, `\r` and `\f` inside `starts with`, `not in`,
/// `has( )`, `all( )` and `global( )`; v3.30+ accepts only spaces and tabs there.
#[test]
fn v3_30_accepts_only_space_and_tab_inside_operators_and_keywords() {
    for input in [
        "a starts\nwith 'x'",
        "a ends\rwith 'x'",
        "a not\x0cin {'x'}",
        "has(\na)",
        "has(a\n)",
        "all(\n)",
        "global(\r)",
        "a == 'x'\n",
        "\ta == 'x'\r\n",
    ] {
        rejected(input);
    }
    assert_eq!(canonical("\t has(\ta\t) \t"), "has(a)");
}

/// docs/calico-rules.md 6.6 (3): v3.30+ checks a word boundary after every operator; the verdict is
/// the same as v3.28's because a label can never follow an operator.
#[test]
fn operators_followed_by_label_bytes_are_rejected() {
    for input in [
        "a containsx 'y'",
        "a startswithx 'y'",
        "a endswith_ 'y'",
        "a in.x {}",
        "a notin-x {}",
        "a not in x",
        "a in x",
    ] {
        rejected(input);
    }
}

#[test]
fn absent_label_semantics() {
    let none: HashMap<String, String> = HashMap::new();
    let evaluate = |input: &str| selector::parse(input).unwrap().matches(&none);
    assert!(evaluate("a != 'x'"));
    assert!(evaluate("a not in {'x'}"));
    assert!(evaluate("!has(a)"));
    assert!(evaluate(""));
    assert!(evaluate("global()"));
    assert!(!evaluate("a == ''"));
    assert!(!evaluate("a in {''}"));
    assert!(!evaluate("a contains ''"));
    assert!(!evaluate("!(a != 'x')"));
}

#[test]
fn error_message_for_missing_literal_is_stable() {
    let err = selector::parse("a ==").unwrap_err();
    assert_eq!(
        err.to_string(),
        "expected a string literal after '==' at offset 4"
    );
    assert_eq!(err.offset(), 4);
    assert_eq!(
        err.render("a =="),
        "a ==\n    ^\nexpected a string literal after '==' at offset 4"
    );
    let err = selector::parse("rack == 'r1' && role in 'tor'").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"expected a set literal such as {"a", "b"} after 'in' at offset 24"#
    );
}

#[test]
fn hostile_inputs_fail_cleanly() {
    let megabyte_of_parens = "(".repeat(1 << 20);
    assert!(
        matches!(rejected(&megabyte_of_parens), ParseErrorKind::TooLong { len } if len == 1 << 20)
    );
    let deep = format!("{}has(a){}", "(".repeat(200), ")".repeat(200));
    assert_eq!(rejected(&deep), ParseErrorKind::TooDeep);
    let nots = format!("{}has(a)", "!".repeat(4000));
    assert_eq!(canonical(&nots), "has(a)");
    rejected("\0");
    rejected("a == '\u{0}");
}
