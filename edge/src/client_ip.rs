//! The client's address, for per-address caps. The TCP peer is the client unless it is a trusted
//! proxy; then `X-Forwarded-For` is read from the right, skipping trusted hops, and the first
//! untrusted address is the client. From an untrusted peer the header is ignored, so nobody can
//! spoof their way around the per-address cap. IPv4 clients of a dual-stack listener arrive as
//! IPv4-mapped IPv6 (`::ffff:a.b.c.d`); they are read as the IPv4 addresses they are, so each has
//! its own bucket (not one shared `::/64`) and trusted IPv4 proxies match.

use std::net::IpAddr;

use http::HeaderMap;
use sale::config::Network;

/// Whether `ip` (IPv4-mapped addresses read as IPv4) is one of the `trusted` proxies, whose
/// forwarding headers are believed.
pub fn is_trusted(ip: IpAddr, trusted: &[Network]) -> bool {
    let ip = ip.to_canonical();
    trusted.iter().any(|n| n.contains(ip))
}

/// The address requests from `peer` are attributed to.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: IpAddr| is_trusted(ip, trusted);
    if !is_trusted(peer) {
        return peer;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
            Ok(ip) if is_trusted(ip) => continue,
            Ok(ip) => return ip,
            Err(_) => break,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", xff.parse().unwrap());
        headers
    }

    #[test]
    fn ipv4_mapped_addresses_are_their_ipv4_selves() {
        let trusted = [Network::parse("10.0.0.0/8").unwrap()];
        let mapped = |text: &str| text.parse::<IpAddr>().unwrap();
        assert_eq!(
            resolve(mapped("::ffff:198.51.100.7"), &HeaderMap::new(), &trusted),
            mapped("198.51.100.7"),
        );
        assert_eq!(
            resolve(
                mapped("::ffff:10.0.0.5"),
                &req("::ffff:203.0.113.9"),
                &trusted
            ),
            mapped("203.0.113.9"),
            "a mapped trusted proxy is trusted"
        );
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let trusted = [Network::parse("10.0.0.0/8").unwrap()];
        let proxy: IpAddr = "10.0.0.5".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert_eq!(
            resolve(proxy, &req("203.0.113.9, 10.0.0.4"), &trusted),
            "203.0.113.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(resolve(stranger, &req("203.0.113.9"), &trusted), stranger);
        assert_eq!(resolve(proxy, &req("garbage"), &trusted), proxy);
    }
}
