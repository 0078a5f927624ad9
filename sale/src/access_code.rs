//! Access codes for a presale phase's channel. Two kinds:
//! - **bound** (`flashgate codes issue`): `KEYID.` and the first 12 bytes of
//!   HMAC-SHA256(token key, "code" \n event \n channel \n user), base64url. Nothing is stored; a
//!   code is useless to anyone but its user, and verified in constant time against every key of
//!   the ring (so a rotation keeps codes issued under the old key).
//! - **shared** (`flashgate codes generate`): random codes with a number of uses, stored in
//!   Redis only as their SHA-256, so a leak of Redis leaks no code.
//!
//! Codes are secrets: they are never logged.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::key_ring::{HmacSha256, KeyRing, SigningKey};

/// Bytes of the MAC a bound code carries.
const TAG_BYTES: usize = 12;

fn mac(key: &SigningKey, event: &str, channel: &str, user: &str) -> HmacSha256 {
    let mut mac =
        HmacSha256::new_from_slice(key.secret.expose()).expect("HMAC accepts keys of any length");
    mac.update(b"code\n");
    mac.update(event.as_bytes());
    mac.update(b"\n");
    mac.update(channel.as_bytes());
    mac.update(b"\n");
    mac.update(user.as_bytes());
    mac
}

/// The code bound to `user` for `channel` of `event`, under the ring's signing key.
pub fn issue(ring: &KeyRing, event: &str, channel: &str, user: &str) -> String {
    let key = ring.current();
    format!(
        "{}.{}",
        key.id.as_str(),
        URL_SAFE_NO_PAD
            .encode(&mac(key, event, channel, user).finalize().into_bytes()[..TAG_BYTES])
    )
}

/// Whether `code` is `user`'s bound code for `channel` of `event`, under any key of the ring.
pub fn is_bound(ring: &KeyRing, code: &str, event: &str, channel: &str, user: &str) -> bool {
    let Some((id, encoded)) = code.split_once('.') else {
        return false;
    };
    let Ok(given) = URL_SAFE_NO_PAD.decode(encoded) else {
        return false;
    };
    given.len() == TAG_BYTES
        && ring.keys().filter(|k| k.id.as_str() == id).any(|key| {
            mac(key, event, channel, user)
                .verify_truncated_left(&given)
                .is_ok()
        })
}

/// A new shared code: 16 characters from an alphabet without look-alikes (80 bits).
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    (0..16)
        .map(|_| char::from(ALPHABET[usize::from(rand::random::<u8>() & 31)]))
        .collect()
}

/// How a shared code is stored: its SHA-256, hex (the code is uppercased first, so a buyer's
/// typing case does not matter).
pub fn stored_hash(code: &str) -> String {
    hex::encode(Sha256::digest(code.trim().to_ascii_uppercase().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_ring::{KeyId, Secret};

    fn ring(ids: &[&str]) -> KeyRing {
        KeyRing::new(
            ids.iter()
                .map(|id| SigningKey {
                    id: KeyId::parse(id).unwrap(),
                    secret: Secret::parse(&format!("code-key-{id}-0123456789")).unwrap(),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_bound_code_works_only_for_its_user_event_and_channel() {
        let keys = ring(&["t1"]);
        let code = issue(&keys, "demo", "fans", "alice");
        assert!(is_bound(&keys, &code, "demo", "fans", "alice"));
        assert!(!is_bound(&keys, &code, "demo", "fans", "bob"));
        assert!(!is_bound(&keys, &code, "demo", "sponsors", "alice"));
        assert!(!is_bound(&keys, &code, "other", "fans", "alice"));
        assert!(!is_bound(
            &keys,
            "t1.AAAAAAAAAAAAAAAA",
            "demo",
            "fans",
            "alice"
        ));
        assert!(!is_bound(&keys, "junk", "demo", "fans", "alice"));
        let truncated = &code[..code.len() - 2];
        assert!(!is_bound(&keys, truncated, "demo", "fans", "alice"));
    }

    #[test]
    fn a_code_issued_under_an_old_key_holds_through_a_rotation() {
        let old = ring(&["t1"]);
        let code = issue(&old, "demo", "fans", "alice");
        let rotated = ring(&["t2", "t1"]);
        assert!(is_bound(&rotated, &code, "demo", "fans", "alice"));
        assert!(issue(&rotated, "demo", "fans", "alice").starts_with("t2."));
    }

    #[test]
    fn shared_codes_are_random_and_stored_hashed() {
        let (a, b) = (generate(), generate());
        assert_ne!(a, b);
        assert_eq!(a.len(), 16);
        assert_eq!(stored_hash(&a), stored_hash(&a.to_ascii_lowercase()));
        assert_ne!(stored_hash(&a), stored_hash(&b));
        assert_eq!(stored_hash(&a).len(), 64);
    }
}
