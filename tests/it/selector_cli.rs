//! End-to-end tests of `bgppeer-webhook selector`, running the real binary.

use std::process::Output;

use crate::binary;
use binary::{stderr, stdout};

fn run(args: &[&str]) -> Output {
    binary::run("selector", args, b"")
}

fn run_with_stdin(args: &[&str], stdin: &str) -> Output {
    binary::run("selector", args, stdin.as_bytes())
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("exited normally")
}

#[test]
fn prints_the_canonical_form() {
    let output = run(&["rack == 'r1' && role in {'tor', 'spine', 'tor'}"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "(rack == \"r1\" && role in {\"spine\", \"tor\"})\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn empty_selector_is_all() {
    let output = run(&[""]);
    assert_eq!(code(&output), 0);
    assert_eq!(stdout(&output), "all()\n");
}

#[test]
fn selector_may_start_with_a_dash() {
    let output = run(&["-x == 'y'"]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "-x == \"y\"\n");
}

#[test]
fn invalid_selector_prints_a_caret_and_exits_1() {
    let output = run(&["a =="]);
    assert_eq!(code(&output), 1);
    assert_eq!(stdout(&output), "");
    assert_eq!(
        stderr(&output),
        "a ==\n    ^\nexpected a string literal after '==' at offset 4\n"
    );
}

#[test]
fn labels_that_match_exit_0() {
    let output = run(&[
        "has(route-reflector) && rack != 'r2'",
        "--labels",
        "route-reflector=,rack=r1",
    ]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "(has(route-reflector) && rack != \"r2\")\nmatches\n"
    );
}

#[test]
fn labels_that_do_not_match_exit_3() {
    let output = run(&["rack in {'r1'}", "--labels", "rack=r2"]);
    assert_eq!(code(&output), 3);
    assert_eq!(stdout(&output), "rack in {\"r1\"}\ndoes not match\n");
}

#[test]
fn empty_label_list_means_no_labels() {
    let output = run(&["rack not in {'r1'}", "--labels", ""]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "rack not in {\"r1\"}\nmatches\n");
}

#[test]
fn labels_file_is_a_json_object_of_strings() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.json");
    std::fs::write(&path, r#"{"rack": "r1", "role": "tor"}"#).unwrap();
    let path = path.to_str().unwrap();
    let output = run(&["role == 'tor'", "--labels-file", path]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "role == \"tor\"\nmatches\n");
    let output = run(&["role == 'spine'", "--labels-file", path]);
    assert_eq!(code(&output), 3);
}

#[test]
fn labels_file_dash_reads_stdin() {
    let output = run_with_stdin(&["has(a)", "--labels-file", "-"], r#"{"a": "x"}"#);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "has(a)\nmatches\n");
}

#[test]
fn bad_label_list_is_a_usage_error() {
    let output = run(&["has(a)", "--labels", "rack:r1"]);
    assert_eq!(code(&output), 2);
    assert_eq!(stdout(&output), "");
    assert!(
        stderr(&output).contains("\"rack:r1\" is not KEY=VALUE"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn unreadable_labels_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    let output = run(&["has(a)", "--labels-file", missing.to_str().unwrap()]);
    assert_eq!(code(&output), 2);
    assert_eq!(stdout(&output), "");
    let message = stderr(&output);
    assert!(
        message.starts_with("error: cannot read labels file "),
        "{message}"
    );
    assert!(message.contains("missing.json"), "{message}");
}

#[test]
fn invalid_labels_file_is_a_usage_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("labels.json");
    std::fs::write(&path, r#"{"rack": 1}"#).unwrap();
    let output = run(&["has(a)", "--labels-file", path.to_str().unwrap()]);
    assert_eq!(code(&output), 2);
    let message = stderr(&output);
    assert!(
        message.contains(r#"label "rack" has a number value; label values must be strings"#),
        "{message}"
    );
}

#[test]
fn labels_and_labels_file_conflict() {
    let output = run(&["has(a)", "--labels", "a=1", "--labels-file", "-"]);
    assert_eq!(code(&output), 2);
    assert!(
        stderr(&output).contains("cannot be used with"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn long_selectors_get_a_warning() {
    let selector = format!("a in {{{}}}", vec!["'abcdefgh'"; 120].join(", "));
    assert!(selector.len() > 1024);
    let output = run(&[&selector]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    assert_eq!(stdout(&output), "a in {\"abcdefgh\"}\n");
    assert_eq!(
        stderr(&output),
        format!(
            "warning: selector is {} bytes long; Calico v3.33+ rejects selectors over 1024 bytes\n",
            selector.len()
        )
    );
}
