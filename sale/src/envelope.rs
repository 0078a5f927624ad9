//! The signed envelope behind sessions and purchase tokens: `KID.PAYLOAD.MAC`, URL-safe base64
//! without padding, so it fits in a URL path segment, a cookie and a header unchanged.
//!
//! The MAC covers a purpose label as well as the key id and payload, so a value minted for one
//! purpose (a session) can never be replayed as another (a purchase token) even under one key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use thiserror::Error;

use crate::key_ring::{HmacSha256, KeyRing};

/// Longest envelope accepted; anything longer is refused before any decoding or MAC work.
pub const MAX_LEN: usize = 1024;

/// What a signed value is for; part of the MAC input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// A user session minted by the login service.
    Session,
    /// A purchase token minted by the edge at sale time.
    PurchaseToken,
    /// An operator signed in to the dashboard, keyed by the admin token.
    OperatorSession,
    /// A buyer's place in an event's waiting room.
    QueueTicket,
    /// A proof-of-work challenge for joining a waiting room.
    PowChallenge,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Self::Session => b"flashgate/session/v1",
            Self::PurchaseToken => b"flashgate/purchase-token/v1",
            Self::OperatorSession => b"flashgate/operator-session/v1",
            Self::QueueTicket => b"flashgate/queue-ticket/v1",
            Self::PowChallenge => b"flashgate/pow-challenge/v1",
        }
    }
}

/// Why an envelope was refused. Deliberately coarse: callers map all of these to "forged" or
/// "malformed" and never tell a client which check failed.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// Not three dot-separated base64 parts, too long, or a payload that is not UTF-8.
    #[error("malformed")]
    Malformed,
    /// Signed with a key this ring does not hold (never issued, or rotated out).
    #[error("unknown key")]
    UnknownKey,
    /// The MAC does not match.
    #[error("bad signature")]
    BadMac,
}

fn mac(secret: &[u8], purpose: Purpose, kid: &str, payload_b64: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(purpose.label());
    mac.update(b"\0");
    mac.update(kid.as_bytes());
    mac.update(b".");
    mac.update(payload_b64.as_bytes());
    mac
}

/// Signs `fields` (which must not contain newlines) with the ring's current key.
pub fn seal(ring: &KeyRing, purpose: Purpose, fields: &[&str]) -> String {
    let key = ring.current();
    let payload_b64 = URL_SAFE_NO_PAD.encode(fields.join("\n"));
    let tag = mac(key.secret.expose(), purpose, key.id.as_str(), &payload_b64)
        .finalize()
        .into_bytes();
    format!(
        "{}.{}.{}",
        key.id.as_str(),
        payload_b64,
        URL_SAFE_NO_PAD.encode(tag)
    )
}

/// Checks an envelope's MAC in constant time and returns its fields.
pub fn open(ring: &KeyRing, purpose: Purpose, text: &str) -> Result<Vec<String>, EnvelopeError> {
    if text.len() > MAX_LEN {
        return Err(EnvelopeError::Malformed);
    }
    let mut parts = text.split('.');
    let (Some(kid), Some(payload_b64), Some(tag_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(EnvelopeError::Malformed);
    };
    let tag = URL_SAFE_NO_PAD
        .decode(tag_b64)
        .map_err(|_| EnvelopeError::Malformed)?;
    let key = ring.find(kid).ok_or(EnvelopeError::UnknownKey)?;
    mac(key.secret.expose(), purpose, kid, payload_b64)
        .verify_slice(&tag)
        .map_err(|_| EnvelopeError::BadMac)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload_b64)
        .map_err(|_| EnvelopeError::Malformed)?;
    let payload = String::from_utf8(payload).map_err(|_| EnvelopeError::Malformed)?;
    Ok(payload.split('\n').map(str::to_owned).collect())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::key_ring::{KeyId, Secret, SigningKey};

    pub(crate) fn ring(ids: &[(&str, &str)]) -> KeyRing {
        KeyRing::new(
            ids.iter()
                .map(|(id, secret)| SigningKey {
                    id: KeyId::parse(id).unwrap(),
                    secret: Secret::parse(secret).unwrap(),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn round_trip() {
        let r = ring(&[("k1", "0123456789abcdef0")]);
        let sealed = seal(&r, Purpose::Session, &["alice", "123"]);
        assert_eq!(
            open(&r, Purpose::Session, &sealed).unwrap(),
            ["alice", "123"]
        );
    }

    #[test]
    fn purpose_is_bound() {
        let r = ring(&[("k1", "0123456789abcdef0")]);
        let sealed = seal(&r, Purpose::Session, &["alice"]);
        assert_eq!(
            open(&r, Purpose::PurchaseToken, &sealed),
            Err(EnvelopeError::BadMac)
        );
    }

    #[test]
    fn tampering_is_detected() {
        let r = ring(&[("k1", "0123456789abcdef0")]);
        let sealed = seal(&r, Purpose::Session, &["alice"]);
        let (kid, rest) = sealed.split_once('.').unwrap();
        let (_, tag) = rest.split_once('.').unwrap();
        let forged = format!("{kid}.{}.{tag}", URL_SAFE_NO_PAD.encode("mallory"));
        assert_eq!(
            open(&r, Purpose::Session, &forged),
            Err(EnvelopeError::BadMac)
        );
    }

    #[test]
    fn unknown_keys_and_garbage_are_refused() {
        let old = ring(&[("old", "0123456789abcdef0")]);
        let new = ring(&[("new", "fedcba9876543210f")]);
        let sealed = seal(&old, Purpose::Session, &["alice"]);
        assert_eq!(
            open(&new, Purpose::Session, &sealed),
            Err(EnvelopeError::UnknownKey)
        );
        for junk in ["", "a.b", "a.b.c.d", "k1.!!.!!", &"x".repeat(MAX_LEN + 1)] {
            assert!(open(&new, Purpose::Session, junk).is_err(), "{junk}");
        }
    }

    #[test]
    fn previous_key_still_verifies_after_rotation() {
        let old = ring(&[("old", "0123456789abcdef0")]);
        let rotated = ring(&[("new", "fedcba9876543210f"), ("old", "0123456789abcdef0")]);
        let sealed = seal(&old, Purpose::Session, &["alice"]);
        assert_eq!(
            open(&rotated, Purpose::Session, &sealed).unwrap(),
            ["alice"]
        );
        assert!(seal(&rotated, Purpose::Session, &["bob"]).starts_with("new."));
    }
}
