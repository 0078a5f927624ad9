//! The operator dashboard's sign-in: a browser cannot send the admin bearer token on a page
//! load, so an operator trades it once for a cookie holding this session. It is an envelope
//! keyed by the admin token itself, so changing the token signs every dashboard out, and there
//! is no server-side session store to bound or replicate.

use crate::envelope::{self, Purpose};
use crate::key_ring::{KeyId, KeyRing, Secret, SigningKey};
use crate::time::UnixMillis;

/// The cookie that carries an operator session.
pub const COOKIE: &str = "fg_admin";

/// How long a dashboard stays signed in: one working day, so a sale is never interrupted by a
/// sign-in prompt, and a forgotten browser does not stay an operator for ever.
pub const TTL_MILLIS: UnixMillis = 12 * 60 * 60 * 1000;

fn ring(admin_token: &Secret) -> KeyRing {
    let key = SigningKey {
        id: KeyId::parse("admin").expect("a constant, valid key id"),
        secret: admin_token.clone(),
    };
    KeyRing::new(vec![key]).expect("one key is a valid ring")
}

/// A session for an operator who presented `admin_token` at `now`.
pub fn mint(admin_token: &Secret, now: UnixMillis) -> String {
    let expires_at = now.saturating_add(TTL_MILLIS);
    envelope::seal(
        &ring(admin_token),
        Purpose::OperatorSession,
        &[&expires_at.to_string()],
    )
}

/// Whether `text` is a session minted with `admin_token` and not yet expired at `now`.
pub fn verify(admin_token: &Secret, text: &str, now: UnixMillis) -> bool {
    let Ok(fields) = envelope::open(&ring(admin_token), Purpose::OperatorSession, text) else {
        return false;
    };
    match fields.as_slice() {
        [expires_at] => expires_at.parse::<UnixMillis>().is_ok_and(|at| now < at),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(text: &str) -> Secret {
        Secret::parse(text).unwrap()
    }

    #[test]
    fn a_session_verifies_until_it_expires() {
        let admin = token("admin-token-0123456789");
        let session = mint(&admin, 1_000);
        assert!(verify(&admin, &session, 1_000));
        assert!(verify(&admin, &session, 1_000 + TTL_MILLIS - 1));
        assert!(!verify(&admin, &session, 1_000 + TTL_MILLIS));
    }

    #[test]
    fn a_new_admin_token_signs_everyone_out() {
        let session = mint(&token("admin-token-0123456789"), 1_000);
        assert!(!verify(&token("another-token-0123456789"), &session, 1_001));
    }

    #[test]
    fn garbage_and_other_envelopes_are_refused() {
        let admin = token("admin-token-0123456789");
        assert!(!verify(&admin, "", 1));
        assert!(!verify(&admin, "admin.e30.AAAA", 1));
        let ring = ring(&admin);
        let user_session = envelope::seal(&ring, Purpose::Session, &["99999999999999"]);
        assert!(!verify(&admin, &user_session, 1));
    }
}
