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

/// The longest input [`parse`] reads. Go durations that anyone writes are a few characters
/// long (`1h2m3.5s`); a longer input is rejected before any number is parsed, so that parsing
/// is bounded whatever a client sends as `?timeout=`.
pub const MAX_INPUT_LEN: usize = 64;

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

/// Parses a Go duration: one or more `<number><unit>` parts (`1m30s`, `1.5s`), or `0`.
/// Negative durations are rejected: every duration here is a timeout or a delay.
///
/// Never panics and never overflows: an input longer than [`MAX_INPUT_LEN`], a number too large
/// for an `f64` (`1e400` is not accepted at all, but 400 digits are), or a total beyond what
/// [`Duration`] holds is an error, not an infinite or saturated duration. The error quotes at
/// most the first 32 characters of the input.
pub fn parse(input: &str) -> Result<Duration, DurationError> {
    let error = || DurationError::new(input);
    if input == "0" {
        return Ok(Duration::ZERO);
    }
    if input.is_empty() || input.len() > MAX_INPUT_LEN {
        return Err(error());
    }
    let mut rest = input;
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        let (number, after) = rest.split_at(number_len);
        let value: f64 = number.parse().map_err(|_| error())?;
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let seconds_per_unit = match unit {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(error()),
        };
        total += value * seconds_per_unit;
        if !total.is_finite() {
            return Err(error());
        }
        rest = after;
    }
    // Rejects what does not fit a Duration (more than u64::MAX seconds).
    Duration::try_from_secs_f64(total).map_err(|_| error())
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
        // Large but representable: parsed (the caller decides whether it is acceptable).
        assert_eq!(
            parse("4000000000000000h"),
            Ok(Duration::from_secs(4_000_000_000_000_000 * 3600))
        );
        assert_eq!(
            parse("5").unwrap_err().to_string(),
            "invalid duration \"5\": expected a number with a unit, such as 5s, 1m30s or 250ms (units: ns, us, ms, s, m, h)"
        );
    }
}
