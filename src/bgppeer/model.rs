//! The typed `BGPPeerSpec`, with Calico's exact JSON field names (`peerIP`, `asNumber`, ...).
//!
//! Field order is the order of the BGPPeer reference documentation's field table, then the fields
//! added in Calico v3.30–v3.32; validation reports field errors in this order. The same struct
//! serves both API groups: `crd.projectcalico.org/v1` embeds the `projectcalico.org/v3` spec.
//!
//! Validation reads the raw JSON (so that wrong types and unknown fields become field errors) and
//! fills this model with the values that passed; the serde implementations let other code read
//! and write a spec that is already known to be valid.

use std::fmt;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

use super::{asnumber, duration};

/// The JSON names of every spec field, in declaration order.
pub const SPEC_FIELDS: [&str; 18] = [
    "node",
    "peerIP",
    "asNumber",
    "nodeSelector",
    "peerSelector",
    "keepOriginalNextHop",
    "password",
    "sourceAddress",
    "maxRestartTime",
    "numAllowedLocalASNumbers",
    "ttlSecurity",
    "filters",
    "reachableBy",
    "localWorkloadSelector",
    "nextHopMode",
    "reversePeering",
    "localASNumber",
    "keepaliveTime",
];

/// The specification of a BGPPeer (`v3.BGPPeerSpec`). Empty strings and `None` mean "not set",
/// as in Calico, where the zero value of each field means unset.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BgpPeerSpec {
    /// The node this peering applies to; empty means every node (unless `nodeSelector` is set).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub node: String,
    /// The peer's address with an optional port (`10.0.0.1`, `10.0.0.1:179`, `[2001:db8::1]:179`).
    #[serde(
        rename = "peerIP",
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub peer_ip: String,
    /// The peer's AS number; 0 means unset.
    #[serde(
        default,
        skip_serializing_if = "AsNumber::is_unset",
        deserialize_with = "null_as_default"
    )]
    pub as_number: AsNumber,
    /// Calico selector for the nodes that have this peering.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub node_selector: String,
    /// Calico selector for the remote Calico nodes to peer with.
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub peer_selector: String,
    /// Keep the original next hop (deprecated since v3.30 in favour of `nextHopMode: Keep`).
    #[serde(
        default,
        skip_serializing_if = "std::ops::Not::not",
        deserialize_with = "null_as_default"
    )]
    pub keep_original_next_hop: bool,
    /// The BGP password, read from a Secret in calico-node's namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<BgpPassword>,
    /// Which source address the peering uses; unset behaves as `UseNodeIP`.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "empty_as_none"
    )]
    pub source_address: Option<SourceAddress>,
    /// The graceful-restart time BIRD announces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_restart_time: Option<GoDuration>,
    /// How many times the local AS may appear in received paths (disables loop prevention).
    #[serde(
        rename = "numAllowedLocalASNumbers",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub num_allowed_local_as_numbers: Option<i32>,
    /// GTSM: the number of hops to the peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_security: Option<u8>,
    /// Names of the BGPFilter resources applied to this peering.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub filters: Vec<String>,
    /// The gateway through which the peer is reached (adds a static route).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub reachable_by: String,
    /// Calico selector for local workloads to peer with (v3.30+).
    #[serde(
        default,
        skip_serializing_if = "String::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub local_workload_selector: String,
    /// Next-hop handling (v3.30.2+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_hop_mode: Option<NextHopMode>,
    /// Whether the reverse peering is generated automatically (v3.30.3+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse_peering: Option<ReversePeering>,
    /// The local AS number for this peering (v3.31+).
    #[serde(
        rename = "localASNumber",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub local_as_number: Option<AsNumber>,
    /// The BGP keepalive time (v3.32+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_time: Option<GoDuration>,
}

/// `password`: where the BGP password comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BgpPassword {
    /// The Secret key holding the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_key_ref: Option<SecretKeySelector>,
}

/// `password.secretKeyRef`: Kubernetes' `SecretKeySelector`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SecretKeySelector {
    /// The Secret's name (in calico-node's namespace).
    #[serde(default)]
    pub name: String,
    /// The data key within the Secret.
    pub key: String,
    /// Whether the Secret or key may be missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// An AS number (`numorstring.ASNumber`): decodes from an integer or a (dotted) string, always
/// encodes as an integer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AsNumber(pub u32);

impl AsNumber {
    /// Whether this is 0, Calico's "not set".
    pub fn is_unset(&self) -> bool {
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
pub struct GoDuration {
    /// The string as written (`"2m"`); kept so that re-encoding changes nothing.
    pub text: String,
    /// The value in nanoseconds (negative values are allowed, as in Go).
    pub nanos: i64,
}

impl GoDuration {
    /// Parses a Go duration string.
    pub fn parse(text: &str) -> Result<Self, duration::DurationError> {
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
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $name {
            /// Every accepted spelling, in the order the CRD's `enum` lists them.
            pub const ALL: &'static [&'static str] = &[$($text),+];

            /// The value for an exact (case-sensitive) spelling.
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The JSON spelling.
            pub fn as_str(self) -> &'static str {
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

/// `null` means unset, as in Go's JSON decoding (and the API server prunes such nulls anyway).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// `sourceAddress: ""` means unset, as in Go (the field is a plain string there).
fn empty_as_none<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<SourceAddress>, D::Error> {
    match Option::<String>::deserialize(deserializer)? {
        None => Ok(None),
        Some(text) if text.is_empty() => Ok(None),
        Some(text) => SourceAddress::parse(&text)
            .map(Some)
            .ok_or_else(|| de::Error::unknown_variant(&text, SourceAddress::ALL)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn full_spec() -> serde_json::Value {
        json!({
            "node": "n1", "peerIP": "10.0.0.1:179", "asNumber": "1.10", "nodeSelector": "all()",
            "peerSelector": "has(a)", "keepOriginalNextHop": true,
            "password": {"secretKeyRef": {"name": "s", "key": "k", "optional": false}},
            "sourceAddress": "None", "maxRestartTime": "2m", "numAllowedLocalASNumbers": -1,
            "ttlSecurity": 255, "filters": ["f1"], "reachableBy": "10.0.0.254",
            "localWorkloadSelector": "x == 'y'", "nextHopMode": "Self", "reversePeering": "Manual",
            "localASNumber": 64512, "keepaliveTime": "30s"
        })
    }

    #[test]
    fn json_names_match_the_field_list() {
        let spec: BgpPeerSpec = serde_json::from_value(full_spec()).unwrap();
        let encoded = serde_json::to_value(&spec).unwrap();
        let mut names: Vec<&str> = encoded
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = SPEC_FIELDS.to_vec();
        names.sort_unstable();
        expected.sort_unstable();
        assert_eq!(names, expected);
        assert_eq!(
            encoded["asNumber"],
            json!(65546),
            "AS numbers encode as integers"
        );
        assert_eq!(encoded["maxRestartTime"], json!("2m"));
        assert_eq!(spec.next_hop_mode, Some(NextHopMode::Self_));
    }

    #[test]
    fn decoding_is_strict() {
        assert!(serde_json::from_value::<BgpPeerSpec>(json!({"peerIp": "1.2.3.4"})).is_err());
        assert!(serde_json::from_value::<BgpPeerSpec>(json!({"sourceAddress": "Bogus"})).is_err());
        assert!(serde_json::from_value::<BgpPeerSpec>(json!({"maxRestartTime": "1d"})).is_err());
        assert!(serde_json::from_value::<BgpPeerSpec>(json!({"ttlSecurity": 256})).is_err());
        let empty: BgpPeerSpec = serde_json::from_value(json!({"sourceAddress": ""})).unwrap();
        assert_eq!(empty, BgpPeerSpec::default());
        let nulls = json!({"node": null, "asNumber": null, "keepOriginalNextHop": null,
                           "filters": null, "password": null, "ttlSecurity": null});
        let nulls: BgpPeerSpec = serde_json::from_value(nulls).unwrap();
        assert_eq!(nulls, BgpPeerSpec::default());
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
