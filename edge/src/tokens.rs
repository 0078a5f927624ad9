//! Purchase tokens at the edge: minted only while the sale is open (so the buy URL cannot be known
//! earlier), and verified on every buy before anything is forwarded. This file holds the signed
//! (HMAC-SHA256) scheme; [`stored`] the classic md5 scheme kept in Redis, and [`used`] the tokens
//! this edge has seen buy.

pub mod stored;
pub mod used;

use sale::config::{Config, EventConfig};
use sale::purchase_token::{self, PurchaseToken, TokenError};
use sale::{Refusal, UserId};
use serde::Serialize;

/// The 200 body of `POST /api/events/{id}/token`.
#[derive(Debug, Serialize)]
pub struct IssuedToken {
    /// The token itself.
    pub token: String,
    /// Where to POST the buy: the hidden URL.
    pub buy_url: String,
    /// RFC 3339.
    pub expires_at: String,
}

impl IssuedToken {
    /// The answer for `token` of `event`, valid until `expires_at` (Unix ms), whatever the scheme.
    pub fn new(event: &EventConfig, token: String, expires_at: u64) -> Self {
        Self {
            buy_url: format!("/api/events/{}/buy/{token}", event.id),
            token,
            expires_at: sale::time::rfc3339(expires_at),
        }
    }
}

/// Mints a token for `user` at `event`.
pub fn issue(config: &Config, event: &EventConfig, user: &UserId, now: u64) -> IssuedToken {
    let expires_at = sale::time::add(now, config.tokens.ttl);
    let (token, _) = purchase_token::issue(&config.secrets.token_keys, &event.id, user, expires_at);
    IssuedToken::new(event, token, expires_at)
}

/// Verifies a buy's token for `user` at `event` at `now`: its claims, and whether it has expired
/// (a genuine token past its expiry can no longer buy; the caller decides what it may still do).
pub fn verify(
    config: &Config,
    event: &EventConfig,
    user: &UserId,
    token: &str,
    now: u64,
) -> Result<(PurchaseToken, bool), Refusal> {
    match purchase_token::verify(&config.secrets.token_keys, token, &event.id, user, now) {
        Ok(claims) => Ok((claims, false)),
        Err(TokenError::Expired(claims)) => Ok((claims, true)),
        Err(TokenError::Invalid) => Err(Refusal::BadToken),
        Err(TokenError::WrongUser) => Err(Refusal::WrongUser),
    }
}
