//! The key one client is counted under, wherever clients are counted (the per-address cap, the
//! admin lockout): IPv4 addresses as they are, IPv6 addresses by their /64, since one host
//! usually owns a whole /64 and could otherwise step through it.

use std::net::IpAddr;

/// The key a client address is counted under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(u128);

impl ClientKey {
    /// IPv4 addresses as they are (also when a dual-stack listener reports one as
    /// `::ffff:a.b.c.d`, whose /64 every IPv4 client shares); IPv6 addresses by their /64.
    pub fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self(u128::from(u32::from(v4))),
            IpAddr::V6(v6) => Self(u128::from(v6) & (u128::MAX << 64) | 1 << 63),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_network_is_one_client_and_ipv4_addresses_are_their_own() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ClientKey::of(a), ClientKey::of(b));
        assert_ne!(ClientKey::of(a), ClientKey::of(c));
        let v4 = |last: u8| ClientKey::of(IpAddr::from([10, 0, 0, last]));
        assert_ne!(v4(1), v4(2));
        let mapped = |text: &str| ClientKey::of(text.parse().unwrap());
        assert_ne!(mapped("::ffff:1.2.3.4"), mapped("::ffff:5.6.7.8"));
        assert_eq!(mapped("::ffff:1.2.3.4"), mapped("1.2.3.4"));
    }
}
