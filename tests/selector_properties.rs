//! Properties over selector text: nothing panics, and the canonical form means the same thing
//! as the text it came from. (Properties over generated syntax trees live beside the parser.)

use std::collections::BTreeMap;

use bgppeer_webhook::selector::{self, MAX_LEN, ParseErrorKind};
use proptest::prelude::*;
use proptest::sample::select;

/// Random selector text assembled from the language's pieces with random blanks and quoting,
/// so that a good share of it parses.
fn selector_text() -> impl Strategy<Value = String> {
    let blank = select(vec!["", " ", "\t", "  "]);
    let label = select(vec!["a", "b", "rack", "in", "has", "x.y/z"]);
    let literal = select(vec!["'x'", "\"x\"", "''", "'it\"s'", "\"y\"", "'rack-01'"]);
    let comparison = select(vec![
        "==",
        "!=",
        "contains",
        "starts with",
        "startswith",
        "ends  with",
    ]);
    let operation = prop_oneof![
        (
            label.clone(),
            blank.clone(),
            comparison,
            blank.clone(),
            literal.clone()
        )
            .prop_map(|(l, b1, op, b2, v)| format!("{l}{b1} {op}{b2} {v}")),
        (
            label.clone(),
            select(vec!["in", "not in", "notin"]),
            prop::collection::vec(literal, 0..3),
            any::<bool>()
        )
            .prop_map(|(l, op, values, trailing)| {
                let comma = if trailing && !values.is_empty() {
                    ","
                } else {
                    ""
                };
                format!("{l} {op} {{{}{comma}}}", values.join(", "))
            }),
        (blank.clone(), label).prop_map(|(b, l)| format!("has({b}{l}{b})")),
        Just("all()".to_string()),
        Just("global( )".to_string()),
    ];
    let negated =
        (select(vec!["", "!", "!!", "! "]), operation).prop_map(|(n, op)| format!("{n}{op}"));
    negated.prop_recursive(4, 32, 3, move |inner| {
        prop_oneof![
            (
                inner.clone(),
                select(vec!["&&", "||"]),
                blank.clone(),
                inner.clone()
            )
                .prop_map(|(a, op, b, c)| format!("{a}{b}{op}{b}{c}")),
            (select(vec!["", "!"]), inner).prop_map(|(n, e)| format!("{n}({e})")),
        ]
    })
}

fn label_map() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(
        select(vec!["a", "b", "rack", "in", "has", "x.y/z"]).prop_map(String::from),
        select(vec!["", "x", "y", "it\"s", "rack-01", "xx"]).prop_map(String::from),
        0..4,
    )
}

/// Checks everything that must hold for any input, valid or not.
fn check_any_input(input: &str) -> Result<(), TestCaseError> {
    match selector::parse(input) {
        Ok(sel) => {
            let canonical = sel.to_string();
            let reparsed = selector::parse(&canonical)
                .map_err(|err| TestCaseError::fail(format!("{canonical:?}: {err}")))?;
            let stable = reparsed.to_string();
            let again = selector::parse(&stable)
                .map_err(|err| TestCaseError::fail(format!("{stable:?}: {err}")))?;
            prop_assert_eq!(again.to_string(), stable);
        }
        Err(err) => {
            match err.kind() {
                ParseErrorKind::TooLong { .. } => prop_assert_eq!(err.offset(), MAX_LEN),
                _ => prop_assert!(err.offset() <= input.len()),
            }
            let rendered = err.render(input);
            prop_assert!(rendered.ends_with(&err.to_string()));
        }
    }
    for warning in selector::warnings(input) {
        prop_assert!(warning.chars().count() <= 120);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn arbitrary_strings_never_panic(input in any::<String>()) {
        check_any_input(&input)?;
    }

    #[test]
    fn strings_of_selector_characters_never_panic(
        input in "[a-z()!&|='\"{}, \t\n]{0,80}"
    ) {
        check_any_input(&input)?;
    }

    #[test]
    fn generated_selectors_parse_and_keep_their_meaning(
        input in selector_text(),
        labels in label_map(),
    ) {
        let sel = selector::parse(&input)
            .map_err(|err| TestCaseError::fail(err.render(&input)))?;
        let canonical = sel.to_string();
        let reparsed = selector::parse(&canonical)
            .map_err(|err| TestCaseError::fail(err.render(&canonical)))?;
        prop_assert_eq!(reparsed.matches(&labels), sel.matches(&labels), "{} -> {}", input, canonical);
        check_any_input(&input)?;
    }
}
