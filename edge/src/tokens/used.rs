//! Purchase tokens this edge has seen buy, with the order each bought: a retry of the same link
//! (its first answer was lost on the way to the buyer) is answered here with that same order,
//! without bothering an origin. Bounded: entries live only until the token would have expired
//! anyway, and the table has a hard size cap; a token this edge does not remember goes to an
//! origin, whose reservation script answers the replay from Redis.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most nonces remembered at once.
const CAPACITY: usize = 1_000_000;

/// The order a token bought, as its buy answer described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bought {
    /// The order.
    pub order_id: String,
    /// Its payment deadline, RFC 3339.
    pub pay_by: String,
}

impl Bought {
    /// Reads an origin's [`sale::edge_signature::HEADER_ORDER`] value.
    pub fn parse(header: &str) -> Option<Self> {
        let (order_id, pay_by) = header.split_once(' ')?;
        Some(Self {
            order_id: order_id.to_owned(),
            pay_by: pay_by.to_owned(),
        })
    }
}

#[derive(Debug)]
struct Entry {
    expires_at: u64,
    bought: Bought,
}

/// Nonce → the token's expiry (Unix ms) and its order.
#[derive(Debug, Default)]
pub struct UsedTokens {
    nonces: Mutex<HashMap<String, Entry>>,
}

impl UsedTokens {
    /// Remembers that the token with `nonce`, valid until `expires_at`, bought `bought`.
    pub fn record(&self, nonce: String, expires_at: u64, bought: Bought, now: u64) {
        let mut nonces = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if nonces.len() >= CAPACITY {
            nonces.retain(|_, entry| entry.expires_at > now);
        }
        if nonces.len() < CAPACITY {
            nonces.insert(nonce, Entry { expires_at, bought });
        }
    }

    /// The order the token with `nonce` bought, if this edge saw it buy.
    pub fn bought(&self, nonce: &str) -> Option<Bought> {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(nonce)
            .map(|entry| entry.bought.clone())
    }

    /// Drops entries whose tokens have expired (they are refused as expired anyway).
    pub fn prune(&self, now: u64) {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, entry| entry.expires_at > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_nonce_keeps_its_order_until_pruned_after_expiry() {
        let used = UsedTokens::default();
        let bought = Bought::parse("demo.ab 2026-01-01T00:00:00Z").unwrap();
        used.record("n1".into(), 100, bought.clone(), 0);
        assert_eq!(used.bought("n1"), Some(bought));
        assert_eq!(used.bought("n2"), None);
        used.prune(50);
        assert!(used.bought("n1").is_some());
        used.prune(100);
        assert_eq!(used.bought("n1"), None);
    }

    #[test]
    fn an_order_header_needs_both_parts() {
        assert_eq!(Bought::parse("demo.ab"), None);
    }
}
