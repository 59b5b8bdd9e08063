//! Feeds arbitrary input to the selector parser. Beyond "never panics", it checks the
//! properties every accepted selector must have: its canonical form parses (whatever its
//! length), reaches a fixed point after one more round, and means the same thing; a selector
//! within a field's limit is printed in less than twice its length; `parse_field` is `parse`
//! with the field's limit.

#![no_main]

use std::collections::BTreeMap;

use calico_selector as selector;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Selectors reach the parser as Kubernetes strings, which are UTF-8.
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let _ = selector::tokenize(input);
    let _ = selector::warnings(input);
    let parsed = selector::parse(input);
    match selector::parse_field(input) {
        Ok(_) => assert!(input.len() <= selector::MAX_LEN && parsed.is_ok()),
        Err(err) => assert!(input.len() > selector::MAX_LEN || parsed.as_ref().err() == Some(&err)),
    }
    match parsed {
        Ok(sel) => {
            let canonical = sel.to_string();
            if input.len() <= selector::MAX_LEN {
                assert!(
                    canonical.len() < 2 * input.len().max(3),
                    "{} bytes printed as {}",
                    input.len(),
                    canonical.len()
                );
            }
            let reparsed = selector::parse(&canonical).expect("the canonical form parses");
            let stable = reparsed.to_string();
            let again = selector::parse(&stable).expect("the canonical form parses");
            assert_eq!(again.to_string(), stable, "canonical form of {input:?}");
            // Evaluate against labels drawn from the input itself, so that lookups can hit.
            let labels: BTreeMap<String, String> = input
                .split(|c: char| !(c.is_ascii_alphanumeric() || "_./-".contains(c)))
                .filter(|word| !word.is_empty())
                .take(8)
                .enumerate()
                .map(|(i, word)| {
                    (
                        word.to_string(),
                        if i % 2 == 0 {
                            word.to_string()
                        } else {
                            String::new()
                        },
                    )
                })
                .collect();
            assert_eq!(sel.matches(&labels), reparsed.matches(&labels), "{input:?}");
        }
        Err(err) => {
            assert!(err.offset() <= input.len().max(selector::MAX_LEN));
            assert!(!err.to_string().is_empty());
            let _ = err.render(input);
        }
    }
});
