//! The waiting room in front of an event's sale (`[events.queue]`), at the edge. Buyers join the
//! pre-queue from `opens_before` until `starts_at`; at `starts_at` their order is drawn from a
//! committed seed (docs/fairness.md, [`sale::draw`]); later joiners queue behind, first come
//! first served. A fleet-wide serving counter in Redis advances at `admit_rate`; a buyer whose
//! position it has reached is granted an admission for `admission_ttl`, and only an admitted
//! buyer gets a purchase token.
//!
//! State lives in Redis under the event's hash tag (one slot, so it works on a cluster as on one
//! server): [`store`] holds the scripts, [`keeper`] opens the room, advances the counter, runs
//! the draw and refreshes this edge's [`QueueView`] every 250 ms; [`ticket`] signs a buyer's
//! place so polls need no Redis call; [`serve`] answers the endpoints; [`pow`] checks the
//! optional proof of work.

pub mod drawing;
pub mod keeper;
pub mod operator;
pub mod pow;
mod requests;
pub mod serve;
pub mod store;
pub mod ticket;

use std::collections::HashMap;

use arc_swap::ArcSwap;
use sale::config::QueueConfig;
use serde::Serialize;

/// One event's waiting room as this edge last read it from Redis.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueState {
    /// The event's salt for entrant ids, once the room opened.
    pub salt: Option<Vec<u8>>,
    /// The commitment to the draw's seed, once the room opened.
    pub commitment: Option<String>,
    /// The seed, revealed once drawn.
    pub seed: Option<String>,
    /// How many joined before `starts_at` (the draw's entrants), once frozen.
    pub frozen: Option<u64>,
    /// How many joined in all.
    pub joined: u64,
    /// Whether the draw's positions are written.
    pub drawn: bool,
    /// Positions admitted so far.
    pub serving: u64,
    /// Whether the operator paused admission.
    pub paused: bool,
    /// Admissions granted.
    pub granted: u64,
}

/// Every queued event's state, swapped in whole by the keeper.
#[derive(Debug, Default)]
pub struct QueueView {
    states: ArcSwap<HashMap<String, QueueState>>,
}

impl QueueView {
    /// The state of `event`'s room (empty if not read yet).
    pub fn get(&self, event: &str) -> QueueState {
        self.states.load().get(event).cloned().unwrap_or_default()
    }

    /// Replaces the states with a fresh read.
    pub fn store(&self, states: HashMap<String, QueueState>) {
        self.states.store(std::sync::Arc::new(states));
    }
}

/// The queue document of the contract: `GET`/`POST /api/events/{id}/queue`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueDocument {
    /// `not_joined`, `pre_queue`, `waiting`, `admitted`, `expired`, `sold_out` or `ended`.
    pub state: &'static str,
    /// Place in line (1 = next), once known.
    pub position: Option<u64>,
    /// People ahead, once the position is known.
    pub ahead: Option<u64>,
    /// Estimated seconds until admission (or, in the pre-queue, until the draw).
    pub eta_seconds: Option<u64>,
    /// When to poll again.
    pub poll_after_seconds: u64,
    /// When the admission ends (RFC 3339), while admitted.
    pub admitted_until: Option<String>,
    /// The buyer's entrant id, to find themselves in the published list.
    pub entrant: Option<String>,
    /// The signed ticket (also set as a cookie when it changed), for clients without cookies;
    /// a poll whose ticket is unchanged gets the text it sent back.
    pub ticket: Option<String>,
}

impl QueueDocument {
    /// A document with only a state and a poll interval.
    pub fn bare(state: &'static str, poll_after_seconds: u64) -> Self {
        Self {
            state,
            position: None,
            ahead: None,
            eta_seconds: None,
            poll_after_seconds,
            admitted_until: None,
            entrant: None,
            ticket: None,
        }
    }
}

/// A poll interval for a wait of `eta` seconds: a quarter of it, between the room's shortest and
/// longest poll ([`QueueConfig::longest_poll`]).
pub fn poll_after(eta: u64, queue: &QueueConfig) -> u64 {
    (eta / 4).clamp(
        QueueConfig::SHORTEST_POLL.as_secs(),
        queue.longest_poll().as_secs(),
    )
}

/// Seconds to admit `people` at one per `period`.
pub fn eta(people: u64, period: std::time::Duration) -> u64 {
    (period.as_secs_f64() * people as f64).ceil() as u64
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn room(admission_ttl: Duration) -> QueueConfig {
        QueueConfig {
            opens_before: Duration::from_secs(60),
            admit_rate: sale::config::Rate::parse("10/s", Some(1)).expect("a valid rate"),
            admission_ttl,
            pow_bits: 0,
        }
    }

    #[test]
    fn a_buyer_polling_as_told_claims_a_place_before_it_lapses() {
        for ttl in [3, 10, 60, 600] {
            let queue = room(Duration::from_secs(ttl));
            for eta in [0, 1, 10, 100, 10_000] {
                let poll = poll_after(eta, &queue);
                assert!(poll >= 1, "{eta}");
                assert!(3 * poll <= ttl, "ttl {ttl}s, eta {eta}s: poll {poll}s");
            }
        }
        assert_eq!(poll_after(10_000, &room(Duration::from_secs(600))), 30);
    }
}
