//! End-to-end tests of `bgppeer-webhook check`: the real binary on the files in
//! `tests/fixtures/manifests/`, asserting stdout, stderr and the exit code.

use std::process::Output;

use serde_json::Value;

use crate::binary;
use binary::{stderr, stdout};

fn fixture(name: &str) -> String {
    format!("tests/fixtures/manifests/{name}")
}

fn check(args: &[&str]) -> Output {
    binary::run("check", args, b"")
}

fn check_stdin(args: &[&str], input: &[u8]) -> Output {
    binary::run("check", args, input)
}

#[test]
fn valid_directory_exits_zero() {
    let output = check(&[&fixture("valid")]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}{}",
        stdout(&output),
        stderr(&output)
    );
    assert_eq!(
        stdout(&output),
        "4 BGPPeers checked in 3 files: 4 valid, 0 invalid (0 errors), 0 warnings; 0 other documents skipped\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn invalid_file_lists_every_error_then_warnings() {
    let output = check(&[&fixture("invalid.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    let file = fixture("invalid.yaml");
    let expected = [
        format!("{file}:doc 1: BGPPeer \"bad-peer\": spec.peerIp: Unknown field"),
        format!("{file}:doc 1: BGPPeer \"bad-peer\": spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535"),
        format!("{file}:doc 1: BGPPeer \"bad-peer\": spec.nodeSelector: Invalid value: \"a ==\": expected a string literal after '==' at offset 4"),
        format!("{file}:doc 1: BGPPeer \"bad-peer\": spec.sourceAddress: Unsupported value: \"Bogus\": supported values: \"UseNodeIP\", \"None\""),
        format!("{file}:doc 1: BGPPeer \"bad-peer\": spec.node: Forbidden: node and nodeSelector cannot both be set"),
        format!("{file}:doc 1: BGPPeer \"bad-peer\": spec.reachableBy: Invalid value: \"2001:db8::1\": must be the same address family as peerIP (IPv4), not IPv6"),
        format!("{file}:doc 1: BGPPeer \"bad-peer\": warning: peerIP set without asNumber: works only if the peer is a Calico node"),
        "1 BGPPeer checked in 1 file: 0 valid, 1 invalid (6 errors), 1 warning; 0 other documents skipped".to_owned(),
    ];
    assert_eq!(stdout(&output), expected.join("\n") + "\n");
}

#[test]
fn mixed_multi_document_file() {
    let output = check(&[&fixture("mixed.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    let file = fixture("mixed.yaml");
    assert_eq!(lines.len(), 5, "{text}");
    assert!(lines[0].starts_with(&format!(
        "{file}:doc 3: BGPPeer \"denied-peer\": spec.peerIP: Invalid value"
    )));
    assert!(lines[1].starts_with(&format!(
        "{file}:doc 3: BGPPeer \"denied-peer\": spec.nodeSelector: Invalid value"
    )));
    assert!(lines[2].starts_with(&format!(
        "{file}:doc 3: BGPPeer \"denied-peer\": warning: peerIP set without asNumber"
    )));
    assert!(lines[3].starts_with(&format!(
        "{file}:doc 4: BGPPeer \"risky-peer\": warning: maxRestartTime is set"
    )));
    assert_eq!(
        lines[4],
        "3 BGPPeers checked in 1 file: 2 valid, 1 invalid (2 errors), 2 warnings; 1 other document skipped"
    );
}

#[test]
fn other_kinds_are_skipped_and_counted() {
    let output = check(&[&fixture("other-kinds.yaml")]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        stdout(&output),
        "0 BGPPeers checked in 1 file: 0 valid, 0 invalid (0 errors), 0 warnings; 2 other documents skipped\n"
    );
}

#[test]
fn list_items_are_checked() {
    let output = check(&[&fixture("list.yaml")]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!(
            "{}:doc 1 item 2: BGPPeer \"listed-bad\": spec.ttlSecurity: Invalid value: 256: must be an integer between 0 and 255\n\
             2 BGPPeers checked in 1 file: 1 valid, 1 invalid (1 error), 0 warnings; 1 other document skipped\n",
            fixture("list.yaml")
        )
    );
}

#[test]
fn broken_yaml_exits_two_with_file_and_line() {
    let output = check(&[&fixture("broken.yaml")]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: {}:5:5: illegal placement of ':' indicator\n",
            fixture("broken.yaml")
        )
    );
    assert!(stdout(&output).ends_with("; 1 input could not be read or parsed\n"));
}

#[test]
fn broken_input_does_not_stop_the_others() {
    let output = check(&[
        &fixture("broken.yaml"),
        &fixture("invalid.yaml"),
        "tests/fixtures/manifests/missing.yaml",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "unreadable input wins over invalid peers"
    );
    let err = stderr(&output);
    assert!(err.contains("broken.yaml:5:5"), "{err}");
    assert!(
        err.contains("missing.yaml: No such file or directory"),
        "{err}"
    );
    assert!(stdout(&output).contains("spec.peerIP: Invalid value"));
}

#[test]
fn json_output_schema() {
    let output = check(&[
        "-o",
        "json",
        &fixture("mixed.yaml"),
        &fixture("broken.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    let json: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["schemaVersion"], 1);
    assert_eq!(json["valid"], false);
    assert_eq!(json["exitCode"], 2);
    assert_eq!(
        json["summary"],
        serde_json::json!({
            "files": 2, "bgpPeers": 3, "valid": 2, "invalid": 1, "errors": 2,
            "warnings": 2, "skipped": 1, "failures": 1
        })
    );
    let denied = &json["results"][1];
    assert_eq!(denied["file"], fixture("mixed.yaml"));
    assert_eq!(denied["document"], 3);
    assert_eq!(denied["item"], Value::Null);
    assert_eq!(denied["line"], 17);
    assert_eq!(denied["apiVersion"], "crd.projectcalico.org/v1");
    assert_eq!(denied["name"], "denied-peer");
    assert_eq!(denied["valid"], false);
    assert_eq!(
        denied["errors"][0],
        serde_json::json!({
            "field": "spec.peerIP",
            "reason": "FieldValueInvalid",
            "message": "Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535",
            "text": "spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535"
        })
    );
    assert_eq!(
        denied["warnings"],
        serde_json::json!(["peerIP set without asNumber: works only if the peer is a Calico node"])
    );
    assert_eq!(json["skipped"][0]["kind"], "ConfigMap");
    assert_eq!(json["skipped"][0]["document"], 2);
    assert_eq!(
        json["failures"][0],
        serde_json::json!({
            "file": fixture("broken.yaml"), "line": 5, "column": 5,
            "message": "illegal placement of ':' indicator"
        })
    );
    assert_eq!(
        stderr(&output),
        "",
        "json mode writes only the JSON document"
    );
}

#[test]
fn stdin_is_read_with_dash() {
    let input = b"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: p}\nspec: {peerIP: 10.0.0.1, asNumber: '1.10'}\n";
    let output = check_stdin(&["-"], input);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = check_stdin(&["-"], b"kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: {name: p}\nspec: {peerIP: 'x'}\n");
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output)
            .starts_with("<stdin>:doc 1: BGPPeer \"p\": spec.peerIP: Invalid value: \"x\"")
    );
}

#[test]
fn hostile_input_never_panics() {
    let inputs: [&[u8]; 7] = [
        b"\xff\xfe not utf-8",
        b"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
        b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
        b"kind: BGPPeer\napiVersion: projectcalico.org/v3\nmetadata: []\nspec: 5\n",
        b"kind: BGPPeer\n",
        b"- 1\n- kind: BGPPeer\n---\n42\n---\nkind: List\nitems: 7\n",
        b"kind: BGPPeer\napiVersion: crd.projectcalico.org/v1\nmetadata: {name: p}\nspec: {asNumber: 1e400}\n",
    ];
    for input in inputs {
        let output = check_stdin(&["-"], input);
        let code = output.status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "{code:?} for {:?}: {}",
            String::from_utf8_lossy(input),
            stderr(&output)
        );
        assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
    }
}

#[test]
fn missing_path_exits_two() {
    let output = check(&["no/such/dir"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).starts_with("error: no/such/dir: "),
        "{}",
        stderr(&output)
    );
}

#[test]
fn a_path_is_required() {
    let output = check(&[]);
    assert_eq!(output.status.code(), Some(2), "clap usage errors exit 2");
}

#[test]
fn a_huge_object_gives_bounded_output() {
    // 50,000 invalid filters (each `A`), and a 1 MiB name (one more error).
    let filters = vec![Value::from("A"); 50_000];
    let document = serde_json::json!({
        "apiVersion": "crd.projectcalico.org/v1", "kind": "BGPPeer",
        "metadata": {"name": "n".repeat(1024 * 1024)},
        "spec": {"peerIP": "192.0.2.1", "asNumber": 64512, "filters": filters}
    });
    let input = serde_json::to_vec(&document).unwrap();

    let output = check_stdin(&["-"], &input);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.len() < 64 * 1024, "{} bytes of output", text.len());
    let lines: Vec<&str> = text.lines().collect();
    // 100 errors (the name first), one line counting the rest, the summary.
    assert_eq!(lines.len(), 102, "{text}");
    assert!(
        lines[100].ends_with("spec.filters: Too many: 49,901 more errors not shown"),
        "{}",
        lines[100]
    );
    assert!(lines[0].contains(&format!("BGPPeer \"{}...\"", "n".repeat(253))));
    assert!(
        lines[101].contains("1 invalid (50001 errors)"),
        "{}",
        lines[101]
    );

    let output = check_stdin(&["-o", "json", "-"], &input);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert!(text.len() < 96 * 1024, "{} bytes of output", text.len());
    let report: Value = serde_json::from_str(text).unwrap();
    let errors = report["results"][0]["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 101);
    assert_eq!(errors[100]["reason"], "FieldValueTooMany");
    assert_eq!(errors[100]["field"], "spec.filters");
    assert_eq!(report["summary"]["errors"], 50_001);
}

// ---- CI output formats (`-o junit`, `-o github`), the JSON schema, a closed standard output ----

/// The `-o junit` document, as CI systems read it (attributes are `@name`, text is `$text`).
mod junit {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    pub struct TestSuites {
        #[serde(rename = "@name")]
        pub name: String,
        #[serde(rename = "@tests")]
        pub tests: usize,
        #[serde(rename = "@failures")]
        pub failures: usize,
        #[serde(rename = "@errors")]
        pub errors: usize,
        #[serde(rename = "testsuite", default)]
        pub suites: Vec<TestSuite>,
    }

    #[derive(Debug, Deserialize)]
    pub struct TestSuite {
        #[serde(rename = "@name")]
        pub name: String,
        #[serde(rename = "@tests")]
        pub tests: usize,
        #[serde(rename = "@failures")]
        pub failures: usize,
        #[serde(rename = "@errors")]
        pub errors: usize,
        #[serde(rename = "testcase", default)]
        pub cases: Vec<TestCase>,
    }

    #[derive(Debug, Deserialize)]
    pub struct TestCase {
        #[serde(rename = "@classname")]
        pub classname: String,
        #[serde(rename = "@name")]
        pub name: String,
        pub failure: Option<Problem>,
        pub error: Option<Problem>,
        #[serde(rename = "system-out")]
        pub system_out: Option<String>,
    }

    #[derive(Debug, Deserialize)]
    pub struct Problem {
        #[serde(rename = "@message")]
        pub message: String,
        #[serde(rename = "@type")]
        pub kind: String,
        #[serde(rename = "$text", default)]
        pub text: String,
    }

    pub fn parse(xml: &str) -> TestSuites {
        quick_xml::de::from_str(xml).unwrap_or_else(|err| panic!("{err}\n{xml}"))
    }
}

/// Validates `xml` against the JUnit schema in tests/fixtures/junit/ with `xmllint`, when it is
/// installed (`make tools` installs it on Debian). Set `BGPPEER_WEBHOOK_REQUIRE_XMLLINT=1` to
/// make a missing `xmllint` a failure.
fn validate_junit_schema(xml: &str) {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/junit/junit.xsd"
    );
    let child = Command::new("xmllint")
        .args(["--noout", "--nonet", "--schema", schema, "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(err) => {
            assert!(
                std::env::var_os("BGPPEER_WEBHOOK_REQUIRE_XMLLINT").is_none(),
                "BGPPEER_WEBHOOK_REQUIRE_XMLLINT is set but `xmllint` cannot run: {err}"
            );
            eprintln!(
                "note: `xmllint` not found ({err}); parsed the JUnit XML without validating it \
                 against tests/fixtures/junit/junit.xsd (`make tools` installs libxml2-utils)"
            );
            return;
        }
    };
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(xml.as_bytes()).unwrap();
    drop(stdin);
    let result = child.wait_with_output().unwrap();
    assert!(
        result.status.success(),
        "xmllint rejects the JUnit output:\n{}\n{xml}",
        String::from_utf8_lossy(&result.stderr)
    );
}

#[test]
fn junit_report_follows_the_schema_with_a_case_per_peer_and_unreadable_input() {
    let output = check(&[
        "-o",
        "junit",
        &fixture("mixed.yaml"),
        &fixture("invalid.yaml"),
        &fixture("broken.yaml"),
        "tests/fixtures/manifests/missing.yaml",
    ]);
    assert_eq!(
        output.status.code(),
        Some(2),
        "exit codes do not depend on the format"
    );
    assert_eq!(stderr(&output), "");
    let xml = stdout(&output);
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "),
        "{xml}"
    );
    validate_junit_schema(xml);

    let report = junit::parse(xml);
    assert_eq!(report.name, "bgppeer-webhook check");
    assert_eq!(
        (report.tests, report.failures, report.errors),
        (6, 2, 2),
        "4 BGPPeers (2 invalid) and 2 unreadable inputs"
    );
    let suites: Vec<(&str, usize, usize, usize)> = report
        .suites
        .iter()
        .map(|s| (s.name.as_str(), s.tests, s.failures, s.errors))
        .collect();
    let (mixed, invalid, broken) = (
        fixture("mixed.yaml"),
        fixture("invalid.yaml"),
        fixture("broken.yaml"),
    );
    assert_eq!(
        suites,
        [
            ("tests/fixtures/manifests/missing.yaml", 1, 0, 1),
            (broken.as_str(), 1, 0, 1),
            (mixed.as_str(), 3, 1, 0),
            (invalid.as_str(), 1, 1, 0),
        ]
    );

    let missing = &report.suites[0].cases[0];
    let error = missing.error.as_ref().unwrap();
    assert_eq!(error.kind, "unreadable input");
    assert!(
        error
            .message
            .starts_with("tests/fixtures/manifests/missing.yaml: No such file or directory"),
        "{error:?}"
    );
    let parse = &report.suites[1].cases[0];
    assert_eq!(parse.classname, broken);
    assert_eq!(parse.name, format!("read {broken}"));
    assert_eq!(
        parse.error.as_ref().unwrap().text,
        format!("{broken}:5:5: illegal placement of ':' indicator")
    );

    let names: Vec<&str> = report.suites[2]
        .cases
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "BGPPeer/good-peer (doc 1, line 1)",
            "BGPPeer/denied-peer (doc 3, line 17)",
            "BGPPeer/risky-peer (doc 4, line 25)",
        ]
    );
    let good = &report.suites[2].cases[0];
    assert!(good.failure.is_none() && good.error.is_none() && good.system_out.is_none());
    assert!(
        xml.contains(&format!(
            "<testcase classname=\"{mixed}\" name=\"BGPPeer/good-peer (doc 1, line 1)\"/>\n"
        )),
        "a passing test case is one empty element: {xml}"
    );
    let risky = &report.suites[2].cases[2];
    assert!(risky.failure.is_none(), "a warning alone is no failure");
    assert!(
        risky
            .system_out
            .as_deref()
            .unwrap()
            .starts_with(&format!("{mixed}:25: warning: maxRestartTime is set")),
        "{risky:?}"
    );

    let bad = &report.suites[3].cases[0];
    assert_eq!(bad.classname, invalid);
    assert_eq!(bad.name, "BGPPeer/bad-peer (doc 1, line 2)");
    let failure = bad.failure.as_ref().unwrap();
    assert_eq!(failure.kind, "invalid BGPPeer");
    assert_eq!(
        failure.message,
        "6 errors; the first: spec.peerIp: Unknown field"
    );
    let expected = [
        format!("{invalid}:2: spec.peerIp: Unknown field"),
        format!(
            "{invalid}:2: spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535"
        ),
        format!(
            "{invalid}:2: spec.nodeSelector: Invalid value: \"a ==\": expected a string literal after '==' at offset 4"
        ),
        format!(
            "{invalid}:2: spec.sourceAddress: Unsupported value: \"Bogus\": supported values: \"UseNodeIP\", \"None\""
        ),
        format!("{invalid}:2: spec.node: Forbidden: node and nodeSelector cannot both be set"),
        format!(
            "{invalid}:2: spec.reachableBy: Invalid value: \"2001:db8::1\": must be the same address family as peerIP (IPv4), not IPv6"
        ),
        format!(
            "{invalid}:2: warning: peerIP set without asNumber: works only if the peer is a Calico node"
        ),
    ];
    assert_eq!(failure.text, expected.join("\n") + "\n");
    assert_eq!(
        bad.system_out.as_deref(),
        Some(format!("{}\n", expected[6]).as_str())
    );
}

#[test]
fn junit_report_escapes_names_paths_and_characters_xml_cannot_carry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a&b<\"c\">'.yaml");
    // The name holds markup, an escape character and a NUL-like control (U+0001): YAML lets a
    // double-quoted string carry them.
    std::fs::write(
        &path,
        "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\n\
         metadata: {name: \"x<y>&z\\\"q\\u0001\\e]]>\"}\nspec: {peerIP: '10.0.0.1:0'}\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let output = check(&["-o", "junit", file]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let xml = stdout(&output);
    assert!(!xml.contains('\u{1}') && !xml.contains('\u{1b}'), "{xml:?}");
    validate_junit_schema(xml);
    let report = junit::parse(xml);
    let suite = &report.suites[0];
    assert_eq!(suite.name, file);
    let case = &suite.cases[0];
    assert_eq!(case.classname, file);
    assert_eq!(
        case.name,
        "BGPPeer/x<y>&z\"q\u{fffd}\u{fffd}]]> (doc 1, line 1)"
    );
    let failure = case.failure.as_ref().unwrap();
    assert!(
        failure.message.starts_with("2 errors; the first: "),
        "{failure:?}"
    );
    assert!(
        failure.text.starts_with(&format!("{file}:1: ")),
        "{failure:?}"
    );
}

#[test]
fn junit_report_without_bgppeers_is_an_empty_valid_document() {
    let output = check(&["-o", "junit", &fixture("other-kinds.yaml")]);
    assert_eq!(output.status.code(), Some(0));
    let xml = stdout(&output);
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <testsuites name=\"bgppeer-webhook check\" tests=\"0\" failures=\"0\" errors=\"0\">\n\
         </testsuites>\n"
    );
    validate_junit_schema(xml);
}

#[test]
fn github_annotations_one_line_per_problem_then_the_summary() {
    let output = check(&[
        "-o",
        "github",
        &fixture("mixed.yaml"),
        &fixture("broken.yaml"),
    ]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(stderr(&output), "");
    let mixed = fixture("mixed.yaml");
    let broken = fixture("broken.yaml");
    let expected = [
        format!(
            "::error file={broken},line=5,col=5,title=cannot parse the input::illegal placement of ':' indicator"
        ),
        format!(
            "::error file={mixed},line=17,title=BGPPeer \"denied-peer\" (doc 3)::spec.peerIP: Invalid value: \"10.0.0.1:0\": port must be between 1 and 65535"
        ),
        format!(
            "::error file={mixed},line=17,title=BGPPeer \"denied-peer\" (doc 3)::spec.nodeSelector: Invalid value: \"a ==\": expected a string literal after '==' at offset 4"
        ),
        format!(
            "::warning file={mixed},line=17,title=BGPPeer \"denied-peer\" (doc 3)::peerIP set without asNumber: works only if the peer is a Calico node"
        ),
        format!(
            "::warning file={mixed},line=25,title=BGPPeer \"risky-peer\" (doc 4)::maxRestartTime is set"
        ),
    ];
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 6, "{text}");
    for (line, expected) in lines.iter().zip(&expected) {
        assert!(
            line.starts_with(expected.as_str()),
            "{line}\nexpected {expected}"
        );
    }
    assert_eq!(
        lines[5],
        "3 BGPPeers checked in 2 files: 2 valid, 1 invalid (2 errors), 2 warnings; 1 other document skipped; 1 input could not be read or parsed"
    );
}

#[test]
fn github_annotations_escape_properties_and_messages_as_the_toolkit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a,b:c%d.yaml");
    std::fs::write(
        &path,
        "apiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\n\
         metadata: {name: 'n:1,2%'}\nspec: {peerIP: 10.0.0.1, asNumber: 64512}\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let output = check(&["-o", "github", file]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let escaped_file = file
        .replace('%', "%25")
        .replace(':', "%3A")
        .replace(',', "%2C");
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        format!(
            "::error file={escaped_file},line=1,title=BGPPeer \"n%3A1%2C2%25\" (doc 1)::\
             metadata.name: Invalid value: \"n:1,2%25\": a lowercase RFC 1123 subdomain must \
             consist of lower case alphanumeric characters, '-' or '.', and must start and end \
             with an alphanumeric character (e.g. 'example.com', regex used for validation is \
             '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        )
    );

    // Standard input has no file to annotate.
    let output = check_stdin(
        &["-o", "github", "-"],
        br#"{"apiVersion": "projectcalico.org/v3", "kind": "BGPPeer", "metadata": {"name": "p"}, "spec": {"peerIP": "x"}}"#,
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with(
            "::error line=1,title=BGPPeer \"p\" (doc 1)::spec.peerIP: Invalid value: \"x\""
        ),
        "{}",
        stdout(&output)
    );
}

/// Runs `check` with `args` and validates its `-o json` report against the published schema.
fn check_json_against_schema(
    validator: &jsonschema::Validator,
    args: &[&str],
    stdin: &[u8],
) -> Value {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let output = check_stdin(&all, stdin);
    let report: Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("{err}: {}", stdout(&output)));
    let errors: Vec<String> = validator
        .iter_errors(&report)
        .map(|err| format!("{}: {err}", err.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{args:?}: {errors:#?}\n{report:#}");
    assert_eq!(report["exitCode"], output.status.code().unwrap());
    report
}

#[test]
fn json_report_matches_the_published_schema() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/docs/schemas/check.schema.json"
        ))
        .unwrap(),
    )
    .unwrap();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "not a valid JSON Schema"
    );
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let validator = jsonschema::draft202012::new(&schema).unwrap();

    let valid = check_json_against_schema(&validator, &[&fixture("valid")], b"");
    assert_eq!(valid["exitCode"], 0);
    let invalid = check_json_against_schema(&validator, &[&fixture("invalid.yaml")], b"");
    assert_eq!(invalid["exitCode"], 1);
    let warnings = check_json_against_schema(
        &validator,
        &[
            &fixture("mixed.yaml"),
            &fixture("list.yaml"),
            &fixture("other-kinds.yaml"),
        ],
        b"",
    );
    assert_eq!(warnings["summary"]["warnings"], 2);
    let unreadable = check_json_against_schema(
        &validator,
        &[
            &fixture("broken.yaml"),
            "tests/fixtures/manifests/missing.yaml",
            "-",
        ],
        b"\xff not UTF-8",
    );
    assert_eq!(unreadable["summary"]["failures"], 3);
    let dir = tempfile::tempdir().unwrap();
    let json_file = dir.path().join("peers.json");
    std::fs::write(
        &json_file,
        r#"{"kind": "List", "items": [{"kind": "BGPPeer", "spec": {}}, 7]}"#,
    )
    .unwrap();
    let json_input = check_json_against_schema(&validator, &[json_file.to_str().unwrap()], b"");
    assert_eq!(json_input["results"][0]["line"], Value::Null);
    assert_eq!(json_input["results"][0]["item"], 1);
    assert_eq!(json_input["results"][0]["name"], Value::Null);
    assert_eq!(json_input["skipped"][0]["kind"], Value::Null);

    // The schema is closed: a field it does not describe is an error.
    let mut extended = valid.clone();
    extended["summary"]["unknown"] = Value::from(1);
    assert!(!validator.is_valid(&extended));
}

/// `count` valid BGPPeers as one YAML stream (at most 1,024 documents are read from one input).
fn many_peers(count: usize) -> Vec<u8> {
    (0..count)
        .map(|i| {
            format!(
                "---\napiVersion: crd.projectcalico.org/v1\nkind: BGPPeer\nmetadata: {{name: peer-{i}}}\n\
                 spec: {{peerIP: 10.0.{}.{}, asNumber: 64512}}\n",
                i / 250,
                i % 250 + 1
            )
        })
        .collect::<String>()
        .into_bytes()
}

/// Runs `check ARGS -` on `input`, reads one line of its standard output and closes it, as
/// `| head -1` does; returns the exit code and standard error.
fn check_with_stdout_closed_early(args: &[&str], input: Vec<u8>) -> (Option<i32>, String) {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_bgppeer-webhook"))
        .arg("check")
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(!line.is_empty());
    drop(stdout);
    writer.join().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn a_closed_stdout_ends_quietly_with_the_verdict() {
    // Hundreds of kilobytes of report in every format: far more than a pipe holds.
    let input = many_peers(1_000);
    // The text and GitHub reports list only problems: there each peer warns.
    let warning = String::from_utf8(input.clone())
        .unwrap()
        .replace("asNumber: 64512}", "asNumber: 64512, maxRestartTime: 10m}")
        .into_bytes();
    for format in ["json", "junit", "github", "text"] {
        let input = match format {
            "text" | "github" => warning.clone(),
            _ => input.clone(),
        };
        let (code, stderr) = check_with_stdout_closed_early(&["-o", format], input);
        assert_eq!(code, Some(0), "-o {format}: {stderr}");
        assert_eq!(stderr, "", "-o {format}");
    }
    // The verdict survives: invalid peers still exit 1, silently.
    let invalid = String::from_utf8(many_peers(1_000))
        .unwrap()
        .replace("asNumber: 64512}", "asNumber: 64512, ttlSecurity: 256}")
        .into_bytes();
    let (code, stderr) = check_with_stdout_closed_early(&["-o", "json"], invalid);
    assert_eq!(code, Some(1), "{stderr}");
    assert_eq!(stderr, "");
}

/// The error `check` and `explain` give for an unquoted leading `!` on a field.
fn tag_error(field: &str, tag: &str, line: u64, read_as: &str, fix: &str) -> String {
    format!(
        "{field}: Invalid value: \"{tag}\": line {line}: an unquoted value that starts with \"!\" \
         is a YAML tag, which Kubernetes ignores, {read_as}; quote it: {fix}"
    )
}

#[test]
fn an_unquoted_bang_on_a_selector_is_an_error_with_field_tag_line_and_fix() {
    let cases = [
        (
            "node-selector.yaml",
            tag_error(
                "spec.nodeSelector",
                "!has(route-reflector)",
                5,
                "so the field is left empty",
                "nodeSelector: \"!has(route-reflector)\"",
            ),
        ),
        (
            "peer-selector.yaml",
            tag_error(
                "spec.peerSelector",
                "!all()",
                6,
                "so the field is left empty",
                "peerSelector: \"!all()\"",
            ),
        ),
    ];
    for (name, error) in cases {
        let file = fixture(&format!("tags/{name}"));
        let output = check(&[&file]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stdout(&output));
        let text = stdout(&output);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("{file}:doc 1: BGPPeer \"rr-mesh\": {error}"),
            "{text}"
        );
        assert!(
            lines[lines.len() - 1]
                .starts_with("1 BGPPeer checked in 1 file: 0 valid, 1 invalid (1 error), "),
            "{text}"
        );
        assert_eq!(stderr(&output), "");

        let output = check(&["-o", "json", &file]);
        assert_eq!(output.status.code(), Some(1));
        let report: Value = serde_json::from_str(stdout(&output)).unwrap();
        assert_eq!(report["exitCode"], 1);
        let errors = &report["results"][0]["errors"];
        assert_eq!(errors.as_array().unwrap().len(), 1, "{errors}");
        let (field, body) = error.split_once(": ").unwrap();
        assert_eq!(errors[0]["field"], field);
        assert_eq!(errors[0]["reason"], "FieldValueInvalid");
        assert_eq!(errors[0]["message"], body);
    }
}

#[test]
fn a_quoted_bang_is_a_selector() {
    let output = check(&[&fixture("tags/quoted.yaml")]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = check(&["-o", "json", &fixture("tags/quoted.yaml")]);
    let report: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(report["valid"], true);
}

#[test]
fn a_tag_on_any_peer_field_is_an_error_and_other_kinds_are_left_alone() {
    let file = fixture("tags/as-number.yaml");
    let error = tag_error(
        "spec.asNumber",
        "!foo",
        12,
        "and the value is read as \"64512\"",
        "asNumber: \"!foo 64512\"",
    );
    let output = check(&[&file]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        format!(
            "{file}:doc 2: BGPPeer \"tor\": {error}\n\
             1 BGPPeer checked in 1 file: 0 valid, 1 invalid (1 error), 0 warnings; 1 other \
             document skipped\n"
        )
    );
    let output = check(&["-o", "json", &file]);
    let report: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(report["results"][0]["errors"][0]["field"], "spec.asNumber");
    assert_eq!(report["results"][0]["line"], 7);
    assert_eq!(report["summary"]["errors"], 1);

    // Standard tags are fine; a tag on a mapping is reported too.
    let output = check_stdin(
        &["-"],
        b"apiVersion: !!str projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: !!str p}\n\
          spec: {peerIP: 192.0.2.1, asNumber: !!int 64512}\n",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let output = check_stdin(
        &["-"],
        b"apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: !meta {name: p}\n\
          spec: {peerIP: 192.0.2.1, asNumber: 64512}\n",
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with(
            "<stdin>:doc 1: BGPPeer \"p\": metadata: Invalid value: \"!meta\": line 3: an \
             unquoted \"!\" before a mapping or list is a YAML tag, which Kubernetes ignores; \
             remove the tag\n"
        ),
        "{}",
        stdout(&output)
    );
}

#[test]
fn a_stream_of_100000_documents_is_read_one_at_a_time() {
    let mut input = String::new();
    for i in 0..100_000 {
        input.push_str(&format!(
            "{{kind: ConfigMap, metadata: {{name: c{i}}}}}\n---\n"
        ));
    }
    input.push_str(
        "apiVersion: projectcalico.org/v3\nkind: BGPPeer\nmetadata: {name: tor}\n\
         spec: {peerIP: 192.0.2.1, asNumber: 64512}\n",
    );
    let output = check_stdin(&["-"], input.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(
        stdout(&output),
        "1 BGPPeer checked in 1 file: 1 valid, 0 invalid (0 errors), 0 warnings; 100000 other \
         documents skipped\n"
    );
    assert_eq!(stderr(&output), "");
}

#[test]
fn the_document_size_limit_is_per_document_and_names_its_flag() {
    // The parser reads up to 64 KiB ahead of the document it hands over: that much is allowed
    // on top of the limit.
    let big = format!("kind: ConfigMap\ndata: {{a: {}}}\n", "x".repeat(200_000));
    let small = "kind: ConfigMap\n---\n".repeat(10_000);
    let input = format!("{small}{big}");
    let output = check_stdin(&["--max-document-bytes", "1024", "-"], small.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = check_stdin(&["--max-document-bytes", "1024", "-"], input.as_bytes());
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: <stdin>:doc 10001: a document is larger than 1024 bytes (the limit of \
         --max-document-bytes; raise it to read larger documents)\n"
    );
    let output = check_stdin(&["--max-document-bytes", "300000", "-"], input.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let output = check(&["--max-document-bytes", "100", &fixture("lists/array.json")]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("array.json: a document is larger than 100 bytes"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn parser_errors_are_plain_words() {
    let output = check_stdin(
        &["-o", "json", "-"],
        b"kind: BGPPeer\nspec:\n  peerIP: 10.0.0.1\n  peerIP: 10.0.0.2\n",
    );
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(
        report["failures"][0],
        serde_json::json!({"file": "<stdin>", "line": 4, "column": 3,
            "message": "the key \"peerIP\" appears twice in the same mapping; remove one"})
    );
}

#[test]
fn lists_in_every_shape() {
    for name in [
        "kubectl-get-crd-v1.yaml",
        "kubectl-get-crd-v1.json",
        "kubectl-get-v3.yaml",
        "kubectl-get-v3.json",
        "api-bgppeerlist-crd-v1.yaml",
        "api-bgppeerlist-crd-v1.json",
        "api-bgppeerlist-v3.yaml",
        "api-bgppeerlist-v3.json",
    ] {
        let file = fixture(&format!("lists/{name}"));
        let output = check(&[&file]);
        assert_eq!(output.status.code(), Some(1), "{name}: {}", stdout(&output));
        assert_eq!(
            stdout(&output),
            format!(
                "{file}:doc 1 item 2: BGPPeer \"bad-ttl\": spec.ttlSecurity: Invalid value: 256: \
                 must be an integer between 0 and 255\n\
                 2 BGPPeers checked in 1 file: 1 valid, 1 invalid (1 error), 0 warnings; 0 other \
                 documents skipped\n"
            ),
            "{name}"
        );
        let output = check(&["-o", "json", &file]);
        let report: Value = serde_json::from_str(stdout(&output)).unwrap();
        let group = if name.contains("v3") {
            "projectcalico.org/v3"
        } else {
            "crd.projectcalico.org/v1"
        };
        for (i, result) in report["results"].as_array().unwrap().iter().enumerate() {
            assert_eq!(result["apiVersion"], group, "{name}");
            assert_eq!(result["item"], i + 1, "{name}");
            if name.ends_with(".yaml") {
                assert!(result["line"].as_u64().unwrap() > 1, "{name}: {result}");
            }
        }
        // The same through standard input, read as YAML.
        let bytes = std::fs::read(&file).unwrap();
        assert_eq!(check_stdin(&["-"], &bytes).status.code(), Some(1), "{name}");
    }
    let output = check(&[&fixture("lists/array.json")]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stdout(&output).starts_with(&format!(
            "{}:doc 1 item 2: BGPPeer \"bad\": spec.peerIP: Invalid value",
            fixture("lists/array.json")
        )),
        "{}",
        stdout(&output)
    );
}

#[test]
fn inputs_that_hold_nothing_exit_two() {
    let empty = tempfile::tempdir().unwrap();
    let readme_only = tempfile::tempdir().unwrap();
    std::fs::write(readme_only.path().join("README.md"), "# not a manifest\n").unwrap();
    let accepted = "give manifest files, directories holding *.yaml, *.yml or *.json files \
                    (searched recursively), or - for standard input";
    for dir in [empty.path(), readme_only.path()] {
        let dir = dir.to_str().unwrap();
        let output = check(&[dir]);
        assert_eq!(output.status.code(), Some(2), "{dir}");
        assert_eq!(
            stderr(&output),
            format!(
                "error: {dir}: no *.yaml, *.yml or *.json file in this directory or below; \
                 {accepted}\n"
            )
        );
        let output = check(&["-o", "json", dir]);
        let report: Value = serde_json::from_str(stdout(&output)).unwrap();
        assert_eq!(report["exitCode"], 2);
        assert_eq!(report["failures"][0]["file"], dir);
    }
    // A glob that matched nothing reaches the command as written.
    let output = check(&["manifests/*.yaml"]);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        format!(
            "error: manifests/*.yaml: No such file or directory (a shell pattern that matched \
             nothing is passed on as written); {accepted}\n"
        )
    );
}

#[test]
fn require_peers() {
    let configmap = b"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n";
    let output = check_stdin(&["-"], configmap);
    assert_eq!(output.status.code(), Some(0));
    let output = check_stdin(&["--require-peers", "-"], configmap);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: no BGPPeer in any input, and --require-peers is set; check that the right \
         files are given\n"
    );
    let output = check_stdin(&["--require-peers", "-o", "json", "-"], configmap);
    assert_eq!(output.status.code(), Some(2));
    let report: Value = serde_json::from_str(stdout(&output)).unwrap();
    assert_eq!(
        (report["exitCode"].as_u64(), report["valid"].as_bool()),
        (Some(2), Some(false))
    );
    let output = check(&["--require-peers", &fixture("valid")]);
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn stdin_can_be_given_once() {
    let output = check_stdin(&["-", "-"], b"kind: ConfigMap\n");
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        stderr(&output),
        "error: standard input (`-`) is given more than once; it can be read only once, so \
         give it once\n"
    );
    assert_eq!(stdout(&output), "");
}

/// A YAML tag's annotation points at the tag's own line, so that the pull request shows it on
/// the line to fix; the peer's other errors and its warnings point at the document.
#[test]
fn github_annotations_put_a_tag_error_on_the_tags_line() {
    let file = fixture("tags/as-number.yaml");
    let output = check(&["-o", "github", &file]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error")).collect();
    assert_eq!(errors.len(), 1, "{text}");
    assert!(
        errors[0].starts_with(&format!(
            "::error file={file},line=12,title=BGPPeer \"tor\" (doc 2)::spec.asNumber: "
        )),
        "{text}"
    );

    let file = fixture("tags/node-selector.yaml");
    let output = check(&["-o", "github", &file]);
    assert!(
        stdout(&output).starts_with(&format!(
            "::error file={file},line=5,title=BGPPeer \"rr-mesh\" (doc 1)::spec.nodeSelector: "
        )),
        "{}",
        stdout(&output)
    );
}
