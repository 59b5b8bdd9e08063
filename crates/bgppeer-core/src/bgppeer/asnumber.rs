//! BGP AS numbers (`numorstring.ASNumber`, rule R7): a `uint32`, written as a JSON integer or, on
//! `projectcalico.org/v3`, as a string that is plain decimal (`"64512"`) or dotted (`"1.10"`).

use serde_json::Value;

use super::api::{AS_DOT_PART_MAX, AS_NUMBER_MAX};

/// How an AS number was written, once it is known to be valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AsNumberForm {
    /// A JSON integer: stored as is.
    Integer(u32),
    /// A string (`"1.10"` or `"64512"`): valid, but the CRD schemas want the integer, which the
    /// mutating webhook writes instead.
    Text(u32),
}

impl AsNumberForm {
    /// The numeric value.
    pub fn value(self) -> u32 {
        match self {
            AsNumberForm::Integer(v) | AsNumberForm::Text(v) => v,
        }
    }
}

/// Why an AS number was rejected; `Display` is the detail of the field error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AsNumberError {
    /// A JSON number that is negative, fractional or above 4294967295.
    #[error("must be an integer between 0 and 4294967295")]
    OutOfRange,
    /// A string that is neither plain decimal nor dotted `x.y`.
    #[error(
        "must be an integer between 0 and 4294967295, or a string in that range or in dotted \
         notation \"x.y\" with x and y between 0 and 65535"
    )]
    BadString,
    /// Neither a number nor a string.
    #[error("must be an integer between 0 and 4294967295 or a string")]
    WrongType,
}

/// Decodes an AS number from JSON as Calico's `ASNumber.UnmarshalJSON` does: an integer
/// 0–4294967295, or a string accepted by `parse_str`.
pub fn from_json(value: &Value) -> Result<AsNumberForm, AsNumberError> {
    match value {
        Value::Number(n) => n
            .as_u64()
            .and_then(|v| u32::try_from(v).ok())
            .map(AsNumberForm::Integer)
            .ok_or(AsNumberError::OutOfRange),
        Value::String(s) => parse_str(s)
            .map(AsNumberForm::Text)
            .ok_or(AsNumberError::BadString),
        _ => Err(AsNumberError::WrongType),
    }
}

/// Calico's `ASNumberFromString`: `strconv.ParseUint(s, 10, 32)`, else exactly two dot-separated
/// `ParseUint(part, 10, 16)` parts giving `hi << 16 | lo`. Leading zeros are accepted; signs,
/// spaces, `0x` and `_` are not.
pub(crate) fn parse_str(text: &str) -> Option<u32> {
    if let Some(plain) = parse_decimal(text, u64::from(AS_NUMBER_MAX)) {
        return u32::try_from(plain).ok();
    }
    let (hi, lo) = text.split_once('.')?;
    let hi = parse_decimal(hi, u64::from(AS_DOT_PART_MAX))?;
    let lo = parse_decimal(lo, u64::from(AS_DOT_PART_MAX))?;
    u32::try_from(hi << 16 | lo).ok()
}

/// Go's `strconv.ParseUint(text, 10, bits)` where `max` is the largest value of the bit size.
fn parse_decimal(text: &str, max: u64) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    let mut value: u64 = 0;
    for b in text.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(b - b'0'))?;
        if value > max {
            return None;
        }
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn strings_follow_calico() {
        assert_eq!(parse_str("0"), Some(0));
        assert_eq!(parse_str("4294967295"), Some(u32::MAX));
        assert_eq!(parse_str("000000000000000000064512"), Some(64512));
        assert_eq!(parse_str("1.10"), Some(65546));
        assert_eq!(parse_str("00.01"), Some(1));
        assert_eq!(parse_str("65535.65535"), Some(u32::MAX));
        assert_eq!(parse_str("64512.1"), Some(4_227_858_433));
        for bad in [
            "",
            "4294967296",
            "1.1.1",
            "65536.65535",
            "65535.65536",
            "0.-1",
            "-1",
            "+1",
            " 1",
            "0x10",
            "1_000",
            ".1",
            "1.",
            "1e3",
        ] {
            assert_eq!(parse_str(bad), None, "{bad}");
        }
    }

    #[test]
    fn json_forms() {
        assert_eq!(from_json(&json!(64512)), Ok(AsNumberForm::Integer(64512)));
        assert_eq!(from_json(&json!("1.10")), Ok(AsNumberForm::Text(65546)));
        assert_eq!(from_json(&json!(-1)), Err(AsNumberError::OutOfRange));
        assert_eq!(
            from_json(&json!(4_294_967_296_u64)),
            Err(AsNumberError::OutOfRange)
        );
        assert_eq!(from_json(&json!(1.5)), Err(AsNumberError::OutOfRange));
        assert_eq!(from_json(&json!("x")), Err(AsNumberError::BadString));
        assert_eq!(from_json(&json!(true)), Err(AsNumberError::WrongType));
    }
}
