//! Purchase tokens this edge has seen buy, and for whom: a retry of the same link (its first
//! answer was lost on the way to the buyer) goes to an origin as a replay, which answers the order
//! as it stands now without spending origin capacity or checking the window again; the same link
//! presented by anybody else is refused `wrong_user` here. Bounded: entries live only until the
//! token would have expired, and the table has a hard size cap; a link this edge does not
//! remember is replayed or refused by an origin's reservation script, which remembers every nonce.

use std::collections::HashMap;
use std::sync::Mutex;

use sale::UserId;

/// Most nonces remembered at once.
const CAPACITY: usize = 1_000_000;

#[derive(Debug)]
struct Entry {
    expires_at: u64,
    buyer: UserId,
}

/// Nonce → the token's expiry (Unix ms) and who bought with it.
#[derive(Debug, Default)]
pub struct UsedTokens {
    nonces: Mutex<HashMap<String, Entry>>,
}

impl UsedTokens {
    /// Remembers that the token with `nonce`, valid until `expires_at`, bought for `buyer`.
    pub fn record(&self, nonce: String, expires_at: u64, buyer: UserId, now: u64) {
        let mut nonces = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if nonces.len() >= CAPACITY {
            nonces.retain(|_, entry| entry.expires_at > now);
        }
        if nonces.len() < CAPACITY {
            nonces.insert(nonce, Entry { expires_at, buyer });
        }
    }

    /// Who bought with the token with `nonce`, if this edge saw it buy.
    pub fn buyer(&self, nonce: &str) -> Option<UserId> {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(nonce)
            .map(|entry| entry.buyer.clone())
    }

    /// Drops entries whose tokens have expired (an origin replays those).
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
    fn a_recorded_nonce_keeps_its_buyer_until_pruned_after_expiry() {
        let used = UsedTokens::default();
        let alice = UserId::parse("alice").unwrap();
        used.record("n1".into(), 100, alice.clone(), 0);
        assert_eq!(used.buyer("n1"), Some(alice));
        assert_eq!(used.buyer("n2"), None);
        used.prune(50);
        assert!(used.buyer("n1").is_some());
        used.prune(100);
        assert_eq!(used.buyer("n1"), None);
    }
}
