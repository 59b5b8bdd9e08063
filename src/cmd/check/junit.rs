//! The JUnit XML report of `check` (`-o junit`), for the test-report views of GitLab
//! (`artifacts:reports:junit`) and Jenkins (`junit` step). Pure: renders an [`Outcome`].
//!
//! - One `<testsuite>` per input file, named by the file as given on the command line, in the
//!   order the files were read.
//! - One `<testcase>` per BGPPeer: `classname` is the file, `name` is
//!   `BGPPeer/NAME (doc N, line L)`. An invalid peer has one `<failure>`: its `message` is the
//!   first error (and how many there are), its text every error and warning as `file:line: ...`
//!   lines. GitLab shows only a failure's text, so warnings are repeated there; every peer with
//!   warnings lists them in its `<system-out>`, which Jenkins shows.
//! - An input that could not be read or parsed is a `<testcase>` with an `<error>`, so the CI
//!   report shows it.
//!
//! The document follows the Jenkins xUnit `junit-10.xsd` structure (checked in the tests with
//! `xmllint`). Everything taken from the input (paths, names, messages) is escaped, and the
//! characters XML 1.0 cannot carry at all (most C0 controls, U+FFFE, U+FFFF) are replaced with
//! U+FFFD. Bounded like the text report: at most the errors each report kept, names cut at
//! [`MAX_NAME_LEN`](bgppeer_core::field::MAX_NAME_LEN) bytes.

use std::collections::HashMap;
use std::fmt::Write as _;

use super::{Location, Outcome, PeerResult};
use crate::manifests::LoadError;
use bgppeer_core::bgppeer::api::BGP_PEER_KIND as KIND;
use bgppeer_core::field;

/// The most characters of a `<failure>`'s or `<error>`'s `message` attribute (the full text is
/// in the element).
const MESSAGE_CHARS: usize = 300;

/// The name of the `<testsuites>` element.
const REPORT_NAME: &str = "bgppeer-webhook check";

/// One test suite: what `check` found in one input file.
#[derive(Default)]
struct Suite<'a> {
    file: &'a str,
    failures: Vec<&'a LoadError>,
    peers: Vec<&'a PeerResult>,
}

impl Suite<'_> {
    fn invalid(&self) -> usize {
        self.peers.iter().filter(|p| !p.report.is_valid()).count()
    }
}

/// The report as a JUnit XML document (UTF-8, ends with a newline).
pub(crate) fn render(outcome: &Outcome) -> String {
    let suites = suites(outcome);
    let tests: usize = suites
        .iter()
        .map(|s| s.peers.len() + s.failures.len())
        .sum();
    let failures: usize = suites.iter().map(Suite::invalid).sum();
    let errors: usize = suites.iter().map(|s| s.failures.len()).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"{REPORT_NAME}\" tests=\"{tests}\" failures=\"{failures}\" \
         errors=\"{errors}\">"
    );
    for suite in &suites {
        write_suite(&mut out, suite);
    }
    out.push_str("</testsuites>\n");
    out
}

/// The suites in the order their files were first seen: unreadable inputs come first in the
/// outcome, then the BGPPeers in input order.
fn suites(outcome: &Outcome) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite<'_>> = Vec::new();
    // Where each file's suite is in `suites`: one lookup per BGPPeer, however many files.
    let mut by_file: HashMap<&str, usize> = HashMap::new();
    let mut suite_for = |file| {
        *by_file.entry(file).or_insert_with(|| {
            suites.push(Suite {
                file,
                ..Suite::default()
            });
            suites.len() - 1
        })
    };
    let failures: Vec<_> = outcome
        .failures
        .iter()
        .map(|failure| (suite_for(failure_file(failure)), failure))
        .collect();
    let peers: Vec<_> = outcome
        .peers
        .iter()
        .map(|peer| (suite_for(peer.location.file.as_str()), peer))
        .collect();
    for (at, failure) in failures {
        suites[at].failures.push(failure);
    }
    for (at, peer) in peers {
        suites[at].peers.push(peer);
    }
    suites
}

fn write_suite(out: &mut String, suite: &Suite<'_>) {
    let file = attribute(suite.file);
    let _ = writeln!(
        out,
        "  <testsuite name=\"{file}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\">",
        suite.peers.len() + suite.failures.len(),
        suite.invalid(),
        suite.failures.len(),
    );
    for failure in &suite.failures {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{file}\" name=\"{}\">",
            attribute(&format!("read {}", suite.file))
        );
        let text = failure.to_string();
        let _ = writeln!(
            out,
            "      <error message=\"{}\" type=\"unreadable input\">{}</error>",
            attribute(&shorten_chars(&text, MESSAGE_CHARS)),
            element_text(&text)
        );
        out.push_str("    </testcase>\n");
    }
    for peer in &suite.peers {
        write_peer(out, &file, peer);
    }
    out.push_str("  </testsuite>\n");
}

fn write_peer(out: &mut String, classname: &str, peer: &PeerResult) {
    let open = format!(
        "    <testcase classname=\"{classname}\" name=\"{}\"",
        attribute(&case_name(peer))
    );
    if peer.report.is_valid() && peer.report.warnings.is_empty() {
        out.push_str(&open);
        out.push_str("/>\n");
        return;
    }
    out.push_str(&open);
    out.push_str(">\n");
    let place = place(&peer.location);
    let warnings: String = peer
        .report
        .warnings
        .iter()
        .map(|warning| format!("{place}: warning: {warning}\n"))
        .collect();
    if !peer.report.is_valid() {
        let mut body = String::new();
        let mut first = None;
        for error in peer.report.errors.shown() {
            let text = error.to_string();
            let _ = writeln!(body, "{place}: {text}");
            first.get_or_insert(text);
        }
        body.push_str(&warnings);
        let count = peer.report.errors.len();
        let message = match (count, first) {
            (1, Some(first)) => first,
            (_, Some(first)) => format!("{count} errors; the first: {first}"),
            (_, None) => format!("{count} errors"),
        };
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"invalid {KIND}\">{}</failure>",
            attribute(&shorten_chars(&message, MESSAGE_CHARS)),
            element_text(&body)
        );
    }
    if !warnings.is_empty() {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            element_text(&warnings)
        );
    }
    out.push_str("    </testcase>\n");
}

/// `BGPPeer/NAME (doc N, item M, line L)`; `BGPPeer/(unnamed) (...)` without a name.
fn case_name(peer: &PeerResult) -> String {
    let name = match &peer.name {
        Some(name) => field::shorten(name, field::MAX_NAME_LEN).into_owned(),
        None => "(unnamed)".to_owned(),
    };
    let location = &peer.location;
    let mut position = format!("doc {}", location.document);
    if let Some(item) = location.item {
        let _ = write!(position, ", item {item}");
    }
    if let Some(line) = location.line {
        let _ = write!(position, ", line {line}");
    }
    format!("{KIND}/{name} ({position})")
}

/// `file:line` where the document starts, or `file:doc N item M` when the line is unknown
/// (JSON input).
fn place(location: &Location) -> String {
    match location.line {
        Some(line) => format!("{}:{line}", location.file),
        None => location.to_string(),
    }
}

/// The file a load error is about.
fn failure_file(failure: &LoadError) -> &str {
    match failure {
        LoadError::Read { source_name, .. }
        | LoadError::TooLarge { source_name, .. }
        | LoadError::NotUtf8 { source_name }
        | LoadError::NoSuchPath { source_name }
        | LoadError::NoManifests { source_name }
        | LoadError::Parse { source_name, .. } => source_name,
    }
}

/// `text` cut to at most `max` characters, marked with `...` when cut.
fn shorten_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_owned(),
    }
}

/// Whether XML 1.0 allows `c` in a document at all (its `Char` production); Rust strings hold no
/// surrogates, so only these are left out.
fn allowed_in_xml(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
        && !matches!(c, '\u{fffe}' | '\u{ffff}')
}

/// `text` escaped for an attribute value in double quotes. Tabs and line breaks are written as
/// character references, which attribute-value normalisation keeps.
fn attribute(text: &str) -> String {
    escape(text, true)
}

/// `text` escaped for element content; carriage returns are written as references, which
/// end-of-line normalisation keeps.
fn element_text(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if allowed_in_xml(c) => out.push(c),
            _ => out.push(char::REPLACEMENT_CHARACTER),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_replaces_what_xml_cannot_carry() {
        assert_eq!(
            attribute("a&b<c>\"d\"'e'\tf\ng\rh\0i\u{1b}j\u{fffe}k\u{7f}"),
            "a&amp;b&lt;c&gt;&quot;d&quot;'e'&#9;f&#10;g&#13;h\u{fffd}i\u{fffd}j\u{fffd}k\u{7f}"
        );
        assert_eq!(
            element_text("]]> \"q\" \t\n\r \u{8}"),
            "]]&gt; \"q\" \t\n&#13; \u{fffd}"
        );
    }

    #[test]
    fn long_messages_are_cut_at_a_character() {
        assert_eq!(shorten_chars("ééé", 2), "éé...");
        assert_eq!(shorten_chars("ééé", 3), "ééé");
    }
}
