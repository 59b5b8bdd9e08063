//! The manifest reader of `check` and `explain`: arbitrary text read as YAML (multi-document,
//! anchors and aliases, tags, deep nesting, lists) and as JSON, then validated as `check` does
//! (YAML tags included) and explained on no nodes as `explain` does, with every output format
//! rendered.

#![no_main]

use std::path::PathBuf;

use bgppeer_webhook::cmd::check::{self, Outcome};
use bgppeer_core::explain::{self, NodeList};
use bgppeer_webhook::manifests::{self, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The YAML reader refuses bytes that are not UTF-8 before parsing; the fuzzer exercises the
    // parser on text.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for source in [
        Source::File(PathBuf::from("fuzz.yaml")),
        Source::File(PathBuf::from("fuzz.json")),
    ] {
        match manifests::parse_documents(&source, text) {
            Ok(documents) => {
                for doc in &documents {
                    assert!(doc.index >= 1);
                    assert!(doc.item.is_none_or(|item| item >= 1));
                    // Every tag error renders, bounded, whatever the tag and the value.
                    let report =
                        bgppeer_core::bgppeer::tags::validate_yaml_document(&doc.value, &doc.tags);
                    assert!(report.errors.len() >= doc.tags.len().min(1));
                    for error in report.errors.shown() {
                        assert!(error.to_string().len() < 64 * 1024);
                    }
                }
                let mut outcome = Outcome::default();
                check::check_documents(&source, &documents, &mut outcome);
                let _ = outcome.exit_code();
                let explanation = explain::explain(
                    documents
                        .iter()
                        .map(|doc| (format!("{source}#{}", doc.index), &doc.value)),
                    &NodeList::default(),
                );
                let _ = explain::text::render(&explanation);
                let _ = explain::json::render(&explanation);
                let _ = explain::dot::render(&explanation);
            }
            Err(err) => {
                let message = err.to_string();
                assert!(message.starts_with(&source.to_string()), "{message}");
            }
        }
    }
});
