//! The YAML and JSON parsers' errors in plain words (pure): what is wrong, where (the caller
//! adds `file:line:column`) and, for a limit, the flag that raises it. No parser option names,
//! no debug dumps.

use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, MessageFormatter, UserMessageFormatter};

use super::{Limits, LoadError, MAX_DOCUMENT_BYTES_FLAG, Source};

/// The error of the YAML reader, located and worded for a user.
pub(super) fn yaml_error(source: &Source, error: &Error, limits: Limits) -> LoadError {
    let location = error.location().filter(|l| l.line() > 0);
    let error = innermost(error);
    let source_name = source.to_string();
    match error {
        Error::IOError { cause } if cause.kind() == std::io::ErrorKind::InvalidData => {
            LoadError::NotUtf8 { source_name }
        }
        Error::IOError { cause } => LoadError::Read {
            source_name,
            error: std::io::Error::new(cause.kind(), cause.to_string()),
        },
        Error::InvalidUtf8Input => LoadError::NotUtf8 { source_name },
        _ => LoadError::Parse {
            source_name,
            line: location.as_ref().map(|l| l.line()),
            column: location.as_ref().map(|l| l.column()),
            message: message(error, limits),
        },
    }
}

/// The error itself, out of the wrappers that only add a source snippet or an alias location.
fn innermost(error: &Error) -> &Error {
    match error.without_snippet() {
        Error::AliasError { error, .. } => innermost(error),
        other => other,
    }
}

/// What is wrong, in plain words.
fn message(error: &Error, limits: Limits) -> String {
    const ALIASES: &str = "the document uses too many aliases (*name), anchors (&name) or merge \
        keys (<<), or expands them too much; such documents are refused to protect the reader \
        from alias bombs";
    match error {
        Error::DuplicateMappingKey { key: Some(key), .. } => format!(
            "the key {} appears twice in the same mapping; remove one",
            bgppeer_core::field::go_quote(&bgppeer_core::field::shorten(key, 64))
        ),
        Error::DuplicateMappingKey { key: None, .. } => {
            "a key appears twice in the same mapping; remove one".to_owned()
        }
        Error::Budget { breach, .. } => match breach {
            BudgetBreach::Nodes { .. }
            | BudgetBreach::Events { .. }
            | BudgetBreach::ScalarBytes { .. } => format!(
                "the document holds more values than a document of {} bytes may (the limit of \
                 {MAX_DOCUMENT_BYTES_FLAG}; raise it to read larger documents)",
                limits.max_document_bytes
            ),
            BudgetBreach::Depth { .. } => "the document is nested more than 64 levels deep; \
                Kubernetes objects are not, and deeper nesting is refused to protect the reader"
                .to_owned(),
            BudgetBreach::Aliases { .. }
            | BudgetBreach::Anchors { .. }
            | BudgetBreach::AliasAnchorRatio { .. }
            | BudgetBreach::MergeKeys { .. }
            | BudgetBreach::RecordedAnchorEvents { .. }
            | BudgetBreach::RecordedAnchorBytes { .. } => ALIASES.to_owned(),
            _ => "the document is too large or too complex to be read safely".to_owned(),
        },
        Error::AliasReplayCounterOverflow { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. } => ALIASES.to_owned(),
        Error::UnknownAnchor { .. } => {
            "an alias (*name) refers to an anchor (&name) that is not defined before it".to_owned()
        }
        Error::Eof { .. } => "the input ends in the middle of a value".to_owned(),
        // The reader asks for a string only for mapping keys.
        Error::Unexpected {
            expected: "string scalar",
            ..
        } => "a mapping key must be text or a number, not a list or a mapping".to_owned(),
        Error::NonFiniteFloat { .. } => {
            "a number is infinite or not a number, which JSON cannot hold".to_owned()
        }
        other => without_position(&UserMessageFormatter.format_message(other)),
    }
}

/// The parser's message without its own " at line L, column C" (the caller says where).
fn without_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(", column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

/// serde_json's message without its " at line L column C" suffix (the caller says where).
pub(super) fn json_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_owned()
}

#[cfg(test)]
mod tests {
    use super::super::parse_documents;
    use super::*;
    use std::path::PathBuf;

    fn error(text: &str) -> String {
        parse_documents(&Source::File(PathBuf::from("m.yaml")), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn keys_that_are_collections() {
        assert_eq!(
            error("? [1]\n: 2\n"),
            "m.yaml:1:3: a mapping key must be text or a number, not a list or a mapping"
        );
    }

    #[test]
    fn duplicate_keys() {
        assert_eq!(
            error("spec:\n  peerIP: 10.0.0.1\n  peerIP: 10.0.0.2\n"),
            "m.yaml:3:3: the key \"peerIP\" appears twice in the same mapping; remove one"
        );
    }

    #[test]
    fn no_debug_dumps_or_option_names() {
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
        let mut prev = 'a';
        for name in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'] {
            let refs = vec![format!("*{prev}"); 9].join(", ");
            bomb.push_str(&format!("{name}: &{name} [{refs}]\n"));
            prev = name;
        }
        for text in [
            bomb.as_str(),
            &"[".repeat(100),
            "a: *nope\n",
            "a: [1, 2\n",
            "a: 1\na: 2\n",
            "? [1]\n: 2\n",
        ] {
            let message = error(text);
            for bad in ["Policy", "{ ", "Budget", "Options", "budget"] {
                assert!(!message.contains(bad), "{message}");
            }
            assert!(message.starts_with("m.yaml"), "{message}");
        }
        let deep: String = (0..70).map(|i| format!("{}a:\n", "  ".repeat(i))).collect();
        assert_eq!(
            error(&deep),
            "m.yaml:65:129: the document is nested more than 64 levels deep; Kubernetes \
             objects are not, and deeper nesting is refused to protect the reader"
        );
    }
}
