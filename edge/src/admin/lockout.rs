//! Guessing the admin token is slowed to a crawl: an address whose credentials were wrong
//! `MAX_FAILURES` times within `WINDOW` is refused (429, before its next credential is even
//! checked, so a lucky guess does not get through) until that window has passed. Keyed by
//! address, so an attacker elsewhere cannot lock the operators out; the table forgets expired
//! entries, and past `MAX_ADDRESSES` starts afresh, so its memory stays bounded. A std mutex is
//! enough: only the admin listener, with an operator's handful of requests, touches it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Failed admin authentications by address.
#[derive(Debug, Default)]
pub struct Lockout {
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl Lockout {
    /// Whole seconds until `ip` may try again, if it is locked out at `now`.
    pub fn locked(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let entry = failures.get(&ip)?;
        let until = entry.since + WINDOW;
        (entry.count >= MAX_FAILURES && now < until)
            .then(|| until.duration_since(now).as_secs_f64().ceil() as u64)
    }

    /// Notes a wrong credential from `ip` at `now`.
    pub fn failed(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= MAX_ADDRESSES {
            failures.retain(|_, f| now.duration_since(f.since) < WINDOW);
            if failures.len() >= MAX_ADDRESSES {
                failures.clear();
            }
        }
        let entry = failures.entry(ip).or_insert(Failures {
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
