//! The GitHub Actions report of `check` (`-o github`): workflow commands that GitHub turns into
//! annotations on the pull request's files. Pure: renders an [`Outcome`].
//!
//! One line per problem, then the plain summary line of the text report:
//!
//! ```text
//! ::error file=peers.yaml,line=10,title=BGPPeer "bad" (doc 3)::spec.peerIP: Invalid value: ...
//! ::warning file=peers.yaml,line=10,title=BGPPeer "bad" (doc 3)::peerIP set without asNumber: ...
//! ::error file=broken.yaml,line=4,col=7,title=cannot parse the input::did not find expected key
//! 3 BGPPeers checked in 2 files: ...
//! ```
//!
//! `file` is the path as given on the command line (relative paths stay relative, which is what
//! GitHub needs); it is left out for standard input, and `line` where the document's line is
//! unknown (JSON input). Values are escaped as GitHub's toolkit (`@actions/core`) does: `%`,
//! CR and LF in messages; also `:` and `,` in properties. Nothing from the input can start a new
//! line or a new command.

use std::fmt::Write as _;

use super::{Location, Outcome, PeerResult, text};
use crate::manifests::LoadError;

/// The file name `check` gives standard input.
const STDIN: &str = "<stdin>";

/// The annotations, one line each, then the summary line.
pub(crate) fn render(outcome: &Outcome) -> String {
    let mut out = String::new();
    for failure in &outcome.failures {
        write_failure(&mut out, failure);
    }
    for peer in &outcome.peers {
        for (index, error) in peer.report.errors.shown().enumerate() {
            // A YAML tag's error points at the tag's line; the others at the document's.
            let line = peer.tag_lines.get(index).copied().flatten();
            write_command(
                &mut out,
                "error",
                &peer_properties(peer, line),
                &error.to_string(),
            );
        }
    }
    for peer in &outcome.peers {
        for warning in &peer.report.warnings {
            write_command(&mut out, "warning", &peer_properties(peer, None), warning);
        }
    }
    out.push_str(&text::summary_line(outcome));
    out.push('\n');
    out
}

/// `file`, `line` (`line`, else the document's) and `title` of a peer's annotations.
fn peer_properties(peer: &PeerResult, line: Option<u64>) -> Vec<(&'static str, String)> {
    let location = &peer.location;
    let mut properties = file_property(&location.file);
    if let Some(line) = line.or(location.line) {
        properties.push(("line", line.to_string()));
    }
    properties.push((
        "title",
        format!("{} ({})", text::subject(peer), position(location)),
    ));
    properties
}

/// `doc N` or `doc N item M`.
fn position(location: &Location) -> String {
    match location.item {
        Some(item) => format!("doc {} item {item}", location.document),
        None => format!("doc {}", location.document),
    }
}

fn file_property(file: &str) -> Vec<(&'static str, String)> {
    if file == STDIN {
        Vec::new()
    } else {
        vec![("file", file.to_owned())]
    }
}

/// An input that could not be read or parsed: an error on the file (and its line and column,
/// for parse errors).
fn write_failure(out: &mut String, failure: &LoadError) {
    let (properties, message) = match failure {
        LoadError::Parse {
            source_name,
            line,
            column,
            message,
        } => {
            let mut properties = file_property(source_name);
            if let Some(line) = line {
                properties.push(("line", line.to_string()));
            }
            if let Some(column) = column {
                properties.push(("col", column.to_string()));
            }
            properties.push(("title", "cannot parse the input".to_owned()));
            (properties, message.clone())
        }
        LoadError::Read { source_name, .. }
        | LoadError::TooLarge { source_name, .. }
        | LoadError::NotUtf8 { source_name }
        | LoadError::NoSuchPath { source_name }
        | LoadError::NoManifests { source_name } => {
            let mut properties = file_property(source_name);
            properties.push(("title", "cannot read the input".to_owned()));
            (properties, failure.to_string())
        }
    };
    write_command(out, "error", &properties, &message);
}

/// `::command key=value,key=value::message` and a newline.
fn write_command(out: &mut String, command: &str, properties: &[(&str, String)], message: &str) {
    out.push_str("::");
    out.push_str(command);
    for (at, (key, value)) in properties.iter().enumerate() {
        out.push(if at == 0 { ' ' } else { ',' });
        let _ = write!(out, "{key}={}", escape_property(value));
    }
    out.push_str("::");
    out.push_str(&escape_data(message));
    out.push('\n');
}

/// A message, escaped as `@actions/core`'s `escapeData`: `%` → `%25`, CR → `%0D`, LF → `%0A`.
fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value, escaped as `@actions/core`'s `escapeProperty`: as [`escape_data`], and
/// `:` → `%3A`, `,` → `%2C`.
fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_actions_toolkit() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("50% a:b,c\r\nd"), "50%25 a%3Ab%2Cc%0D%0Ad");
        // Escaping `%` first keeps an input that looks escaped as it was.
        assert_eq!(escape_data("%0A"), "%250A");
    }

    #[test]
    fn one_line_per_command() {
        let mut out = String::new();
        write_command(
            &mut out,
            "error",
            &[("file", "a,b:c.yaml".to_owned()), ("line", "3".to_owned())],
            "two\nlines",
        );
        assert_eq!(out, "::error file=a%2Cb%3Ac.yaml,line=3::two%0Alines\n");
    }
}
