//! The waiting room's draw, exactly as docs/fairness.md publishes it, so anyone can recompute it
//! from what the edge publishes (the seed once revealed, the entrant list) and `flashgate audit`
//! can check the admissions against it.
//!
//! - An entrant is a per-event hashed id: the first 8 bytes of
//!   `HMAC-SHA256(salt, "flashgate/entrant/v1" 0x00 event 0x00 user)`, written as 16 hex digits.
//!   The salt is the event's own secret, so the published list names nobody; each buyer is told
//!   their own id when they join.
//! - The commitment, published when the pre-queue opens, is `hex(SHA-256(seed))` of a 32-byte
//!   random seed revealed after the draw.
//! - The draw key binds the seed to the frozen list: `K = SHA-256("flashgate/draw/v1" 0x00 seed
//!   D)` with `D = SHA-256(id_1 ‖ … ‖ id_N)` over the 8-byte ids in join order.
//! - Entrants are ordered by `SHA-256(K ‖ id)`, ascending as bytes (ties, which need a SHA-256
//!   collision, by join order); an entrant's position is 1 + its place in that order. Late
//!   joiners follow, first come first served: positions N+1, N+2, …

use std::fmt;

use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::ids::{EventId, UserId};
use crate::key_ring::HmacSha256;

/// The name of this algorithm, published with the draw.
pub const ALGORITHM: &str = "flashgate-draw-v1: order by SHA-256(K || id), K = SHA-256(\"flashgate/draw/v1\" 0x00 || seed || SHA-256(ids in join order)); ids = first 8 bytes of HMAC-SHA256(salt, \"flashgate/entrant/v1\" 0x00 event 0x00 user)";

/// One entrant: a per-event hashed id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntrantId(pub [u8; 8]);

impl EntrantId {
    /// Reads 16 hex digits.
    pub fn parse(text: &str) -> Option<Self> {
        let bytes = hex::decode(text).ok()?;
        Some(Self(bytes.try_into().ok()?))
    }
}

impl fmt::Display for EntrantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// `user`'s entrant id at `event`, under the event's `salt`.
pub fn entrant_id(salt: &[u8], event: &EventId, user: &UserId) -> EntrantId {
    let mut mac = HmacSha256::new_from_slice(salt).expect("HMAC accepts keys of any length");
    mac.update(b"flashgate/entrant/v1\0");
    mac.update(event.as_str().as_bytes());
    mac.update(b"\0");
    mac.update(user.as_str().as_bytes());
    let full = mac.finalize().into_bytes();
    let mut id = [0u8; 8];
    id.copy_from_slice(&full[..8]);
    EntrantId(id)
}

/// The commitment to `seed`: `hex(SHA-256(seed))`.
pub fn commitment(seed: &[u8]) -> String {
    hex::encode(Sha256::digest(seed))
}

/// The draw key of `seed` and the frozen list `entrants` (in join order).
fn draw_key(seed: &[u8], entrants: &[EntrantId]) -> [u8; 32] {
    let mut list = Sha256::new();
    for id in entrants {
        list.update(id.0);
    }
    let mut key = Sha256::new();
    key.update(b"flashgate/draw/v1\0");
    key.update(seed);
    key.update(list.finalize());
    key.finalize().into()
}

/// The drawn positions: `positions[i]` is the position (from 1) of the entrant who joined i-th.
pub fn draw(seed: &[u8], entrants: &[EntrantId]) -> Vec<u32> {
    let key = draw_key(seed, entrants);
    let mut ranked: Vec<([u8; 32], usize)> = entrants
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut rank = Sha256::new();
            rank.update(key);
            rank.update(id.0);
            (rank.finalize().into(), i)
        })
        .collect();
    ranked.sort_unstable();
    let mut positions = vec![0u32; entrants.len()];
    for (place, (_, joined)) in ranked.into_iter().enumerate() {
        positions[joined] = u32::try_from(place + 1).unwrap_or(u32::MAX);
    }
    positions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: u8) -> Vec<EntrantId> {
        (0..n)
            .map(|i| EntrantId([i, 1, 2, 3, 4, 5, 6, 7]))
            .collect()
    }

    /// The documented formula written out once more, step by step, independently of `draw`.
    fn by_the_document(seed: &[u8], entrants: &[EntrantId]) -> Vec<u32> {
        let concatenated: Vec<u8> = entrants.iter().flat_map(|e| e.0).collect();
        let d = Sha256::digest(&concatenated);
        let mut k_input = b"flashgate/draw/v1\0".to_vec();
        k_input.extend_from_slice(seed);
        k_input.extend_from_slice(&d);
        let k = Sha256::digest(&k_input);
        let mut order: Vec<usize> = (0..entrants.len()).collect();
        let rank = |i: usize| {
            let mut input = k.to_vec();
            input.extend_from_slice(&entrants[i].0);
            Sha256::digest(&input)
        };
        order.sort_by_key(|i| (rank(*i), *i));
        let mut positions = vec![0; entrants.len()];
        for (place, i) in order.into_iter().enumerate() {
            positions[i] = place as u32 + 1;
        }
        positions
    }

    #[test]
    fn the_draw_for_a_fixed_seed_and_list_is_the_documented_one() {
        let seed = [7u8; 32];
        let entrants = ids(6);
        let positions = draw(&seed, &entrants);
        assert_eq!(positions, by_the_document(&seed, &entrants));
        // Pinned, so a change to the algorithm cannot pass unnoticed.
        assert_eq!(positions, [5, 6, 3, 1, 2, 4]);
        let mut sorted = positions.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [1, 2, 3, 4, 5, 6], "a permutation");
    }

    #[test]
    fn the_draw_depends_on_the_seed_and_on_the_whole_list() {
        let entrants = ids(6);
        assert_ne!(draw(&[7u8; 32], &entrants), draw(&[8u8; 32], &entrants));
        // The same five entrants are ordered otherwise once the list differs: were the list not
        // part of the draw key, their relative order would be the same in both draws.
        let mut fewer = entrants.clone();
        fewer.pop();
        let order_of_first_five = |positions: &[u32]| {
            let mut who: Vec<usize> = (0..5).collect();
            who.sort_by_key(|&i| positions[i]);
            who
        };
        assert_ne!(
            order_of_first_five(&draw(&[7u8; 32], &fewer)),
            order_of_first_five(&draw(&[7u8; 32], &entrants))
        );
    }

    #[test]
    fn over_many_draws_every_position_is_equally_likely() {
        const N: usize = 5;
        const DRAWS: u32 = 20_000;
        let entrants = ids(N as u8);
        let mut counts = [[0u32; N]; N];
        for d in 0..DRAWS {
            let seed = Sha256::digest(d.to_le_bytes());
            for (who, position) in draw(&seed, &entrants).into_iter().enumerate() {
                counts[who][position as usize - 1] += 1;
            }
        }
        let expected = f64::from(DRAWS) / N as f64;
        for (who, row) in counts.iter().enumerate() {
            let chi_square: f64 = row
                .iter()
                .map(|&c| (f64::from(c) - expected).powi(2) / expected)
                .sum();
            // 4 degrees of freedom: 18.47 is the p = 0.001 critical value. The seeds are fixed, so
            // the statistic is too: this cannot flake.
            assert!(
                chi_square < 18.47,
                "entrant {who}: chi-square {chi_square:.2} over {row:?}"
            );
        }
    }

    #[test]
    fn entrant_ids_are_per_event_and_per_salt() {
        let user = UserId::parse("alice").unwrap();
        let a = EventId::parse("a").unwrap();
        let b = EventId::parse("b").unwrap();
        let id = entrant_id(b"salt-one", &a, &user);
        assert_ne!(id, entrant_id(b"salt-one", &b, &user));
        assert_ne!(id, entrant_id(b"salt-two", &a, &user));
        assert_eq!(EntrantId::parse(&id.to_string()), Some(id));
        assert_eq!(EntrantId::parse("xyz"), None);
        assert_eq!(commitment(b"seed").len(), 64);
    }
}
