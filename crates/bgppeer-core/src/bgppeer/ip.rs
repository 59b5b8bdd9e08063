//! IP addresses with Go semantics: `net.ParseIP` and Calico's `processIPPort` (rules R5.1–R5.5).
//!
//! Rust's standard parsers agree with Go 1.23's `net.ParseIP` (which is `netip.ParseAddr` without
//! zones): IPv4 is exactly four decimal octets without leading zeros, IPv6 has at most one `::`
//! and may end in a dotted IPv4, and zones, brackets, whitespace and CIDRs are rejected.

use std::net::{IpAddr, Ipv4Addr};

/// The address family of an IP as Calico sees it: Go's `ip.To4() != nil` means IPv4, so an
/// IPv4-mapped IPv6 address (`::ffff:1.2.3.4`) counts as IPv4.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// IPv4, including IPv4-mapped IPv6 addresses.
    V4,
    /// Every other IPv6 address.
    V6,
}

impl Family {
    /// `IPv4` or `IPv6`, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Family::V4 => "IPv4",
            Family::V6 => "IPv6",
        }
    }
}

/// Parses a plain IP address exactly as Go's `net.ParseIP` does.
pub fn parse_ip(text: &str) -> Option<IpAddr> {
    text.parse::<IpAddr>().ok()
}

/// The family Calico assigns to an address (see [`Family`]).
pub fn family(ip: IpAddr) -> Family {
    match ip {
        IpAddr::V4(_) => Family::V4,
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() => Family::V4,
        IpAddr::V6(_) => Family::V6,
    }
}

/// The IPv4 form of an address when Go would treat it as IPv4 (`To4()`), for classification.
fn as_v4(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V4(v4) => Some(v4),
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
    }
}

/// A `peerIP` that passed [`parse_peer_ip`]: the address and the port, if one was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PeerAddress {
    /// The IP address.
    pub ip: IpAddr,
    /// The TCP port (1–65535), when written as `IPv4:port` or `[IP]:port`.
    pub port: Option<u16>,
}

/// Why a `peerIP` was rejected; `Display` is the detail of the field error.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PeerIpError {
    /// The port is 0 or above 65535.
    #[error("port must be between 1 and 65535")]
    PortOutOfRange,
    /// Anything else.
    #[error(
        "must be an IP address, optionally with a port as IPv4:port or [IP]:port \
         (e.g. 10.0.0.1, 10.0.0.1:179, [2001:db8::1]:179)"
    )]
    Malformed,
}

/// Parses a `peerIP` as Calico's `processIPPort`: a plain IP, or `<d>.<d>.<d>.<d>:<port>` (Go's
/// regex leaves the dots unescaped, but the host must still be an IP), or `[<hex:.>]:<port>`.
/// The port is decimal (leading zeros allowed) and must be 1–65535.
pub fn parse_peer_ip(text: &str) -> Result<PeerAddress, PeerIpError> {
    if let Some((host, port)) = ipv4_port_shape(text).or_else(|| ipv6_port_shape(text)) {
        // Go's regex leaves the dots unescaped, so `1.2.3:4:5` matches it; `net.SplitHostPort`
        // then fails with "too many colons" before the port is looked at.
        if host.contains(':') && !text.starts_with('[') {
            return Err(PeerIpError::Malformed);
        }
        let port = parse_port(port)?;
        let ip = parse_ip(host).ok_or(PeerIpError::Malformed)?;
        return Ok(PeerAddress {
            ip,
            port: Some(port),
        });
    }
    parse_ip(text)
        .map(|ip| PeerAddress { ip, port: None })
        .ok_or(PeerIpError::Malformed)
}

/// The address in a `peerIP`, even when the port is out of range (`10.0.0.1:0` gives
/// `10.0.0.1`), or `None` when there is no address to be found. Lets the address-family rule
/// still speak about a peer whose only fault is its port.
pub fn peer_ip_host(text: &str) -> Option<IpAddr> {
    match parse_peer_ip(text) {
        Ok(address) => Some(address.ip),
        Err(PeerIpError::Malformed) => None,
        Err(PeerIpError::PortOutOfRange) => {
            let (host, _port) = ipv4_port_shape(text).or_else(|| ipv6_port_shape(text))?;
            parse_ip(host)
        }
    }
}

/// `^(\d+).(\d+).(\d+).(\d+):(\d+)$`: the regex's `:` must be the last colon (the port is all
/// digits), so a match splits at the last colon into a four-number host and a decimal port.
fn ipv4_port_shape(text: &str) -> Option<(&str, &str)> {
    let (host, port) = text.rsplit_once(':')?;
    let port_ok = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    (port_ok && matches_four_numbers(host)).then_some((host, port))
}

/// Whether `text` is `\d+ . \d+ . \d+ . \d+` where each `.` is any single character.
fn matches_four_numbers(text: &str) -> bool {
    let mut chars = text.chars().peekable();
    for group in 0..4 {
        let mut digits = 0;
        while chars.next_if(|c| c.is_ascii_digit()).is_some() {
            digits += 1;
        }
        if digits == 0 {
            return false;
        }
        if group < 3 && chars.next().is_none() {
            return false;
        }
    }
    chars.next().is_none()
}

/// `^\[[0-9a-fA-F:.]+\]:(\d+)$`: the host inside the brackets and the port.
fn ipv6_port_shape(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('[')?;
    let (host, port) = inner.split_once("]:")?;
    let host_ok = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
    let port_ok = !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit());
    (host_ok && port_ok).then_some((host, port))
}

/// Go's `strconv.ParseUint(port, 10, 16)` followed by Calico's non-zero check.
fn parse_port(digits: &str) -> Result<u16, PeerIpError> {
    let mut value: u32 = 0;
    for b in digits.bytes() {
        value = value.saturating_mul(10).saturating_add(u32::from(b - b'0'));
    }
    match u16::try_from(value) {
        Ok(port) if port >= super::api::PORT_MIN => Ok(port),
        Ok(_) | Err(_) => Err(PeerIpError::PortOutOfRange),
    }
}

/// What is unusual about a peer address, if anything: the reason a BGP session to it cannot work
/// as intended (`loopback`, `unspecified`, `multicast`, `link-local`).
pub fn unusual_kind(ip: IpAddr) -> Option<&'static str> {
    if let Some(v4) = as_v4(ip) {
        return if v4.is_loopback() {
            Some("loopback")
        } else if v4.is_unspecified() {
            Some("unspecified")
        } else if v4.is_multicast() {
            Some("multicast")
        } else if v4.is_link_local() {
            Some("link-local")
        } else if v4.is_broadcast() {
            Some("broadcast")
        } else {
            None
        };
    }
    match ip {
        IpAddr::V6(v6) if v6.is_loopback() => Some("loopback"),
        IpAddr::V6(v6) if v6.is_unspecified() => Some("unspecified"),
        IpAddr::V6(v6) if v6.is_multicast() => Some("multicast"),
        IpAddr::V6(v6) if v6.is_unicast_link_local() => Some("link-local"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> bool {
        parse_peer_ip(text).is_ok()
    }

    #[test]
    fn plain_addresses_follow_go_parse_ip() {
        for good in [
            "1.2.3.4",
            "fd5f::6:ee",
            "::",
            "::ffff:1.2.3.4",
            "2001:db8::1",
            "0.0.0.0",
        ] {
            assert!(ok(good), "{good}");
        }
        for bad in [
            "01.2.3.4",
            "1.2.3.256",
            "999.999.999.999",
            "xyz:::",
            "fe80::1%eth0",
            " 1.2.3.4",
            "1.2.3.4 ",
            "10.0.0.0/8",
            "[9000::]",
            "1.2.3",
            "1::2::3",
            "12345::",
            "",
            "badpeerIP",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }

    #[test]
    fn ports_follow_process_ip_port() {
        assert_eq!(
            parse_peer_ip("[192.168.0.1]:179").unwrap().port,
            Some(179),
            "IPv4 inside brackets is accepted"
        );
        assert!(ok("[9000::]:500"));
        assert!(
            ok("10.0.0.1:0179"),
            "leading zeros in the port are accepted"
        );
        assert!(ok("10.0.0.1:65535"));
        assert_eq!(
            parse_peer_ip("2001:db8::1:179").unwrap().port,
            None,
            "an IPv6 address without brackets has no port: the last group is part of the address"
        );
        for port_bad in [
            "192.168.0.0:0",
            "192.168.0.0:65536",
            "[9000::]:0",
            "1.2.3.4:99999999999",
        ] {
            assert_eq!(
                parse_peer_ip(port_bad),
                Err(PeerIpError::PortOutOfRange),
                "{port_bad}"
            );
        }
        for bad in [
            "192.168.0.0:",
            "[9000::]:",
            ":8552",
            "[]:8552",
            "1a2b3c4:5",
            "1:2:3:4:5",
            "1.2.3:4:5",
            "1.2.3.4:+5",
            "[fe80::1%eth0]:179",
            "[::1]:179:1",
        ] {
            assert!(!ok(bad), "{bad}");
        }
    }

    #[test]
    fn family_treats_mapped_addresses_as_ipv4() {
        let mapped = parse_ip("::ffff:1.2.3.4").unwrap();
        assert_eq!(family(mapped), Family::V4);
        assert_eq!(family(parse_ip("aabb::1").unwrap()), Family::V6);
        assert_eq!(family(parse_ip("10.0.0.1").unwrap()), Family::V4);
    }

    #[test]
    fn unusual_addresses() {
        let kind = |s: &str| unusual_kind(parse_ip(s).unwrap());
        assert_eq!(kind("127.0.0.1"), Some("loopback"));
        assert_eq!(kind("::1"), Some("loopback"));
        assert_eq!(kind("0.0.0.0"), Some("unspecified"));
        assert_eq!(kind("::"), Some("unspecified"));
        assert_eq!(kind("224.0.0.5"), Some("multicast"));
        assert_eq!(kind("ff02::1"), Some("multicast"));
        assert_eq!(kind("169.254.1.1"), Some("link-local"));
        assert_eq!(kind("fe80::1"), Some("link-local"));
        assert_eq!(kind("::ffff:127.0.0.1"), Some("loopback"));
        assert_eq!(kind("10.0.0.1"), None);
        assert_eq!(kind("2001:db8::1"), None);
    }
}
