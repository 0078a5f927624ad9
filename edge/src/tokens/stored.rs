//! The classic purchase-token scheme (`tokens.scheme = "md5"`), for parity with the original
//! design: the token is the md5 of user id, event id and the salt, stored in Redis under the user
//! with the token's lifetime, and a buy must present exactly the stored value. A random part joins
//! the hash input on every issue, so each token is new: the origin burns a token once it has
//! bought, and a user whose reservation expired must be able to buy again.
//!
//! Unlike signed tokens this needs Redis on the token and buy paths and cannot tell an expired
//! token from a forged one for certain: a missing key means `token_expired`, a mismatch
//! `bad_token`. Either way the link may have bought before it was replaced or expired, so the
//! buy goes to an origin as a replay, which answers its order (to its buyer only) or that refusal.

use std::sync::Arc;

use md5::{Digest, Md5};
use rand::RngCore;
use sale::config::{EventConfig, TokenConfig};
use sale::key_ring::{Secret, constant_time_eq};
use sale::redis_keys::EventKeys;
use sale::{EventId, Refusal, UserId};

use super::IssuedToken;
use crate::redis_handle::RedisHandle;

/// What a stored-token check found for a buy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredToken {
    /// The token stored for the user: it may buy.
    Buys,
    /// Not the stored token (expired or replaced), but it bought before: replay its order,
    /// refused with `otherwise` if the order is not the user's to see.
    Bought {
        /// The refusal the link gets if it did not buy after all.
        otherwise: Refusal,
    },
}

/// Issues and checks stored tokens over the process's Redis handle, which reconnects after a
/// Redis restart.
#[derive(Clone)]
pub struct StoredTokens {
    /// The process's Redis.
    pub redis: Arc<RedisHandle>,
}

fn unavailable(e: &redis::RedisError) -> Refusal {
    tracing::warn!(error = %e, "stored tokens: redis unavailable");
    Refusal::Unavailable
}

/// Whether `token` has the shape of a stored token (32 hex digits), checked before any Redis call.
pub fn well_formed(token: &str) -> bool {
    token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

impl StoredTokens {
    async fn connection(&self) -> Result<sale::redis_link::RedisLink, Refusal> {
        self.redis.connection().await.map_err(|e| unavailable(&e))
    }

    /// Mints and stores a token for `user` at `event`.
    pub async fn issue(
        &self,
        tokens: &TokenConfig,
        salt: &Secret,
        event: &EventConfig,
        user: &UserId,
        now: u64,
    ) -> Result<IssuedToken, Refusal> {
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        let mut hash = Md5::new();
        for part in [
            user.as_str().as_bytes(),
            b"\n",
            event.id.as_str().as_bytes(),
            b"\n",
            salt.expose(),
            b"\n",
            &random,
        ] {
            hash.update(part);
        }
        let token = hex::encode(hash.finalize());
        let ttl = sale::time::millis(tokens.ttl);
        let mut con = self.connection().await?;
        let key = EventKeys::new(&event.id).stored_token(user.as_str());
        let stored: redis::RedisResult<()> = redis::cmd("SET")
            .arg(&key)
            .arg(&token)
            .arg("PX")
            .arg(ttl)
            .query_async(&mut con)
            .await;
        stored.map_err(|e| unavailable(&e))?;
        Ok(IssuedToken::new(
            event,
            token,
            sale::time::add(now, tokens.ttl),
        ))
    }

    /// Checks `token` for `user` at `event`: the one stored for them buys; another that has
    /// bought before (its nonce is the token) is replayed; anything else is refused here, so
    /// junk of the right shape never reaches an origin. One round trip, both keys in the
    /// event's slot.
    pub async fn check(
        &self,
        event: &EventId,
        user: &UserId,
        token: &str,
    ) -> Result<StoredToken, Refusal> {
        let mut con = self.connection().await?;
        let keys = EventKeys::new(event);
        let (stored, bought): (Option<String>, bool) = redis::pipe()
            .cmd("GET")
            .arg(keys.stored_token(user.as_str()))
            .cmd("HEXISTS")
            .arg(&keys.nonces)
            .arg(token)
            .query_async(&mut con)
            .await
            .map_err(|e| unavailable(&e))?;
        let refusal = match stored {
            Some(stored) if constant_time_eq(stored.as_bytes(), token.as_bytes()) => {
                return Ok(StoredToken::Buys);
            }
            None => Refusal::TokenExpired,
            Some(_) => Refusal::BadToken,
        };
        if bought {
            Ok(StoredToken::Bought { otherwise: refusal })
        } else {
            Err(refusal)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_32_hex_digits_are_well_formed() {
        assert!(well_formed("0123456789abcdef0123456789ABCDEF"));
        assert!(!well_formed("0123456789abcdef"));
        assert!(!well_formed("t1.abc.def"));
        assert!(!well_formed("0123456789abcdef0123456789abcdeg"));
    }
}
