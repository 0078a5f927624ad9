//! Guessing the admin token is slowed to a crawl: an address whose credentials were wrong
//! `MAX_FAILURES` times within `WINDOW` is refused (429, before its next credential is even
//! checked, so a lucky guess does not get through) until that window has passed. Keyed by client
//! (after trusted proxies; IPv6 by its /64, which one host owns, like the per-address cap), so
//! an attacker elsewhere cannot lock the operators out. Memory stays bounded at `MAX_ADDRESSES`:
//! expired entries go first, then the unlocked entry with the fewest failures; a locked-out
//! entry is never dropped, so an attacker cannot flood the table to wipe its own lockout. Once
//! every entry is locked out, new clients' failures go unrecorded: reaching that takes 10,000
//! networks, each held to `MAX_FAILURES` guesses a minute. A std mutex is enough: only the admin
//! listener and an origin's metrics, with an operator's handful of requests, touch it; and wrong
//! access codes, which only a buy an origin refused as `bad_code` records.
//!
//! The same rule, keyed by anything (a user id), serves access-code guesses ([`Lockout::failed_key`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::client_key::ClientKey;

/// Wrong credentials an address may present within [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// How long failures count, and how long a locked-out address waits.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most.
const MAX_ADDRESSES: usize = 10_000;

/// One address's recent failures.
#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// Failed guesses by client (or by any other key).
#[derive(Debug)]
pub struct Lockout<K = ClientKey> {
    failures: Mutex<HashMap<K, Failures>>,
}

impl<K> Default for Lockout<K> {
    fn default() -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
        }
    }
}

impl Failures {
    fn locked(&self, now: Instant) -> bool {
        self.count >= MAX_FAILURES && now < self.since + WINDOW
    }
}

impl Lockout<ClientKey> {
    /// Whole seconds until `ip` may try again, if it is locked out at `now`.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        self.locked_key(&ClientKey::of(ip), now)
    }

    /// Notes a wrong credential from `ip` at `now`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        self.failed_key(ClientKey::of(ip), now);
    }
}

impl<K: std::hash::Hash + Eq + Clone> Lockout<K> {
    /// Whole seconds until `key` may try again, if it is locked out at `now`.
    pub fn locked_key(&self, key: &K, now: Instant) -> Option<u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.get(key)?;
        let until = entry.since + WINDOW;
        entry
            .locked(now)
            .then(|| until.duration_since(now).as_secs_f64().ceil() as u64)
    }

    /// Notes a wrong guess by `key` at `now`.
    pub fn failed_key(&self, key: K, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(&key) {
            failures.retain(|_, f| now.duration_since(f.since) < WINDOW);
            if failures.len() >= MAX_ADDRESSES {
                let fewest = failures
                    .iter()
                    .filter(|(_, f)| !f.locked(now))
                    .min_by_key(|(_, f)| f.count)
                    .map(|(k, _)| k.clone());
                match fewest {
                    Some(evicted) => drop(failures.remove(&evicted)),
                    None => return,
                }
            }
        }
        let entry = failures.entry(key).or_insert(Failures {
            count: 0,
            since: now,
        });
        if now.duration_since(entry.since) >= WINDOW {
            *entry = Failures {
                count: 0,
                since: now,
            };
        }
        entry.count += 1;
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn an_address_is_locked_after_its_failures_until_the_window_passes() {
        let lockout = Lockout::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            lockout.failed(ip(1), start);
        }
        assert_eq!(lockout.locked(ip(1), start), None);
        lockout.failed(ip(1), start);
        assert_eq!(lockout.locked(ip(1), start), Some(60));
        assert_eq!(
            lockout.locked(ip(1), start + Duration::from_millis(59_500)),
            Some(1)
        );
        assert_eq!(lockout.locked(ip(1), start + WINDOW), None);
        assert_eq!(
            lockout.locked(ip(2), start),
            None,
            "other addresses are not locked"
        );
    }

    #[test]
    fn old_failures_stop_counting() {
        let lockout = Lockout::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            lockout.failed(ip(1), start);
        }
        let later = start + WINDOW;
        lockout.failed(ip(1), later);
        assert_eq!(lockout.locked(ip(1), later), None);
    }

    #[test]
    fn an_ipv6_network_is_one_client() {
        let lockout = Lockout::default();
        let now = Instant::now();
        for host in 0..MAX_FAILURES {
            let ip: IpAddr = format!("2001:db8:1:2::{host:x}").parse().unwrap();
            lockout.failed(ip, now);
        }
        let other_host: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        let other_network: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(lockout.locked(other_host, now).is_some());
        assert_eq!(lockout.locked(other_network, now), None);
    }

    #[test]
    fn flooding_the_table_never_lifts_a_lockout() {
        let lockout = Lockout::default();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES {
            lockout.failed(ip(1), now);
        }
        for i in 0..(MAX_ADDRESSES as u32 + 100) {
            lockout.failed(IpAddr::from((i + 1_000).to_be_bytes()), now);
        }
        assert!(lockout.len() <= MAX_ADDRESSES);
        assert!(
            lockout.locked(ip(1), now).is_some(),
            "the attacker stays locked out"
        );
    }

    #[test]
    fn the_table_stays_bounded() {
        let lockout = Lockout::default();
        let now = Instant::now();
        for i in 0..(MAX_ADDRESSES as u32 + 10) {
            lockout.failed(IpAddr::from(i.to_be_bytes()), now);
        }
        assert!(lockout.len() <= MAX_ADDRESSES);
        assert!(lockout.len() > 0);
    }
}
