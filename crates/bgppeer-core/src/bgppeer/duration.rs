//! Go's `time.ParseDuration`, which `metav1.Duration` uses for `maxRestartTime` and
//! `keepaliveTime` (rule R8). Ported line by line so that exactly the same strings are accepted.

/// Nanoseconds per unit, as Go's `unitMap` (both spellings of the micro sign included).
const UNITS: [(&str, u64); 8] = [
    ("ns", 1),
    ("us", 1_000),
    ("\u{b5}s", 1_000),
    ("\u{3bc}s", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
    ("m", 60_000_000_000),
    ("h", 3_600_000_000_000),
];

/// 1 << 63: the magnitude limit of Go's `Duration` (an `int64` of nanoseconds).
const LIMIT: u64 = 1 << 63;

/// Why a duration was rejected; `Display` is the detail of the field error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not of the form `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`.
    #[error(
        "must be a duration such as \"120s\", \"2m\" or \"1h30m\" (units ns, us, ms, s, m, h; \
         no days)"
    )]
    Invalid,
    /// A unit Go does not know (`d`, `w`, `sec`, ...).
    #[error("unknown unit; use ns, us, ms, s, m or h (e.g. \"120s\", \"2m\")")]
    UnknownUnit,
    /// A number without a unit (other than `0`).
    #[error("missing unit; use ns, us, ms, s, m or h (e.g. \"120s\", \"2m\")")]
    MissingUnit,
    /// More than about 292 years.
    #[error("is too large (at most about 292 years)")]
    Overflow,
}

/// Parses a Go duration string into nanoseconds (negative values allowed, as in Go).
pub fn parse(text: &str) -> Result<i64, DurationError> {
    let mut s = text.as_bytes();
    let mut negative = false;
    if let Some(&sign @ (b'-' | b'+')) = s.first() {
        negative = sign == b'-';
        s = &s[1..];
    }
    if s == b"0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(DurationError::Invalid);
    }
    let mut total: u64 = 0;
    while !s.is_empty() {
        if !(s[0] == b'.' || s[0].is_ascii_digit()) {
            return Err(DurationError::Invalid);
        }
        let before = s.len();
        let (whole, rest) = leading_int(s)?;
        s = rest;
        let had_whole = before != s.len();
        let mut fraction = 0u64;
        let mut scale = 1f64;
        let mut had_fraction = false;
        if let Some((b'.', rest)) = s.split_first() {
            s = rest;
            let before = s.len();
            let (f, sc, rest) = leading_fraction(s);
            fraction = f;
            scale = sc;
            s = rest;
            had_fraction = before != s.len();
        }
        if !had_whole && !had_fraction {
            return Err(DurationError::Invalid);
        }
        let unit_len = s
            .iter()
            .position(|&c| c == b'.' || c.is_ascii_digit())
            .unwrap_or(s.len());
        if unit_len == 0 {
            return Err(DurationError::MissingUnit);
        }
        let (unit, rest) = s.split_at(unit_len);
        s = rest;
        let per_unit = UNITS
            .iter()
            .find(|(name, _)| name.as_bytes() == unit)
            .map(|&(_, ns)| ns)
            .ok_or(DurationError::UnknownUnit)?;
        if whole > LIMIT / per_unit {
            return Err(DurationError::Overflow);
        }
        let mut value = whole * per_unit;
        if fraction > 0 {
            // Go computes the fractional part in float64 and truncates; `as` does the same.
            value += (fraction as f64 * (per_unit as f64 / scale)) as u64;
            if value > LIMIT {
                return Err(DurationError::Overflow);
            }
        }
        total = total.checked_add(value).ok_or(DurationError::Overflow)?;
        if total > LIMIT {
            return Err(DurationError::Overflow);
        }
    }
    if negative {
        // total <= 1 << 63, so the negation fits (i64::MIN when equal).
        return Ok(0i64.wrapping_sub_unsigned(total));
    }
    i64::try_from(total).map_err(|_| DurationError::Overflow)
}

/// Go's `leadingInt`: consumes `[0-9]*`, failing on overflow past 1 << 63.
fn leading_int(s: &[u8]) -> Result<(u64, &[u8]), DurationError> {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut value: u64 = 0;
    for &c in &s[..digits] {
        if value > LIMIT / 10 {
            return Err(DurationError::Overflow);
        }
        value = value * 10 + u64::from(c - b'0');
        if value > LIMIT {
            return Err(DurationError::Overflow);
        }
    }
    Ok((value, &s[digits..]))
}

/// Go's `leadingFraction`: consumes `[0-9]*`, keeping the digits that fit and their scale.
fn leading_fraction(s: &[u8]) -> (u64, f64, &[u8]) {
    let digits = s.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut value: u64 = 0;
    let mut scale = 1f64;
    let mut overflow = false;
    for &c in &s[..digits] {
        if overflow {
            continue;
        }
        if value > (LIMIT - 1) / 10 {
            overflow = true;
            continue;
        }
        let next = value * 10 + u64::from(c - b'0');
        if next > LIMIT {
            overflow = true;
            continue;
        }
        value = next;
        scale *= 10.0;
    }
    (value, scale, &s[digits..])
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn accepts_go_forms() {
        assert_eq!(parse("0"), Ok(0));
        assert_eq!(parse("-0"), Ok(0));
        assert_eq!(parse("+0"), Ok(0));
        assert_eq!(parse("10s"), Ok(10 * SECOND));
        assert_eq!(parse("120s"), Ok(120 * SECOND));
        assert_eq!(parse("2m"), Ok(120 * SECOND));
        assert_eq!(parse("1h30m"), Ok(5400 * SECOND));
        assert_eq!(parse("1.5h"), Ok(5400 * SECOND));
        assert_eq!(parse(".5s"), Ok(SECOND / 2));
        assert_eq!(parse("5.s"), Ok(5 * SECOND));
        assert_eq!(parse("-1.5s"), Ok(-3 * SECOND / 2));
        assert_eq!(parse("1ns"), Ok(1));
        assert_eq!(parse("1us"), Ok(1_000));
        assert_eq!(parse("1\u{b5}s"), Ok(1_000));
        assert_eq!(parse("1\u{3bc}s"), Ok(1_000));
        assert_eq!(parse("1ms"), Ok(1_000_000));
        assert_eq!(parse("1h1m1s1ms1us1ns"), Ok(3661 * SECOND + 1_001_001));
        assert_eq!(parse("0s"), Ok(0));
        assert_eq!(parse("00010s"), Ok(10 * SECOND));
        assert_eq!(parse("9223372036854775807ns"), Ok(i64::MAX));
        assert_eq!(parse("-9223372036854775808ns"), Ok(i64::MIN));
    }

    #[test]
    fn rejects_what_go_rejects() {
        assert_eq!(parse(""), Err(DurationError::Invalid));
        assert_eq!(parse("-"), Err(DurationError::Invalid));
        assert_eq!(parse("s"), Err(DurationError::Invalid));
        assert_eq!(parse(".s"), Err(DurationError::Invalid));
        assert_eq!(parse("10"), Err(DurationError::MissingUnit));
        assert_eq!(parse("1d"), Err(DurationError::UnknownUnit));
        assert_eq!(parse("1 s"), Err(DurationError::UnknownUnit));
        assert_eq!(parse("1S"), Err(DurationError::UnknownUnit));
        assert_eq!(parse(" 1s"), Err(DurationError::Invalid));
        assert_eq!(parse("1s "), Err(DurationError::UnknownUnit));
        assert_eq!(parse("--1s"), Err(DurationError::Invalid));
        assert_eq!(parse("9223372036854775808ns"), Err(DurationError::Overflow));
        assert_eq!(parse("3000000h"), Err(DurationError::Overflow));
        assert_eq!(parse("99999999999999999999s"), Err(DurationError::Overflow));
    }
}
