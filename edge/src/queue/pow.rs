//! The optional proof of work on joining (`pow_bits > 0`), Queue-it style, against bots minting
//! places in bulk. `GET …/queue/challenge` hands out a signed challenge naming the event, the
//! session's user (if any) and an expiry; the client finds a `nonce` such that
//! `SHA-256(challenge ":" nonce)` starts with `bits` zero bits, and sends both with its join. The
//! check is stateless (signature, expiry, event, user, bits), and a solution is bound to its user,
//! so one solved challenge cannot be shared between accounts.

use std::time::Duration;

use rand::RngCore;
use sale::envelope::{self, Purpose};
use sale::key_ring::KeyRing;
use sale::{EventId, Refusal, UserId};
use sha2::{Digest, Sha256};

/// How long a challenge may be worked on.
pub const CHALLENGE_TTL: Duration = Duration::from_secs(120);

/// A new challenge for `user` (empty if signed out) at `event`, and when it expires.
pub fn challenge(ring: &KeyRing, event: &EventId, user: &str, now: u64) -> (String, u64) {
    let expires_at = sale::time::add(now, CHALLENGE_TTL);
    let mut random = [0u8; 12];
    rand::rng().fill_bytes(&mut random);
    let text = envelope::seal(
        ring,
        Purpose::PowChallenge,
        &[
            event.as_str(),
            user,
            &expires_at.to_string(),
            &hex::encode(random),
        ],
    );
    (text, expires_at)
}

/// How many zero bits `hash` starts with.
pub fn leading_zero_bits(hash: &[u8]) -> u32 {
    let mut bits = 0;
    for byte in hash {
        if *byte == 0 {
            bits += 8;
        } else {
            return bits + byte.leading_zeros();
        }
    }
    bits
}

/// The work a `nonce` does on `challenge`.
pub fn work(challenge: &str, nonce: &str) -> u32 {
    let mut hash = Sha256::new();
    hash.update(challenge.as_bytes());
    hash.update(b":");
    hash.update(nonce.as_bytes());
    leading_zero_bits(&hash.finalize())
}

/// Checks a join's proof: 400 `bad_pow` for anything but a genuine, live challenge of this
/// event and user solved to `bits`.
pub fn verify(
    ring: &KeyRing,
    event: &EventId,
    user: &UserId,
    bits: u32,
    challenge: &str,
    nonce: &str,
    now: u64,
) -> Result<(), Refusal> {
    let fields =
        envelope::open(ring, Purpose::PowChallenge, challenge).map_err(|_| Refusal::BadPow)?;
    let [e, u, expires_at, _] = fields.as_slice() else {
        return Err(Refusal::BadPow);
    };
    let live = expires_at.parse::<u64>().is_ok_and(|t| t > now);
    if e != event.as_str() || u != user.as_str() || !live || nonce.len() > 64 {
        return Err(Refusal::BadPow);
    }
    if work(challenge, nonce) >= bits {
        Ok(())
    } else {
        Err(Refusal::BadPow)
    }
}

/// Solves `challenge` to `bits` (what a client does; used by `rush` and the tests).
pub fn solve(challenge: &str, bits: u32) -> String {
    (0u64..)
        .map(|n| n.to_string())
        .find(|nonce| work(challenge, nonce) >= bits)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sale::key_ring::{KeyId, Secret, SigningKey};

    fn ring() -> KeyRing {
        KeyRing::new(vec![SigningKey {
            id: KeyId::parse("t1").unwrap(),
            secret: Secret::parse("pow-test-key-0123456789").unwrap(),
        }])
        .unwrap()
    }

    #[test]
    fn a_solved_challenge_passes_only_for_its_user_event_and_time() {
        let (event, alice) = (
            EventId::parse("demo").unwrap(),
            UserId::parse("alice").unwrap(),
        );
        let (text, expires_at) = challenge(&ring(), &event, "alice", 1_000);
        let nonce = solve(&text, 8);
        assert!(work(&text, &nonce) >= 8);
        assert_eq!(
            verify(&ring(), &event, &alice, 8, &text, &nonce, 2_000),
            Ok(())
        );
        let bob = UserId::parse("bob").unwrap();
        assert_eq!(
            verify(&ring(), &event, &bob, 8, &text, &nonce, 2_000),
            Err(Refusal::BadPow)
        );
        let other = EventId::parse("other").unwrap();
        assert_eq!(
            verify(&ring(), &other, &alice, 8, &text, &nonce, 2_000),
            Err(Refusal::BadPow)
        );
        let late = verify(&ring(), &event, &alice, 8, &text, &nonce, expires_at);
        assert_eq!(late, Err(Refusal::BadPow));
        let unsolved = (0u64..)
            .map(|n| n.to_string())
            .find(|n| work(&text, n) < 8)
            .unwrap();
        assert_eq!(
            verify(&ring(), &event, &alice, 8, &text, &unsolved, 2_000),
            Err(Refusal::BadPow)
        );
        assert_eq!(
            verify(&ring(), &event, &alice, 8, "forged", &nonce, 2_000),
            Err(Refusal::BadPow)
        );
    }

    #[test]
    fn zero_bits_are_counted_across_bytes() {
        assert_eq!(leading_zero_bits(&[0, 0, 0b0001_0000]), 19);
        assert_eq!(leading_zero_bits(&[0xff]), 0);
        assert_eq!(leading_zero_bits(&[0, 0]), 16);
    }
}
