//! The typed values of a BGPPeer spec's fields: AS numbers, Go durations and the string enums
//! (`sourceAddress`, `nextHopMode`, `reversePeering`), each with Calico's JSON spelling. The spec
//! itself is [`super::peer::PeerSpec`], filled by validation; the serde implementations read and
//! write single values the way Calico does.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::{asnumber, duration};

/// An AS number (`numorstring.ASNumber`): decodes from an integer or a (dotted) string, always
/// encodes as an integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsNumber(pub u32);

impl AsNumber {
    /// Whether this is 0, Calico's "not set".
    pub(crate) fn is_unset(&self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for AsNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for AsNumber {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u32(self.0)
    }
}

impl<'de> Deserialize<'de> for AsNumber {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        asnumber::from_json(&value)
            .map(|form| AsNumber(form.value()))
            .map_err(de::Error::custom)
    }
}

/// A Go duration (`metav1.Duration`): the text as written and its value in nanoseconds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GoDuration {
    /// The string as written (`"2m"`); kept so that re-encoding changes nothing.
    pub(crate) text: String,
    /// The value in nanoseconds (negative values are allowed, as in Go).
    pub(crate) nanos: i64,
}

impl GoDuration {
    /// Parses a Go duration string.
    pub(crate) fn parse(text: &str) -> Result<Self, duration::DurationError> {
        duration::parse(text).map(|nanos| GoDuration {
            text: text.to_owned(),
            nanos,
        })
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GoDuration::parse(&text).map_err(de::Error::custom)
    }
}

/// Declares a string enum with its JSON spellings, `parse`, `as_str` and serde support.
macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every accepted spelling, in the order the CRD's `enum` lists them.
            pub(crate) const ALL: &'static [&'static str] = &[$($text),+];

            /// The value for an exact (case-sensitive) spelling.
            pub(crate) fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The JSON spelling.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                $name::parse(&text).ok_or_else(|| de::Error::unknown_variant(&text, $name::ALL))
            }
        }
    };
}

string_enum! {
    /// `sourceAddress`.
    SourceAddress {
        /// Use the node's IP as the session's source address (the runtime default).
        UseNodeIp = "UseNodeIP",
        /// Configure no source address.
        None = "None",
    }
}

string_enum! {
    /// `nextHopMode`.
    NextHopMode {
        /// BGP's default next-hop behaviour.
        Auto = "Auto",
        /// `next hop self`.
        Self_ = "Self",
        /// `next hop keep` (replaces `keepOriginalNextHop: true`).
        Keep = "Keep",
    }
}

string_enum! {
    /// `reversePeering`.
    ReversePeering {
        /// Generate the reverse peering automatically.
        Auto = "Auto",
        /// A separate BGPPeer must create the reverse peering.
        Manual = "Manual",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_encode_as_calico_does() {
        assert_eq!(serde_json::to_value(AsNumber(65546)).unwrap(), json!(65546));
        let number: AsNumber = serde_json::from_value(json!("1.10")).unwrap();
        assert_eq!(number, AsNumber(65546));
        let duration: GoDuration = serde_json::from_value(json!("2m")).unwrap();
        assert_eq!(duration.nanos, 120_000_000_000);
        assert_eq!(serde_json::to_value(&duration).unwrap(), json!("2m"));
        assert!(serde_json::from_value::<GoDuration>(json!("1d")).is_err());
        assert!(serde_json::from_value::<SourceAddress>(json!("Bogus")).is_err());
        assert_eq!(
            serde_json::from_value::<NextHopMode>(json!("Self")).unwrap(),
            NextHopMode::Self_
        );
    }

    #[test]
    fn enums_round_trip() {
        for text in SourceAddress::ALL {
            assert_eq!(SourceAddress::parse(text).unwrap().as_str(), *text);
        }
        for text in NextHopMode::ALL {
            assert_eq!(NextHopMode::parse(text).unwrap().as_str(), *text);
        }
        for text in ReversePeering::ALL {
            assert_eq!(ReversePeering::parse(text).unwrap().as_str(), *text);
        }
        assert_eq!(SourceAddress::parse("usenodeip"), None);
    }
}
