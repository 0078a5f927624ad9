//! Purchase tokens: the hidden part of the buy URL. Issued by the edge only once the sale is open,
//! bound to one user and one event, short-lived, and single use (the origin burns the nonce in the
//! same Lua step that reserves the seat).

use rand::RngCore;
use thiserror::Error;

use crate::envelope::{self, Purpose};
use crate::ids::{EventId, UserId};
use crate::key_ring::KeyRing;
use crate::time::UnixMillis;

/// The claims of a verified purchase token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseToken {
    /// The event this token buys into.
    pub event: EventId,
    /// The only user who may use it.
    pub user: UserId,
    /// When it stops being accepted.
    pub expires_at: UnixMillis,
    /// Random, unique per token: the origin records it so the token buys at most once and a
    /// retried request finds its earlier order.
    pub nonce: String,
}

/// Why a token was refused, each with the contract code the edge answers.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    /// 403 `bad_token`: malformed, forged, signed with an unknown key, or for another event.
    #[error("purchase token is not valid here")]
    Invalid,
    /// 403 `wrong_user`: genuine, but issued to somebody else.
    #[error("purchase token belongs to another user")]
    WrongUser,
    /// 403 `token_expired`: genuine and yours, but too old to buy. Its claims come with it: the
    /// order such a token bought is still its buyer's to see again.
    #[error("purchase token has expired")]
    Expired(PurchaseToken),
}

/// Issues a token for `user` at `event`, valid until `expires_at`.
pub fn issue(
    ring: &KeyRing,
    event: &EventId,
    user: &UserId,
    expires_at: UnixMillis,
) -> (String, PurchaseToken) {
    let mut nonce = [0u8; 16];
    rand::rng().fill_bytes(&mut nonce);
    let nonce = hex::encode(nonce);
    let text = envelope::seal(
        ring,
        Purpose::PurchaseToken,
        &[
            event.as_str(),
            user.as_str(),
            &expires_at.to_string(),
            &nonce,
        ],
    );
    let claims = PurchaseToken {
        event: event.clone(),
        user: user.clone(),
        expires_at,
        nonce,
    };
    (text, claims)
}

/// Verifies `text` for `user` buying at `event` at `now`. The MAC is checked first, so nothing
/// about a forged token's contents leaks through which error comes back.
pub fn verify(
    ring: &KeyRing,
    text: &str,
    event: &EventId,
    user: &UserId,
    now: UnixMillis,
) -> Result<PurchaseToken, TokenError> {
    let fields =
        envelope::open(ring, Purpose::PurchaseToken, text).map_err(|_| TokenError::Invalid)?;
    let [token_event, token_user, expires_at, nonce] = fields.as_slice() else {
        return Err(TokenError::Invalid);
    };
    if token_event != event.as_str() {
        return Err(TokenError::Invalid);
    }
    if token_user != user.as_str() {
        return Err(TokenError::WrongUser);
    }
    let expires_at: UnixMillis = expires_at.parse().map_err(|_| TokenError::Invalid)?;
    let claims = PurchaseToken {
        event: event.clone(),
        user: user.clone(),
        expires_at,
        nonce: nonce.clone(),
    };
    if now >= expires_at {
        return Err(TokenError::Expired(claims));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::envelope::tests::ring;

    fn ids() -> (EventId, UserId, UserId) {
        (
            EventId::parse("demo").unwrap(),
            UserId::parse("alice").unwrap(),
            UserId::parse("bob").unwrap(),
        )
    }

    #[test]
    fn a_token_verifies_for_its_user_and_event_until_expiry() {
        let r = ring(&[("t1", "token-key-0123456789")]);
        let (event, alice, _) = ids();
        let (text, claims) = issue(&r, &event, &alice, 5_000);
        assert_eq!(verify(&r, &text, &event, &alice, 4_999).unwrap(), claims);
        assert_eq!(
            verify(&r, &text, &event, &alice, 5_000),
            Err(TokenError::Expired(claims))
        );
    }

    #[test]
    fn tokens_are_bound_to_user_and_event() {
        let r = ring(&[("t1", "token-key-0123456789")]);
        let (event, alice, bob) = ids();
        let (text, _) = issue(&r, &event, &alice, 5_000);
        assert_eq!(
            verify(&r, &text, &event, &bob, 1),
            Err(TokenError::WrongUser)
        );
        let other = EventId::parse("other").unwrap();
        assert_eq!(
            verify(&r, &text, &other, &alice, 1),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn nonces_are_unique() {
        let r = ring(&[("t1", "token-key-0123456789")]);
        let (event, alice, _) = ids();
        let (_, a) = issue(&r, &event, &alice, 5_000);
        let (_, b) = issue(&r, &event, &alice, 5_000);
        assert_ne!(a.nonce, b.nonce);
    }

    #[test]
    fn a_session_cannot_pose_as_a_token() {
        let r = ring(&[("t1", "token-key-0123456789")]);
        let (event, alice, _) = ids();
        let session = crate::session::mint(&r, &alice, 5_000);
        assert_eq!(
            verify(&r, &session, &event, &alice, 1),
            Err(TokenError::Invalid)
        );
    }
}
