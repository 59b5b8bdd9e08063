//! Go-style durations (`5s`, `1m30s`, `250ms`): the format of the apiserver's `?timeout=` query
//! and of Kubernetes manifests, so the flags take the same format.

use std::time::Duration;

/// A duration that is not in Go's format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {input:?}: expected a number with a unit, such as 5s, 1m30s or 250ms (units: ns, us, ms, s, m, h)"
)]
pub struct DurationError {
    input: String,
}

/// How much of a rejected input its error message quotes.
const QUOTED_INPUT_CHARS: usize = 32;

impl DurationError {
    fn new(input: &str) -> Self {
        let mut quoted: String = input.chars().take(QUOTED_INPUT_CHARS).collect();
        if quoted.len() < input.len() {
            quoted.push_str("...");
        }
        Self { input: quoted }
    }
}

/// Parses a Go duration: one or more `<number><unit>` parts (`1m30s`, `1.5s`), or `0`, exactly as
/// Go's `time.ParseDuration` does (it is [`bgppeer_core::bgppeer::duration::parse`], the same port),
/// so a value means here what it means to the apiserver. Negative durations are rejected: every
/// duration here is a timeout or a delay. A rejected input is quoted in the error up to its first 32
/// characters.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    bgppeer_core::bgppeer::duration::parse(input)
        .ok()
        .and_then(|nanos| u64::try_from(nanos).ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| DurationError::new(input))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        assert_eq!(parse("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "5",
            "s",
            "-5s",
            "5 s",
            "5x",
            "1..2s",
            "1e400s",
            "9999999999999999999999h",
            ".s",
            "1e400s",
            "NaNs",
            "infs",
            "99999999999999999999999999999999999999999999999999999999999999h",
            "-1ns",
            "1.5",
            "1s ",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let many_digits = format!("{}s", "9".repeat(10_000));
        assert_eq!(
            parse(&many_digits).unwrap_err().to_string(),
            format!(
                "invalid duration \"{}...\": expected a number with a unit, such as 5s, 1m30s or 250ms (units: ns, us, ms, s, m, h)",
                "9".repeat(32)
            )
        );
        // Within the length limit but beyond what a Duration holds (u64::MAX seconds).
        assert!(parse("4000000000000000000000h").is_err());
        assert!(parse(&format!("{}s", "9".repeat(60))).is_err());
        // Beyond Go's limit (the largest int64 of nanoseconds, about 292 years): an error, as
        // time.ParseDuration says; the largest whole hour below it is parsed.
        assert!(parse("4000000000000000h").is_err());
        assert!(parse("2562048h").is_err());
        assert_eq!(parse("2562047h"), Ok(Duration::from_secs(2_562_047 * 3600)));
        assert_eq!(
            parse("5").unwrap_err().to_string(),
            "invalid duration \"5\": expected a number with a unit, such as 5s, 1m30s or 250ms (units: ns, us, ms, s, m, h)"
        );
    }

    /// Found by fuzzing against Go's parser (`bgppeer::duration`): the float-based parser
    /// rejected signs and the Greek micro sign, rounded sums of parts, and accepted durations
    /// over Go's limit of about 292 years.
    #[test]
    fn agrees_with_go_time_parse_duration() {
        let nanos = Duration::from_nanos;
        // Go accepts a leading `+`, `-0`, and both micro signs (U+00B5 and U+03BC).
        assert_eq!(parse("+5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse("-0"), Ok(Duration::ZERO));
        assert_eq!(parse("-.00h"), Ok(Duration::ZERO));
        assert_eq!(parse("5\u{3bc}s"), Ok(nanos(5_000)));
        assert_eq!(parse("5\u{b5}s"), Ok(nanos(5_000)));
        // Exact to the nanosecond, with Go's truncation of fractions.
        assert_eq!(parse("9223372036854775807ns"), Ok(nanos(i64::MAX as u64)));
        assert_eq!(parse(".9686ns485ns485s"), Ok(nanos(485_000_000_485)));
        assert_eq!(parse("3372.4s.0736\u{b5}s"), Ok(nanos(3_372_400_000_073)));
        // Go's limit: 2562047h47m16.854775807s.
        assert_eq!(parse("2562047h"), Ok(Duration::from_secs(2_562_047 * 3600)));
        for over in [
            "2562048h",
            "330333309m",
            "184467440m3.47s",
            "9223372036854775808ns",
        ] {
            assert!(parse(over).is_err(), "{over}");
        }
    }
}
