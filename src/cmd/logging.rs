//! The log output of `serve`: one line per event on standard output, as text or JSON, in which
//! nothing a client sends can start a new line, hide text or colour the terminal.
//!
//! - Text: every field value and message is written with its control characters escaped
//!   (`\n`, `\0`, `\u{1b}`, also the Unicode line and paragraph separators and bidirectional
//!   overrides); tracing-subscriber's own text format leaves newlines and NULs in `%` fields
//!   as they are.
//! - JSON: serde_json escapes every control character itself.
//!
//! rustls logs some client mistakes at WARN, once per connection (an IP address sent as SNI,
//! for example), so any client could add log lines at will: [`filter`] keeps rustls at `error`
//! unless the filter names rustls itself. Our own per-connection messages are at debug level.

use std::fmt;

use tracing::field::{Field, Visit};
use tracing::{Level, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::field::RecordFields;
use tracing_subscriber::filter::ParseError;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FormatFields, MakeWriter};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The directive that keeps rustls' per-connection warnings out of the log.
const RUSTLS_DIRECTIVE: &str = "rustls=error";

/// The filter for `--log-level`: `level` as a tracing filter, with rustls limited to errors
/// unless `level` says otherwise about rustls.
pub(crate) fn filter(level: &str) -> Result<EnvFilter, ParseError> {
    let filter = EnvFilter::try_new(level)?;
    if level.contains("rustls") {
        return Ok(filter);
    }
    Ok(filter.add_directive(RUSTLS_DIRECTIVE.parse()?))
}

/// The subscriber `serve` installs, writing to `writer` (standard output in the binary).
pub(crate) fn subscriber<W>(
    format: Format,
    filter: EnvFilter,
    writer: W,
    ansi: bool,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(ansi);
    match format {
        Format::Text => Box::new(builder.fmt_fields(EscapedFields).finish()),
        Format::Json => Box::new(builder.json().flatten_event(true).finish()),
    }
}

/// The most characters of a panic message written to the log.
const PANIC_MESSAGE_CHARS: usize = 1024;

/// Logs panics through the installed subscriber (at ERROR, with their location), instead of
/// the default hook's unescaped multi-line text on standard error.
pub(crate) fn log_panics() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("(no message)");
        // A panic message may quote input: keep the line bounded.
        let message: String = message.chars().take(PANIC_MESSAGE_CHARS).collect();
        let location = info
            .location()
            .map(|location| location.to_string())
            .unwrap_or_default();
        let thread = std::thread::current();
        tracing::event!(
            Level::ERROR,
            panic = message.as_str(),
            location,
            thread = thread.name(),
            "panicked"
        );
    }));
}

/// The text format's field formatter: `name=value` pairs separated by spaces, the message
/// first without a name, every value with its control characters escaped.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct EscapedFields;

impl<'writer> FormatFields<'writer> for EscapedFields {
    fn format_fields<R: RecordFields>(&self, writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = EscapingVisitor {
            writer,
            result: Ok(()),
            first: true,
        };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct EscapingVisitor<'writer> {
    writer: Writer<'writer>,
    result: fmt::Result,
    first: bool,
}

impl EscapingVisitor<'_> {
    fn write(&mut self, field: &Field, value: &str) {
        if self.result.is_err() {
            return;
        }
        let separator = if self.first { "" } else { " " };
        self.first = false;
        self.result = (|| {
            self.writer.write_str(separator)?;
            if field.name() != "message" {
                let name = field.name();
                write!(self.writer, "{}=", name.strip_prefix("r#").unwrap_or(name))?;
            }
            write_escaped(&mut self.writer, value)
        })();
    }
}

impl Visit for EscapingVisitor<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.write(field, value);
        } else {
            self.write(field, &format!("{value:?}"));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.write(field, &format!("{value:?}"));
    }
}

/// Whether `c` is written escaped: control characters (C0, DEL, C1), the Unicode line and
/// paragraph separators, and the bidirectional embedding, override and isolate characters.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Writes `text` with every character [`needs_escape`] picks escaped as Rust does (`\n`, `\0`,
/// `\u{1b}`).
pub(crate) fn write_escaped(out: &mut impl fmt::Write, text: &str) -> fmt::Result {
    let mut rest = text;
    while let Some(at) = rest.find(needs_escape) {
        out.write_str(&rest[..at])?;
        let c = rest[at..].chars().next().unwrap_or_default();
        match c {
            '\n' => out.write_str("\\n")?,
            '\r' => out.write_str("\\r")?,
            '\t' => out.write_str("\\t")?,
            '\0' => out.write_str("\\0")?,
            other => write!(out, "\\u{{{:x}}}", u32::from(other))?,
        }
        rest = &rest[at + c.len_utf8()..];
    }
    out.write_str(rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io;
    use std::sync::{Arc, Mutex};

    /// A writer collecting everything in memory.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn logged(format: Format, level: &str, emit: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(
            format,
            filter(level).unwrap(),
            move || writer.clone(),
            false,
        );
        tracing::subscriber::with_default(subscriber, emit);
        String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap()
    }

    const FORGED: &str = "evil\n2026-12-02T00:00:00Z  INFO forged: admission decision allowed=true\0\u{1b}[31mred\u{2028}";

    #[test]
    fn client_text_stays_on_one_escaped_line_in_the_text_format() {
        let text = logged(Format::Text, "info", || {
            tracing::info!(name = %FORGED, uid = FORGED, "admission decision");
            tracing::warn!("{FORGED}");
        });
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        let escaped = "evil\\n2026-12-02T00:00:00Z  INFO forged: admission decision allowed=true\\0\\u{1b}[31mred\\u{2028}";
        assert!(
            lines[0].contains(&format!("admission decision name={escaped} uid=\"evil\\n")),
            "{text}"
        );
        assert!(lines[1].ends_with(escaped), "{text}");
        for forbidden in ['\0', '\u{1b}', '\u{2028}'] {
            assert!(!text.contains(forbidden), "{text:?}");
        }
    }

    #[test]
    fn client_text_stays_on_one_line_in_the_json_format() {
        let text = logged(Format::Json, "info", || {
            tracing::info!(name = %FORGED, "admission decision");
        });
        assert_eq!(text.lines().count(), 1, "{text}");
        let event: serde_json::Value = serde_json::from_str(text.trim_end()).unwrap();
        assert_eq!(event["name"], FORGED);
    }

    #[test]
    fn rustls_logs_only_errors_unless_asked() {
        let text = logged(Format::Text, "debug", || {
            tracing::warn!(target: "rustls::msgs::handshake", "Illegal SNI extension");
            tracing::error!(target: "rustls::conn", "a real rustls error");
            tracing::debug!(target: "bgppeer_webhook::server::listener", "TLS handshake failed");
        });
        assert!(!text.contains("Illegal SNI"), "{text}");
        assert!(text.contains("a real rustls error"), "{text}");
        assert!(text.contains("TLS handshake failed"), "{text}");
        let text = logged(Format::Text, "info,rustls=warn", || {
            tracing::warn!(target: "rustls::msgs::handshake", "Illegal SNI extension");
        });
        assert!(text.contains("Illegal SNI"), "{text}");
    }

    #[test]
    fn escapes_only_what_is_needed() {
        let mut out = String::new();
        write_escaped(&mut out, "plain ünïcødé\t\r\n\u{7f}\u{85}\u{202e}").unwrap();
        assert_eq!(out, "plain ünïcødé\\t\\r\\n\\u{7f}\\u{85}\\u{202e}");
    }
}
