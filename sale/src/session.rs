//! User sessions: `who is this` for every purchase request. The site's login service mints them
//! with the shared session key (`flashgate mint-session` does the same); the edge only verifies.

use thiserror::Error;

use crate::envelope::{self, Purpose};
use crate::ids::UserId;
use crate::key_ring::KeyRing;
use crate::time::UnixMillis;

/// A verified session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The signed-in user.
    pub user: UserId,
    /// When the session stops being accepted.
    pub expires_at: UnixMillis,
}

/// Why a session was refused. Every variant answers 401 `bad_session`; the split exists for logs
/// and metrics only.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SessionError {
    /// Not a session envelope, a bad signature, an unknown key or an invalid user id.
    #[error("session is not valid")]
    Invalid,
    /// Signed correctly but past its expiry.
    #[error("session has expired")]
    Expired,
}

/// Mints a session for `user` valid until `expires_at`.
pub fn mint(ring: &KeyRing, user: &UserId, expires_at: UnixMillis) -> String {
    envelope::seal(
        ring,
        Purpose::Session,
        &[user.as_str(), &expires_at.to_string()],
    )
}

/// Verifies a session presented at `now`.
pub fn verify(ring: &KeyRing, text: &str, now: UnixMillis) -> Result<Session, SessionError> {
    let fields = envelope::open(ring, Purpose::Session, text).map_err(|_| SessionError::Invalid)?;
    let [user, expires_at] = fields.as_slice() else {
        return Err(SessionError::Invalid);
    };
    let user = UserId::parse(user).map_err(|_| SessionError::Invalid)?;
    let expires_at: UnixMillis = expires_at.parse().map_err(|_| SessionError::Invalid)?;
    if now >= expires_at {
        return Err(SessionError::Expired);
    }
    Ok(Session { user, expires_at })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::ring;

    #[test]
    fn a_minted_session_verifies_until_it_expires() {
        let r = ring(&[("s1", "session-key-0123456789")]);
        let alice = UserId::parse("alice").unwrap();
        let text = mint(&r, &alice, 2_000);
        assert_eq!(verify(&r, &text, 1_999).unwrap().user, alice);
        assert_eq!(verify(&r, &text, 2_000), Err(SessionError::Expired));
    }

    #[test]
    fn forged_sessions_are_invalid() {
        let r = ring(&[("s1", "session-key-0123456789")]);
        let other = ring(&[("s1", "another-key-0123456789")]);
        let text = mint(&other, &UserId::parse("alice").unwrap(), 2_000);
        assert_eq!(verify(&r, &text, 1), Err(SessionError::Invalid));
        assert_eq!(verify(&r, "garbage", 1), Err(SessionError::Invalid));
    }
}
