//! The edge-to-origin signature. Origins serve only requests the edge has admitted; the edge proves
//! it by signing the method, path, user, token nonce and a timestamp with the internal key ring.
//! An origin refuses anything unsigned, forged, signed with an unknown key, or too old.
//!
//! The body is not covered (the edge streams it unread): everything it carries (quantity, types,
//! seats, an access code) is checked again inside the reservation script, and the token's nonce
//! buys once whatever the body says. The body's integrity on the wire is the origin hop's TLS.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use thiserror::Error;

use crate::ids::UserId;
use crate::key_ring::{HmacSha256, KeyRing};
use crate::time::UnixMillis;

/// The admitted user.
pub const HEADER_USER: &str = "x-fg-user";
/// The purchase token's nonce, on buys only.
pub const HEADER_NONCE: &str = "x-fg-nonce";
/// When the edge signed, Unix milliseconds.
pub const HEADER_TS: &str = "x-fg-ts";
/// Which internal key signed.
pub const HEADER_KID: &str = "x-fg-kid";
/// The MAC.
pub const HEADER_SIG: &str = "x-fg-sig";
/// Every header the edge owns; it strips client-sent copies before signing.
pub const SIGNED_HEADERS: [&str; 5] =
    [HEADER_USER, HEADER_NONCE, HEADER_TS, HEADER_KID, HEADER_SIG];

/// What a signed request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The user the edge admitted, if the route has one.
    pub user: Option<UserId>,
    /// The purchase token nonce, on buys.
    pub nonce: Option<String>,
    /// When the edge signed.
    pub signed_at: UnixMillis,
}

/// Why an origin refused a request's signature. All answer 401 `unsigned`.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum InternalAuthError {
    /// A signature header is missing or unparsable.
    #[error("request is not signed by the edge")]
    Missing,
    /// Signed with a key this origin does not hold.
    #[error("request is signed with an unknown key")]
    UnknownKey,
    /// The MAC does not match.
    #[error("request signature is not valid")]
    BadSignature,
    /// Signed too long ago (or too far in the future): a replay or a badly skewed clock.
    #[error("request signature is stale")]
    Stale,
}

fn mac(secret: &[u8], method: &str, path: &str, claims: &Claims) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    let user = claims.user.as_ref().map_or("", UserId::as_str);
    let nonce = claims.nonce.as_deref().unwrap_or("");
    for part in [
        "flashgate/edge/v1",
        method,
        path,
        user,
        nonce,
        &claims.signed_at.to_string(),
    ] {
        mac.update(part.as_bytes());
        mac.update(b"\n");
    }
    mac
}

/// The headers that sign `method path` with `claims`, as (name, value) pairs.
pub fn sign(
    ring: &KeyRing,
    method: &str,
    path: &str,
    claims: &Claims,
) -> Vec<(&'static str, String)> {
    let key = ring.current();
    let tag = mac(key.secret.expose(), method, path, claims)
        .finalize()
        .into_bytes();
    let mut headers = vec![
        (HEADER_TS, claims.signed_at.to_string()),
        (HEADER_KID, key.id.as_str().to_owned()),
        (HEADER_SIG, URL_SAFE_NO_PAD.encode(tag)),
    ];
    if let Some(user) = &claims.user {
        headers.push((HEADER_USER, user.as_str().to_owned()));
    }
    if let Some(nonce) = &claims.nonce {
        headers.push((HEADER_NONCE, nonce.clone()));
    }
    headers
}

/// Verifies a request's signature; `header` looks a header up by name.
pub fn verify<'a>(
    ring: &KeyRing,
    method: &str,
    path: &str,
    header: impl Fn(&str) -> Option<&'a str>,
    now: UnixMillis,
    max_age_ms: u64,
) -> Result<Claims, InternalAuthError> {
    let signed_at: UnixMillis = header(HEADER_TS)
        .and_then(|t| t.parse().ok())
        .ok_or(InternalAuthError::Missing)?;
    let kid = header(HEADER_KID).ok_or(InternalAuthError::Missing)?;
    let tag = header(HEADER_SIG)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .ok_or(InternalAuthError::Missing)?;
    let user = match header(HEADER_USER) {
        Some(u) => Some(UserId::parse(u).map_err(|_| InternalAuthError::BadSignature)?),
        None => None,
    };
    let claims = Claims {
        user,
        nonce: header(HEADER_NONCE).map(str::to_owned),
        signed_at,
    };
    let key = ring.find(kid).ok_or(InternalAuthError::UnknownKey)?;
    mac(key.secret.expose(), method, path, &claims)
        .verify_slice(&tag)
        .map_err(|_| InternalAuthError::BadSignature)?;
    if now.abs_diff(signed_at) > max_age_ms {
        return Err(InternalAuthError::Stale);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::envelope::tests::ring;

    fn signed(path: &str) -> HashMap<&'static str, String> {
        let r = ring(&[("i1", "internal-key-0123456789")]);
        let claims = Claims {
            user: Some(UserId::parse("alice").unwrap()),
            nonce: Some("n1".into()),
            signed_at: 10_000,
        };
        sign(&r, "POST", path, &claims).into_iter().collect()
    }

    fn check(
        headers: &HashMap<&'static str, String>,
        path: &str,
        now: u64,
    ) -> Result<Claims, InternalAuthError> {
        let r = ring(&[("i1", "internal-key-0123456789")]);
        verify(
            &r,
            "POST",
            path,
            |h| headers.get(h).map(String::as_str),
            now,
            5_000,
        )
    }

    #[test]
    fn a_signed_request_verifies() {
        let h = signed("/internal/x");
        let claims = check(&h, "/internal/x", 12_000).unwrap();
        assert_eq!(claims.user.unwrap().as_str(), "alice");
        assert_eq!(claims.nonce.as_deref(), Some("n1"));
    }

    #[test]
    fn path_user_and_age_are_bound() {
        let h = signed("/internal/x");
        assert_eq!(
            check(&h, "/internal/y", 12_000),
            Err(InternalAuthError::BadSignature)
        );
        let mut other_user = h.clone();
        other_user.insert(HEADER_USER, "mallory".into());
        assert_eq!(
            check(&other_user, "/internal/x", 12_000),
            Err(InternalAuthError::BadSignature)
        );
        assert_eq!(
            check(&h, "/internal/x", 16_000),
            Err(InternalAuthError::Stale)
        );
        assert_eq!(
            check(&HashMap::new(), "/internal/x", 1),
            Err(InternalAuthError::Missing)
        );
    }
}
