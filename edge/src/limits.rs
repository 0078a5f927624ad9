//! Frequency caps with governor's GCRA: per signed-in user (token and buy), per client address
//! (every API request; IPv6 clients by /64, since one host owns a whole /64), and one global
//! origin rate for buys forwarded to the origins, sized to what they can serve. Every refusal
//! carries how long to wait, for `Retry-After`.
//!
//! Time comes from one clock passed in (governor's real clock in production, its fake clock in
//! tests), so tests control time and a refusal costs no clock construction.
//!
//! Memory is bounded: a maintenance pass prunes keys whose state has fully replenished
//! (`retain_recent`), and if a limiter still remembers more than `max_keys` it is replaced by an
//! empty one — a brief amnesty for everyone rather than unbounded growth under a flood of
//! distinct keys.
//!
//! These are each edge's own limiters; [`fleet`] counts the per-user cap and the origin rate
//! for all edges together, behind them.
//!
//! Over 300 lines with its unit tests, including the million-key memory bound.

pub mod code_guesses;
pub mod fleet;

use std::hash::{BuildHasher, Hash};
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::NoOpMiddleware;
use governor::state::keyed::DashMapStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use sale::Refusal;
use sale::client_key::ClientKey;
use sale::config::{LimitsConfig, Rate};

use crate::respond::Answer;

/// Which cap refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// Per user.
    User,
    /// Per client address.
    Ip,
    /// The origin rate: buys forwarded to all origins together.
    OriginRate,
}

impl Cap {
    /// Label for metrics.
    pub fn label(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Ip => "ip",
            Self::OriginRate => "origin_rate",
        }
    }
}

/// A refusal: which cap, and how long until a retry can succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The cap.
    pub cap: Cap,
    /// Wait before retrying.
    pub retry_after: Duration,
}

impl Limited {
    /// The 429 for a request over a cap, with when to come back.
    pub fn answer(&self) -> Answer {
        // Whole seconds, rounded up: an integer, never a float to format per refusal.
        let seconds = self.retry_after.as_millis().div_ceil(1000).max(1);
        Answer::Refuse(
            Refusal::RateLimited,
            vec![("retry-after", seconds.to_string())],
        )
    }
}

fn quota(rate: Rate) -> Quota {
    let burst = NonZeroU32::new(rate.burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(rate.period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MAX))
        .allow_burst(burst)
}

type KeyedLimiter<K, C> =
    RateLimiter<K, DashMapStateStore<K>, C, NoOpMiddleware<<C as Clock>::Instant>>;
type DirectLimiter<C> =
    RateLimiter<NotKeyed, InMemoryState, C, NoOpMiddleware<<C as Clock>::Instant>>;

/// A keyed limiter that can be reset when it remembers too many keys.
struct Keyed<K: Hash + Eq + Clone, C: Clock> {
    quota: Quota,
    clock: C,
    limiter: ArcSwap<KeyedLimiter<K, C>>,
}

impl<K: Hash + Eq + Clone, C: Clock + Clone> Keyed<K, C> {
    fn new(quota: Quota, clock: C) -> Self {
        Self {
            quota,
            limiter: ArcSwap::from_pointee(KeyedLimiter::dashmap_with_clock(quota, clock.clone())),
            clock,
        }
    }

    fn check(&self, key: &K, cap: Cap) -> Result<(), Limited> {
        self.limiter
            .load()
            .check_key(key)
            .map_err(|not_until| Limited {
                cap,
                retry_after: not_until.wait_time_from(self.clock.now()),
            })
    }

    fn maintain(&self, max_keys: usize) -> usize {
        let limiter = self.limiter.load();
        limiter.retain_recent();
        if limiter.len() > max_keys {
            tracing::warn!(
                keys = limiter.len(),
                max_keys,
                "limiter over its key cap; forgetting all keys"
            );
            self.limiter
                .store(Arc::new(KeyedLimiter::dashmap_with_clock(
                    self.quota,
                    self.clock.clone(),
                )));
            return 0;
        }
        limiter.shrink_to_fit();
        limiter.len()
    }

    fn len(&self) -> usize {
        self.limiter.load().len()
    }
}

/// All three caps, on clock `C`.
pub struct Limits<C: Clock = DefaultClock> {
    config: LimitsConfig,
    clock: C,
    /// User ids are remembered as 64-bit hashes under a per-process random key: smaller than the
    /// ids, no allocation per check, and collisions need about 2^32 users to become likely.
    user_hasher: std::hash::RandomState,
    per_user: Keyed<u64, C>,
    per_ip: Keyed<ClientKey, C>,
    origin_rate: DirectLimiter<C>,
}

impl Limits {
    /// Fresh limiters for `config` on the real clock.
    pub fn new(config: LimitsConfig) -> Self {
        Self::with_clock(config, DefaultClock::default())
    }
}

impl<C: Clock + Clone> Limits<C> {
    /// Fresh limiters for `config` on `clock`.
    pub fn with_clock(config: LimitsConfig, clock: C) -> Self {
        Self {
            config,
            user_hasher: std::hash::RandomState::new(),
            per_user: Keyed::new(quota(config.per_user), clock.clone()),
            per_ip: Keyed::new(quota(config.per_ip), clock.clone()),
            origin_rate: DirectLimiter::direct_with_clock(quota(config.origin_rate), clock.clone()),
            clock,
        }
    }

    /// The caps these limiters enforce; a reload with other caps builds new limiters.
    pub fn config(&self) -> &LimitsConfig {
        &self.config
    }

    /// One API request from `ip`.
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Limited> {
        self.per_ip.check(&ClientKey::of(ip), Cap::Ip)
    }

    /// One token or buy request by `user`.
    pub fn check_user(&self, user: &str) -> Result<(), Limited> {
        self.per_user
            .check(&self.user_hasher.hash_one(user), Cap::User)
    }

    /// One buy about to be forwarded to an origin.
    pub fn forward_buy(&self) -> Result<(), Limited> {
        self.origin_rate.check().map_err(|not_until| Limited {
            cap: Cap::OriginRate,
            retry_after: not_until.wait_time_from(self.clock.now()),
        })
    }

    /// Prunes replenished keys and enforces the key cap; returns (user keys, address keys).
    pub fn maintain(&self) -> (usize, usize) {
        (
            self.per_user.maintain(self.config.max_keys),
            self.per_ip.maintain(self.config.max_keys),
        )
    }

    /// Keys remembered now: (user keys, address keys).
    pub fn sizes(&self) -> (usize, usize) {
        (self.per_user.len(), self.per_ip.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use governor::clock::FakeRelativeClock;

    fn limits(per_user: &str, burst: u32) -> (Limits<FakeRelativeClock>, FakeRelativeClock) {
        let rate = |r: &str, b: u32| Rate::parse(r, Some(b)).unwrap();
        let clock = FakeRelativeClock::default();
        let config = LimitsConfig {
            per_user: rate(per_user, burst),
            per_ip: rate("2/s", 2),
            origin_rate: rate("1000/s", 1000),
            max_keys: 1_000,
            scope: sale::config::CapScope::Edge,
        };
        (Limits::with_clock(config, clock.clone()), clock)
    }

    #[test]
    fn a_user_over_the_cap_is_told_when_to_retry_and_let_back_in_then() {
        let (limits, clock) = limits("1/m", 2);
        assert!(limits.check_user("alice").is_ok());
        assert!(limits.check_user("alice").is_ok());
        let refused = limits.check_user("alice").unwrap_err();
        assert_eq!(refused.cap, Cap::User);
        assert_eq!(refused.retry_after, Duration::from_secs(60));
        assert!(
            limits.check_user("bob").is_ok(),
            "other users are unaffected"
        );
        clock.advance(Duration::from_secs(59));
        assert_eq!(
            limits.check_user("alice").unwrap_err().retry_after,
            Duration::from_secs(1)
        );
        clock.advance(Duration::from_secs(1));
        assert!(limits.check_user("alice").is_ok(), "the minute has passed");
    }

    #[test]
    fn a_million_distinct_keys_leave_the_limiters_bounded() {
        const MAX_KEYS: usize = 100_000;
        const MAINTAIN_EVERY: u32 = 10_000;
        let rate = Rate::parse("5/s", Some(10)).unwrap();
        let limits = Limits::new(LimitsConfig {
            per_user: rate,
            per_ip: rate,
            origin_rate: rate,
            max_keys: MAX_KEYS,
            scope: sale::config::CapScope::Edge,
        });
        let mut peak = (0, 0);
        for i in 0..1_000_000u32 {
            assert!(
                limits.check_user(&format!("user-{i}")).is_ok(),
                "a fresh key is always allowed"
            );
            assert!(limits.check_ip(IpAddr::from(i.to_be_bytes())).is_ok());
            if i % MAINTAIN_EVERY == MAINTAIN_EVERY - 1 {
                let (users, ips) = limits.sizes();
                peak = (peak.0.max(users), peak.1.max(ips));
                limits.maintain();
            }
        }
        let bound = MAX_KEYS + MAINTAIN_EVERY as usize;
        assert!(
            peak.0 <= bound && peak.1 <= bound,
            "peak keys {peak:?} over {bound}"
        );
        let (users, ips) = limits.maintain();
        assert!(users <= MAX_KEYS && ips <= MAX_KEYS);
    }

    #[test]
    fn ipv6_clients_share_their_64() {
        let (limits, _) = limits("10/s", 10);
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert!(limits.check_ip(a).is_ok());
        assert!(limits.check_ip(b).is_ok());
        assert_eq!(limits.check_ip(a).unwrap_err().cap, Cap::Ip);
        assert!(limits.check_ip(c).is_ok());
        assert_ne!(
            ClientKey::of("0.0.0.1".parse().unwrap()),
            ClientKey::of("::1".parse().unwrap())
        );
    }
}
