//! Purchase tokens this edge has seen buy successfully: a second use is answered 409 `token_used`
//! here, without bothering an origin (which would answer the same order again). Bounded: entries
//! live only until the token would have expired anyway, and the table has a hard size cap.

use std::collections::HashMap;
use std::sync::Mutex;

/// Most nonces remembered at once.
const CAPACITY: usize = 1_000_000;

/// Nonce → the token's expiry (Unix ms).
#[derive(Debug, Default)]
pub struct UsedTokens {
    nonces: Mutex<HashMap<String, u64>>,
}

impl UsedTokens {
    /// Remembers that the token with `nonce`, valid until `expires_at`, has bought.
    pub fn record(&self, nonce: String, expires_at: u64, now: u64) {
        let mut nonces = self
            .nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if nonces.len() >= CAPACITY {
            nonces.retain(|_, expiry| *expiry > now);
        }
        if nonces.len() < CAPACITY {
            nonces.insert(nonce, expires_at);
        }
    }

    /// Whether the token with `nonce` has already bought.
    pub fn used(&self, nonce: &str) -> bool {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(nonce)
    }

    /// Drops entries whose tokens have expired (they are refused as expired anyway).
    pub fn prune(&self, now: u64) {
        self.nonces
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .retain(|_, expiry| *expiry > now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorded_nonce_is_used_until_pruned_after_expiry() {
        let used = UsedTokens::default();
        used.record("n1".into(), 100, 0);
        assert!(used.used("n1"));
        assert!(!used.used("n2"));
        used.prune(50);
        assert!(used.used("n1"));
        used.prune(100);
        assert!(!used.used("n1"));
    }
}
