//! The typed BGPPeer: what validation parsed, so that nothing else reads raw JSON or parses a
//! selector or address again. Pure: no I/O.
//!
//! [`validate`](super::validate) walks the raw JSON once (so that wrong types and unknown fields
//! become field errors with paths) and returns, beside the errors, a [`Peer`]: every field
//! already parsed (selectors as [`Selector`]s, `peerIP` as address and port, AS numbers as
//! integers, durations in nanoseconds). [`Peer::scope`] and [`Peer::remote`] combine the fields
//! the way Calico's "Peer scopes" do.
//!
//! # What a consumer may rely on
//!
//! Every field is a [`Field`]: [`Field::Unset`] (absent, `null`, or Calico's zero value such as
//! `""`), [`Field::Valid`], or [`Field::Invalid`] (present, but it failed its own rules; the
//! error is in the report). So:
//!
//! - When the report has **no errors**, no field is `Invalid`, and [`Peer::scope`] and
//!   [`Peer::remote`] are `Some`: the peer is exactly what Calico will act on.
//! - When the report **has errors**, each `Valid` value still passed its own field's rules and is
//!   parsed exactly as for a valid peer; a cross-field rule may still have failed, so
//!   [`Peer::scope`] and [`Peer::remote`] are `None` whenever one of their fields is `Invalid`
//!   or the combination is forbidden (`node` with `nodeSelector`, `peerIP` with `peerSelector`).
//!   Nothing else is promised (for instance `asNumber` may be set beside a `peerSelector`).
//! - Unknown keys are errors of their own and never make a known value `Invalid` (an unknown
//!   key beside `secretKeyRef` leaves `password` `Valid`). `filters` is `Valid` only when every
//!   name in it is.
//! - A `spec` (or object, or `metadata`) that is not a JSON object makes every field under it
//!   `Invalid`: never mistaken for "unset", so an unreadable peer never looks global.
//!
//! # Whitespace
//!
//! As in Calico, values are taken as written, never trimmed, and only `""` is unset: a `node` of
//! `" "` is invalid (not a DNS-1123 subdomain), and a blank selector (spaces and tabs) is a
//! valid, set selector meaning `all()` (Calico's validator and calico-node only compare the
//! field with `""`). So a blank `nodeSelector` is the scope `NodeSelector(all())`, not
//! `Global`, everywhere.
//!
//! # Adding a spec field
//!
//! `SpecField` lists the spec's fields; validation (`spec::check_field`) matches it without a
//! wildcard arm and [`PeerSpec`] is only ever built by struct literals naming every field. So a
//! new field must be added to both, and each addition that is not handled fails to compile:
//!
//! ```compile_fail,E0004
//! use bgppeer_core::bgppeer::peer::SpecField;
//! // Every consumer that matches SpecField must name every field; a match that forgets one
//! // (here all but `node`) does not compile.
//! fn name(field: SpecField) -> &'static str {
//!     match field {
//!         SpecField::Node => "node",
//!     }
//! }
//! ```

use std::fmt;
use std::net::IpAddr;

use super::api::BGP_PORT;
use super::ip::PeerAddress;
use super::model::{AsNumber, GoDuration, NextHopMode, ReversePeering, SourceAddress};
use calico_selector::Selector;

/// One typed field: unset, valid (and parsed), or present but invalid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Field<T> {
    /// Absent, `null`, or Calico's "unset" value (`""`, or 0 for `asNumber`).
    #[default]
    Unset,
    /// Present and valid, parsed.
    Valid(T),
    /// Present, but it failed validation (its error is in the report).
    Invalid,
}

impl<T> Field<T> {
    /// The value, when valid.
    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Field::Valid(value) => Some(value),
            Field::Unset | Field::Invalid => None,
        }
    }

    /// Whether the field failed validation.
    pub(crate) fn is_invalid(&self) -> bool {
        matches!(self, Field::Invalid)
    }
}

impl<T> From<Option<T>> for Field<T> {
    /// `Some` is valid, `None` is invalid (for parsers that fail with `None`).
    fn from(value: Option<T>) -> Self {
        value.map_or(Field::Invalid, Field::Valid)
    }
}

/// Declares [`SpecField`] and [`SPEC_FIELDS`] from one list.
macro_rules! spec_fields {
    ($($(#[$meta:meta])* $variant:ident = $name:literal),+ $(,)?) => {
        /// The fields of a BGPPeer `spec`, in declaration order: the order of the BGPPeer
        /// reference documentation's field table, then the fields added in Calico v3.30–v3.32.
        /// Validation reports field errors in this order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub(crate) enum SpecField {
            $($(#[$meta])* $variant),+
        }

        impl SpecField {
            /// Every field, in declaration order.
            pub(crate) const ALL: [SpecField; SPEC_FIELD_COUNT] = [$(SpecField::$variant),+];

            /// The field's JSON name (`peerIP`).
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(SpecField::$variant => $name),+
                }
            }
        }

        /// The JSON names of every spec field, in declaration order.
        pub const SPEC_FIELDS: [&str; SPEC_FIELD_COUNT] = [$($name),+];
    };
}

/// How many fields a spec has.
pub(crate) const SPEC_FIELD_COUNT: usize = 18;

spec_fields! {
    /// `node`.
    Node = "node",
    /// `peerIP`.
    PeerIp = "peerIP",
    /// `asNumber`.
    AsNumber = "asNumber",
    /// `nodeSelector`.
    NodeSelector = "nodeSelector",
    /// `peerSelector`.
    PeerSelector = "peerSelector",
    /// `keepOriginalNextHop`.
    KeepOriginalNextHop = "keepOriginalNextHop",
    /// `password`.
    Password = "password",
    /// `sourceAddress`.
    SourceAddress = "sourceAddress",
    /// `maxRestartTime`.
    MaxRestartTime = "maxRestartTime",
    /// `numAllowedLocalASNumbers`.
    NumAllowedLocalAsNumbers = "numAllowedLocalASNumbers",
    /// `ttlSecurity`.
    TtlSecurity = "ttlSecurity",
    /// `filters`.
    Filters = "filters",
    /// `reachableBy`.
    ReachableBy = "reachableBy",
    /// `localWorkloadSelector`.
    LocalWorkloadSelector = "localWorkloadSelector",
    /// `nextHopMode`.
    NextHopMode = "nextHopMode",
    /// `reversePeering`.
    ReversePeering = "reversePeering",
    /// `localASNumber`.
    LocalAsNumber = "localASNumber",
    /// `keepaliveTime`.
    KeepaliveTime = "keepaliveTime",
}

/// A validated BGPPeer, parsed once. See the [module documentation](self) for what holds when
/// the report has errors.
#[derive(Clone, Debug, PartialEq)]
pub struct Peer {
    /// `metadata.name`: `Unset` when absent or empty (a `generateName` creation).
    pub(crate) name: Field<String>,
    /// The spec, field by field.
    pub spec: PeerSpec,
    /// The valid AS numbers (`asNumber`, `localASNumber`) that were written as strings (`"1.10"`,
    /// `"64512"`), with their value, in declaration order: what `/mutate` rewrites as integers.
    pub(crate) text_as_numbers: Vec<(SpecField, u32)>,
}

/// The typed `spec`: one [`Field`] per `SpecField`, in the same order.
///
/// Built only by struct literals that name every field (`PeerSpec::unset`,
/// `PeerSpec::invalid`), never with `..Default::default()`, so that adding a field here without
/// deciding its value everywhere is a compile error.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerSpec {
    /// The node this peering applies to (a DNS-1123 subdomain).
    pub(crate) node: Field<String>,
    /// The peer's address and optional port.
    pub(crate) peer_ip: Field<PeerAddress>,
    /// The peer's AS number; 0 is `Unset`, as in Calico.
    pub(crate) as_number: Field<AsNumber>,
    /// The nodes that have this peering.
    pub(crate) node_selector: Field<Selector>,
    /// The remote Calico nodes to peer with.
    pub(crate) peer_selector: Field<Selector>,
    /// Keep the original next hop (deprecated in favour of `nextHopMode: Keep`); `false` is
    /// `Valid(false)`.
    pub(crate) keep_original_next_hop: Field<bool>,
    /// The BGP password.
    pub(crate) password: Field<BgpPassword>,
    /// Which source address the peering uses; `""` is `Unset` (behaves as `UseNodeIP`).
    pub(crate) source_address: Field<SourceAddress>,
    /// The graceful-restart time.
    pub(crate) max_restart_time: Field<GoDuration>,
    /// How many times the local AS may appear in received paths (any int32).
    pub(crate) num_allowed_local_as_numbers: Field<i32>,
    /// GTSM: the number of hops to the peer.
    pub(crate) ttl_security: Field<u8>,
    /// The BGPFilter names; `Valid` only when every name is valid.
    pub(crate) filters: Field<Filters>,
    /// The gateway through which the peer is reached.
    pub(crate) reachable_by: Field<IpAddr>,
    /// The local workloads to peer with.
    pub(crate) local_workload_selector: Field<Selector>,
    /// Next-hop handling.
    pub(crate) next_hop_mode: Field<NextHopMode>,
    /// Whether the reverse peering is generated automatically.
    pub(crate) reverse_peering: Field<ReversePeering>,
    /// The local AS number for this peering (a pointer in Go: 0 is a set value).
    pub(crate) local_as_number: Field<AsNumber>,
    /// The BGP keepalive time.
    pub(crate) keepalive_time: Field<GoDuration>,
}

impl PeerSpec {
    /// A spec with every field unset: an empty or missing `spec`.
    pub(crate) fn unset() -> Self {
        PeerSpec {
            node: Field::Unset,
            peer_ip: Field::Unset,
            as_number: Field::Unset,
            node_selector: Field::Unset,
            peer_selector: Field::Unset,
            keep_original_next_hop: Field::Unset,
            password: Field::Unset,
            source_address: Field::Unset,
            max_restart_time: Field::Unset,
            num_allowed_local_as_numbers: Field::Unset,
            ttl_security: Field::Unset,
            filters: Field::Unset,
            reachable_by: Field::Unset,
            local_workload_selector: Field::Unset,
            next_hop_mode: Field::Unset,
            reverse_peering: Field::Unset,
            local_as_number: Field::Unset,
            keepalive_time: Field::Unset,
        }
    }

    /// A spec with every field invalid: a `spec` that is not an object.
    pub(crate) fn invalid() -> Self {
        PeerSpec {
            node: Field::Invalid,
            peer_ip: Field::Invalid,
            as_number: Field::Invalid,
            node_selector: Field::Invalid,
            peer_selector: Field::Invalid,
            keep_original_next_hop: Field::Invalid,
            password: Field::Invalid,
            source_address: Field::Invalid,
            max_restart_time: Field::Invalid,
            num_allowed_local_as_numbers: Field::Invalid,
            ttl_security: Field::Invalid,
            filters: Field::Invalid,
            reachable_by: Field::Invalid,
            local_workload_selector: Field::Invalid,
            next_hop_mode: Field::Invalid,
            reverse_peering: Field::Invalid,
            local_as_number: Field::Invalid,
            keepalive_time: Field::Invalid,
        }
    }

    /// Whether some field failed its own rules.
    pub fn has_invalid_field(&self) -> bool {
        SpecField::ALL
            .into_iter()
            .any(|field| self.is_invalid(field))
    }

    /// Whether the field failed validation.
    pub(crate) fn is_invalid(&self, field: SpecField) -> bool {
        match field {
            SpecField::Node => self.node.is_invalid(),
            SpecField::PeerIp => self.peer_ip.is_invalid(),
            SpecField::AsNumber => self.as_number.is_invalid(),
            SpecField::NodeSelector => self.node_selector.is_invalid(),
            SpecField::PeerSelector => self.peer_selector.is_invalid(),
            SpecField::KeepOriginalNextHop => self.keep_original_next_hop.is_invalid(),
            SpecField::Password => self.password.is_invalid(),
            SpecField::SourceAddress => self.source_address.is_invalid(),
            SpecField::MaxRestartTime => self.max_restart_time.is_invalid(),
            SpecField::NumAllowedLocalAsNumbers => self.num_allowed_local_as_numbers.is_invalid(),
            SpecField::TtlSecurity => self.ttl_security.is_invalid(),
            SpecField::Filters => self.filters.is_invalid(),
            SpecField::ReachableBy => self.reachable_by.is_invalid(),
            SpecField::LocalWorkloadSelector => self.local_workload_selector.is_invalid(),
            SpecField::NextHopMode => self.next_hop_mode.is_invalid(),
            SpecField::ReversePeering => self.reverse_peering.is_invalid(),
            SpecField::LocalAsNumber => self.local_as_number.is_invalid(),
            SpecField::KeepaliveTime => self.keepalive_time.is_invalid(),
        }
    }
}

impl Peer {
    /// A peer of which nothing could be read (the object, or its `spec`, is not a JSON object).
    pub(crate) fn invalid() -> Self {
        Peer {
            name: Field::Invalid,
            spec: PeerSpec::invalid(),
            text_as_numbers: Vec::new(),
        }
    }

    /// `metadata.name`, when valid.
    pub(crate) fn name(&self) -> Option<&str> {
        self.name.get().map(String::as_str)
    }

    /// Which nodes the peer applies to ("Peer scopes"): `node`, else `nodeSelector`, else every
    /// node. `None` when either field is invalid or both are set.
    pub fn scope(&self) -> Option<Scope> {
        match (&self.spec.node, &self.spec.node_selector) {
            (Field::Invalid, _) | (_, Field::Invalid) => None,
            (Field::Valid(_), Field::Valid(_)) => None,
            (Field::Valid(node), Field::Unset) => Some(Scope::Node(node.clone())),
            (Field::Unset, Field::Valid(selector)) => Some(Scope::NodeSelector(selector.clone())),
            (Field::Unset, Field::Unset) => Some(Scope::Global),
        }
    }

    /// What the selected nodes peer with: `peerIP`, else `peerSelector`, else nothing (the
    /// workloads of `localWorkloadSelector` are a separate field). `None` when either field is
    /// invalid or both are set.
    pub fn remote(&self) -> Option<Remote> {
        match (&self.spec.peer_ip, &self.spec.peer_selector) {
            (Field::Invalid, _) | (_, Field::Invalid) => None,
            (Field::Valid(_), Field::Valid(_)) => None,
            (Field::Valid(address), Field::Unset) => Some(Remote::Address(*address)),
            (Field::Unset, Field::Valid(selector)) => Some(Remote::Selector(selector.clone())),
            (Field::Unset, Field::Unset) => Some(Remote::None),
        }
    }

    /// The remote address and port of a valid `peerIP` (179 when it names none), so that
    /// `10.0.0.1` and `10.0.0.1:179` compare equal. Independent of the other fields.
    pub fn peer_target(&self) -> Option<(IpAddr, u16)> {
        self.spec
            .peer_ip
            .get()
            .map(|address| (address.ip, address.port.unwrap_or(BGP_PORT)))
    }

    /// The AS number of the peer, when set and valid (never 0).
    pub(crate) fn as_number(&self) -> Option<u32> {
        self.spec.as_number.get().map(|number| number.0)
    }

    /// The parsed `nodeSelector`, when set and valid.
    pub(crate) fn node_selector(&self) -> Option<&Selector> {
        self.spec.node_selector.get()
    }

    /// The parsed `peerSelector`, when set and valid.
    pub(crate) fn peer_selector(&self) -> Option<&Selector> {
        self.spec.peer_selector.get()
    }

    /// The parsed `localWorkloadSelector`, when set and valid.
    pub(crate) fn local_workload_selector(&self) -> Option<&Selector> {
        self.spec.local_workload_selector.get()
    }

    /// `password.secretKeyRef`, when the password and its reference are valid.
    pub(crate) fn secret_key_ref(&self) -> Option<&SecretKeySelector> {
        self.spec.password.get()?.secret_key_ref.get()
    }
}

/// The nodes a BGPPeer applies to, as Calico's "Peer scopes" define them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Neither `node` nor `nodeSelector`: every node.
    Global,
    /// `node`: the node of that name.
    Node(String),
    /// `nodeSelector`: the nodes it matches (a blank selector is `all()`).
    NodeSelector(Selector),
}

impl Scope {
    /// A key for maps and sets: the selector in canonical form, so that spacing and quoting
    /// differences (`a=='b'`, `a == "b"`) give the same key.
    pub fn key(&self) -> ScopeKey {
        match self {
            Scope::Global => ScopeKey::Global,
            Scope::Node(node) => ScopeKey::Node(node.clone()),
            Scope::NodeSelector(selector) => ScopeKey::NodeSelector(selector.to_string()),
        }
    }
}

impl fmt::Display for Scope {
    /// `global scope`, `node "n1"`, `nodeSelector "rack == \"r1\""` (canonical form).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Global => f.write_str("global scope"),
            Scope::Node(node) => write!(f, "node {node:?}"),
            Scope::NodeSelector(selector) => write!(f, "nodeSelector {:?}", selector.to_string()),
        }
    }
}

/// A [`Scope`] as an orderable, hashable key: the selector in canonical form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ScopeKey {
    /// [`Scope::Global`].
    Global,
    /// [`Scope::Node`].
    Node(String),
    /// [`Scope::NodeSelector`], canonical.
    NodeSelector(String),
}

/// What the nodes a BGPPeer applies to peer with (besides `localWorkloadSelector`'s workloads).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Remote {
    /// `peerIP`: one router, by address and optional port.
    Address(PeerAddress),
    /// `peerSelector`: the other Calico nodes it matches.
    Selector(Selector),
    /// Neither.
    None,
}

/// `password`: where the BGP password comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct BgpPassword {
    /// `secretKeyRef`: `Unset` means no password is configured.
    pub(crate) secret_key_ref: Field<SecretKeySelector>,
}

/// `password.secretKeyRef`: Kubernetes' `SecretKeySelector`, with a valid name and key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SecretKeySelector {
    /// The Secret's name (in calico-node's namespace).
    pub(crate) name: String,
    /// The data key within the Secret.
    pub(crate) key: String,
    /// Whether the Secret or key may be missing.
    pub(crate) optional: Option<bool>,
}

/// The names in `spec.filters`, all valid BGPFilter names (DNS-1123 subdomains), in order.
///
/// A list can hold hundreds of thousands of names (a 3 MiB object), so they are kept in one
/// buffer, joined by `,` (which no valid name contains): one allocation no larger than the list's
/// JSON, rather than one per name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Filters {
    joined: String,
    len: usize,
}

impl Filters {
    /// Appends a name that is a valid DNS-1123 subdomain (so it is not empty and has no `,`);
    /// anything else is ignored.
    pub(crate) fn push(&mut self, name: &str) {
        if !super::names::is_dns1123_subdomain(name) {
            return;
        }
        if self.len > 0 {
            self.joined.push(',');
        }
        self.joined.push_str(name);
        self.len = self.len.saturating_add(1);
    }

    /// The names in order (a name's index is its position in `spec.filters`).
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        self.joined.split(',').filter(|name| !name.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bgppeer::{ApiGroup, validate};
    use serde_json::{Value, json};

    fn peer(spec: Value) -> (Peer, usize) {
        let report = validate(
            ApiGroup::V3,
            &json!({"metadata": {"name": "p"}, "spec": spec}),
        );
        (report.peer, report.errors.len())
    }

    fn selector(text: &str) -> Selector {
        calico_selector::parse(text).unwrap()
    }

    #[test]
    fn every_field_is_typed() {
        let (peer, errors) = peer(json!({
            "node": "n1", "peerIP": "[2001:db8::1]:1179", "asNumber": "1.10",
            "keepOriginalNextHop": true,
            "password": {"secretKeyRef": {"name": "s", "key": "k", "optional": false}},
            "sourceAddress": "None", "maxRestartTime": "2m", "numAllowedLocalASNumbers": -1,
            "ttlSecurity": 255, "filters": ["f1", "f2"], "reachableBy": "2001:db8::fe",
            "nextHopMode": "Self", "reversePeering": "Manual",
            "localASNumber": 0, "keepaliveTime": "30s"
        }));
        // keepOriginalNextHop with nextHopMode is a cross-field error only.
        assert_eq!(errors, 1);
        let spec = &peer.spec;
        assert!(!spec.has_invalid_field());
        assert_eq!(peer.name(), Some("p"));
        assert_eq!(spec.node, Field::Valid("n1".to_owned()));
        let address = spec.peer_ip.get().unwrap();
        assert_eq!(address.ip, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(address.port, Some(1179));
        assert_eq!(peer.as_number(), Some(65546));
        assert_eq!(spec.keep_original_next_hop, Field::Valid(true));
        assert_eq!(
            peer.secret_key_ref(),
            Some(&SecretKeySelector {
                name: "s".into(),
                key: "k".into(),
                optional: Some(false)
            })
        );
        assert_eq!(spec.source_address, Field::Valid(SourceAddress::None));
        assert_eq!(spec.max_restart_time.get().unwrap().nanos, 120_000_000_000);
        assert_eq!(spec.num_allowed_local_as_numbers, Field::Valid(-1));
        assert_eq!(spec.ttl_security, Field::Valid(255));
        let filters: Vec<&str> = spec.filters.get().unwrap().iter().collect();
        assert_eq!(filters, ["f1", "f2"]);
        assert_eq!(
            spec.reachable_by,
            Field::Valid("2001:db8::fe".parse().unwrap())
        );
        assert_eq!(spec.next_hop_mode, Field::Valid(NextHopMode::Self_));
        assert_eq!(spec.reverse_peering, Field::Valid(ReversePeering::Manual));
        assert_eq!(spec.local_as_number, Field::Valid(AsNumber(0)));
        assert_eq!(spec.keepalive_time.get().unwrap().nanos, 30_000_000_000);
        assert_eq!(peer.scope(), Some(Scope::Node("n1".into())));
        assert_eq!(peer.remote(), Some(Remote::Address(*address)));
        assert_eq!(
            peer.peer_target(),
            Some(("2001:db8::1".parse().unwrap(), 1179))
        );
    }

    #[test]
    fn selectors_are_kept_parsed() {
        let (peer, errors) = peer(json!({"nodeSelector": "a=='b'", "peerSelector": "has(x)",
                                         "localWorkloadSelector": "c == 'd'"}));
        assert_eq!(
            errors, 2,
            "localWorkloadSelector needs asNumber and excludes peerSelector"
        );
        assert_eq!(peer.node_selector(), Some(&selector("a == \"b\"")));
        assert_eq!(peer.peer_selector(), Some(&selector("has(x)")));
        assert_eq!(
            peer.local_workload_selector(),
            Some(&selector("c == \"d\""))
        );
        assert_eq!(
            peer.scope().unwrap().key(),
            ScopeKey::NodeSelector("a == \"b\"".into())
        );
        assert_eq!(peer.remote(), Some(Remote::Selector(selector("has(x)"))));
    }

    #[test]
    fn invalid_values_are_absent_and_never_unset() {
        let (peer, errors) = peer(json!({
            "node": "Bad", "peerIP": "10.0.0.1:0", "asNumber": -1, "nodeSelector": "a ==",
            "keepOriginalNextHop": "yes", "password": 5, "sourceAddress": "x",
            "maxRestartTime": "1d", "numAllowedLocalASNumbers": 1.5, "ttlSecurity": 256,
            "filters": ["ok", "Bad"], "reachableBy": "x", "localWorkloadSelector": 3,
            "nextHopMode": "", "reversePeering": "x", "localASNumber": "1.2.3",
            "keepaliveTime": 5, "peerSelector": "("
        }));
        assert!(errors >= super::SPEC_FIELD_COUNT);
        for field in SpecField::ALL {
            assert!(peer.spec.is_invalid(field), "{}", field.name());
        }
        assert_eq!(peer.scope(), None);
        assert_eq!(peer.remote(), None);
        assert_eq!(peer.peer_target(), None);
    }

    #[test]
    fn unset_values_and_combinations() {
        let (peer, errors) = peer(json!({"node": "", "peerIP": "", "asNumber": 0,
                                         "nodeSelector": null, "sourceAddress": ""}));
        assert_eq!(errors, 0);
        assert_eq!(peer.spec, PeerSpec::unset());
        assert_eq!(peer.scope(), Some(Scope::Global));
        assert_eq!(peer.remote(), Some(Remote::None));
        let (both, _) = peer_pair();
        assert_eq!(both.scope(), None, "node and nodeSelector together");
        assert_eq!(both.remote(), None, "peerIP and peerSelector together");
        let report = validate(ApiGroup::V3, &json!({"metadata": {}, "spec": "x"}));
        assert_eq!(
            report.peer,
            Peer {
                name: Field::Unset,
                spec: PeerSpec::invalid(),
                text_as_numbers: Vec::new()
            }
        );
        assert_eq!(
            report.peer.scope(),
            None,
            "an unreadable spec is not global"
        );
    }

    fn peer_pair() -> (Peer, usize) {
        peer(
            json!({"node": "n", "nodeSelector": "all()", "peerIP": "10.0.0.1",
                    "peerSelector": "all()"}),
        )
    }

    #[test]
    fn whitespace_is_never_trimmed() {
        let (blank, errors) = peer(json!({"nodeSelector": " \t", "peerSelector": " "}));
        assert_eq!(errors, 0);
        assert_eq!(blank.scope(), Some(Scope::NodeSelector(selector("all()"))));
        assert_ne!(blank.scope(), Some(Scope::Global));
        assert_eq!(blank.remote(), Some(Remote::Selector(selector("all()"))));
        let (spaced, errors) = peer(json!({"node": " n1", "peerIP": "10.0.0.1 "}));
        assert_eq!(errors, 2);
        assert_eq!(spaced.spec.node, Field::Invalid);
        assert_eq!(spaced.spec.peer_ip, Field::Invalid);
        assert_eq!(spaced.scope(), None);
    }

    #[test]
    fn the_default_port_makes_targets_equal() {
        let (plain, _) = peer(json!({"peerIP": "10.0.0.1"}));
        let (port, _) = peer(json!({"peerIP": "10.0.0.1:179"}));
        let (other, _) = peer(json!({"peerIP": "10.0.0.1:1179"}));
        assert_eq!(plain.peer_target(), port.peer_target());
        assert_ne!(plain.peer_target(), other.peer_target());
    }

    #[test]
    fn scope_keys_and_display() {
        assert_eq!(Scope::Global.to_string(), "global scope");
        assert_eq!(Scope::Node("n".into()).to_string(), "node \"n\"");
        let scope = Scope::NodeSelector(selector("a=='b'"));
        assert_eq!(scope.to_string(), r#"nodeSelector "a == \"b\"""#);
        assert_eq!(
            scope.key(),
            Scope::NodeSelector(selector("a == \"b\"")).key()
        );
    }

    #[test]
    fn filters_iterate_in_order() {
        let mut filters = Filters::default();
        assert_eq!(filters.iter().count(), 0);
        for name in ["a", "b.c", "", "x,y", "d-1"] {
            filters.push(name);
        }
        assert_eq!(filters.iter().count(), 3, "only valid names are kept");
        assert_eq!(filters.iter().collect::<Vec<_>>(), ["a", "b.c", "d-1"]);
    }
}
