//! Secrets and key rings. A [`Secret`] never prints; a [`KeyRing`] signs with its first key not
//! marked accept-only and accepts every key it holds, which is how keys rotate without downtime:
//! add the new key accept-only everywhere, then let it sign (put it first, or mark the old one
//! accept-only), and drop the old one once everything it signed has expired.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use thiserror::Error;

/// HMAC-SHA256, the MAC behind sessions, purchase tokens and the edge signature.
pub type HmacSha256 = Hmac<Sha256>;

/// Secret bytes that must never reach a log: `Debug` and `Display` show a placeholder.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Shortest secret accepted: 16 bytes keeps brute force out of reach for HMAC keys and
    /// bearer tokens alike.
    pub const MIN_LEN: usize = 16;

    /// Wraps secret text, refusing ones too short to be safe.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        if text.len() < Self::MIN_LEN {
            return Err(KeyError::TooShort { min: Self::MIN_LEN });
        }
        Ok(Self(text.as_bytes().to_vec()))
    }

    /// The raw bytes, for MAC keys and constant-time comparisons only.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Compares `candidate` with this secret in time independent of where they differ, so a
    /// bearer token cannot be guessed byte by byte from response times.
    pub fn matches(&self, candidate: &[u8]) -> bool {
        constant_time_eq(&self.0, candidate)
    }
}

/// Whether `a` and `b` are equal, in time that depends on neither their contents nor where they
/// differ: both are MACed under a fixed key and the tags compared with `verify`, which is
/// constant-time, so even the lengths stay hidden.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let tag = |bytes: &[u8]| {
        let mut mac = HmacSha256::new_from_slice(b"flashgate constant-time comparison")
            .expect("HMAC accepts keys of any length");
        mac.update(bytes);
        mac
    };
    tag(a).verify(&tag(b).finalize().into_bytes()).is_ok()
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Why a key or secret was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum KeyError {
    /// The secret is shorter than [`Secret::MIN_LEN`].
    #[error("must be at least {min} bytes long")]
    TooShort {
        /// The minimum length.
        min: usize,
    },
    /// The key id is empty, too long or has characters outside `[A-Za-z0-9_-]`.
    #[error("key id must be 1 to 16 characters of [A-Za-z0-9_-]")]
    BadKeyId,
    /// Two keys in one ring share an id, so verification could not tell them apart.
    #[error("key id {0:?} appears twice")]
    DuplicateKeyId(String),
    /// A ring needs a key.
    #[error("at least one key is required")]
    Empty,
    /// Every key is accept-only, so nothing could sign.
    #[error("at least one key must sign (not be accept_only)")]
    NoSigner,
}

/// A key id, carried in signed values so the verifier knows which key to check against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    /// Validates a key id: it appears inside tokens and headers, so the alphabet is small.
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        let ok = !text.is_empty()
            && text.len() <= 16
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(KeyError::BadKeyId)
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One named signing key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Names the key inside what it signs.
    pub id: KeyId,
    /// The HMAC key.
    pub secret: Secret,
}

/// The keys for one purpose: one signs, all verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyRing {
    keys: Vec<SigningKey>,
    signer: usize,
}

impl KeyRing {
    /// Builds a ring; the first key is the one that signs.
    pub fn new(keys: Vec<SigningKey>) -> Result<Self, KeyError> {
        Self::rotating(keys.into_iter().map(|k| (k, false)).collect())
    }

    /// Builds a ring of keys each marked accept-only or not; the first that is not signs. A key
    /// rotates in two steps without a moment where a signer uses a key a verifier lacks: add it
    /// accept-only everywhere, then let it sign.
    pub fn rotating(keys: Vec<(SigningKey, bool)>) -> Result<Self, KeyError> {
        if keys.is_empty() {
            return Err(KeyError::Empty);
        }
        for (i, (key, _)) in keys.iter().enumerate() {
            if keys[..i].iter().any(|(k, _)| k.id == key.id) {
                return Err(KeyError::DuplicateKeyId(key.id.as_str().to_owned()));
            }
        }
        let signer = keys
            .iter()
            .position(|(_, accept_only)| !accept_only)
            .ok_or(KeyError::NoSigner)?;
        Ok(Self {
            keys: keys.into_iter().map(|(k, _)| k).collect(),
            signer,
        })
    }

    /// The key new values are signed with.
    pub fn current(&self) -> &SigningKey {
        &self.keys[self.signer]
    }

    /// Every key the ring accepts, the signing one among them.
    pub fn keys(&self) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter()
    }

    /// The key with this id, if the ring still accepts it.
    pub fn find(&self, id: &str) -> Option<&SigningKey> {
        self.keys.iter().find(|k| k.id.as_str() == id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(id: &str) -> SigningKey {
        SigningKey {
            id: KeyId::parse(id).unwrap(),
            secret: Secret::parse("0123456789abcdef-secret").unwrap(),
        }
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::parse("a-very-secret-value!").unwrap();
        assert!(!format!("{s:?}").contains("secret-value"));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert_eq!(Secret::parse("short"), Err(KeyError::TooShort { min: 16 }));
    }

    #[test]
    fn secret_matching_is_exact() {
        let s = Secret::parse("admin-token-0123456789").unwrap();
        assert!(s.matches(b"admin-token-0123456789"));
        assert!(!s.matches(b"admin-token-012345678"));
        assert!(!s.matches(b""));
    }

    #[test]
    fn bad_key_ids_are_refused() {
        assert_eq!(KeyId::parse(""), Err(KeyError::BadKeyId));
        assert_eq!(KeyId::parse("a.b"), Err(KeyError::BadKeyId));
        assert_eq!(KeyId::parse(&"k".repeat(17)), Err(KeyError::BadKeyId));
    }

    #[test]
    fn rings_need_unique_ids_and_a_key() {
        assert_eq!(KeyRing::new(vec![]), Err(KeyError::Empty));
        assert!(matches!(
            KeyRing::new(vec![key("a"), key("a")]),
            Err(KeyError::DuplicateKeyId(_))
        ));
        let ring = KeyRing::new(vec![key("new"), key("old")]).unwrap();
        assert_eq!(ring.current().id.as_str(), "new");
        assert!(ring.find("old").is_some());
        assert!(ring.find("gone").is_none());
    }

    #[test]
    fn an_accept_only_key_verifies_but_never_signs() {
        let ring = KeyRing::rotating(vec![(key("new"), true), (key("old"), false)]).unwrap();
        assert_eq!(ring.current().id.as_str(), "old");
        assert!(ring.find("new").is_some());
        assert_eq!(
            KeyRing::rotating(vec![(key("a"), true)]),
            Err(KeyError::NoSigner)
        );
    }
}
