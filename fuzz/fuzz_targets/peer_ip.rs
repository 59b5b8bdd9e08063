//! The `peerIP` / address parsers (`bgppeer::ip`): Go's `net.ParseIP` and Calico's
//! `processIPPort`. Beyond "never panics": an accepted address prints back into a form that
//! parses to the same address and port, the port is 1-65535, and `peer_ip_host` agrees with
//! `parse_peer_ip` about the address.

#![no_main]

use bgppeer_core::bgppeer::ip::{self, PeerIpError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(address) = ip::parse_ip(text) {
        let _ = ip::family(address);
        let _ = ip::unusual_kind(address);
        assert_eq!(ip::parse_ip(&address.to_string()), Some(address));
    }
    match ip::parse_peer_ip(text) {
        Ok(peer) => {
            assert_eq!(ip::peer_ip_host(text), Some(peer.ip));
            let _ = ip::unusual_kind(peer.ip);
            let printed = match (peer.ip, peer.port) {
                (address, None) => address.to_string(),
                (std::net::IpAddr::V4(v4), Some(port)) => format!("{v4}:{port}"),
                (std::net::IpAddr::V6(v6), Some(port)) => format!("[{v6}]:{port}"),
            };
            if let Some(port) = peer.port {
                assert_ne!(port, 0);
            }
            assert_eq!(
                ip::parse_peer_ip(&printed),
                Ok(peer),
                "{text:?} printed as {printed:?}"
            );
        }
        Err(PeerIpError::PortOutOfRange) => {
            // The port is judged first, as Calico does; the host may be an address or not
            // (`10.0.0*1:65536`), and `peer_ip_host` says which.
            let _ = ip::peer_ip_host(text);
        }
        Err(PeerIpError::Malformed) => {
            assert_eq!(ip::peer_ip_host(text), None, "{text:?}");
        }
    }
});
