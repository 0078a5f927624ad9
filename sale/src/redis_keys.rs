//! Every Redis key flashgate uses, built here only. Every key of one event carries the hash tag
//! `{ev:ID}`, so they share a cluster slot and one Lua script can touch them all atomically, on a
//! single Redis or a Redis Cluster alike; the fleet's caps are keyed per user (each user its own
//! slot) and one for the fleet's origin rate.

use crate::ids::{EventId, UserId};

/// String: the fleet-wide cap state of `user` (its own hash tag, so users spread over shards).
pub fn fleet_user_cap(user: &UserId) -> String {
    format!("fg:cap:user:{{{}}}", user.as_str())
}

/// String: the fleet-wide origin rate's state.
pub const FLEET_ORIGIN_RATE: &str = "fg:cap:origin-rate";

/// The keys of one event.
#[derive(Debug, Clone)]
pub struct EventKeys {
    /// Hash: `total`, `remaining`, `reserved`, `paid` seat counters, plus the event's sale window
    /// and limits as the origins last seeded them. Invariant: total = remaining + reserved + paid.
    /// `expired` and `canceled` count seats that came back to stock each way (running totals).
    pub seats: String,
    /// Hash: user id → seats the user holds (reserved or paid).
    pub holders: String,
    /// Hash: purchase token nonce → order id; a nonce present here is burnt.
    pub nonces: String,
    /// Hash: order id → order record (JSON).
    pub orders: String,
    /// Sorted set: reserved order id scored by its payment deadline, for the expiry sweep.
    pub deadlines: String,
    /// Set: paid order ids not yet finished; emptied once the sale has ended.
    pub paid: String,
    /// Stream: every order state change, in order; the ledger consumes it into the database.
    pub stream: String,
    /// Stream: entries of `stream` the ledger could not read, set aside with the reason so one
    /// bad entry cannot stop the ledger; reconcile reports any as a problem.
    pub dead_letters: String,
    /// Hash: the waiting room's state (salt, seed, commitment, frozen entrant count, joined
    /// count, serving counter, paused, drawn).
    pub queue: String,
    /// Hash: entrant id (8 bytes) → join number, or position once drawn.
    pub queue_joined: String,
    /// List: entrant ids in join order; the first `frozen` are the draw's entrants.
    pub queue_order: String,
    /// Hash: entrant id → when its admission ends (Unix ms), for everyone ever admitted.
    pub queue_granted: String,
    /// Sorted set: entrant ids admitted and not yet bought, by admission end.
    pub queue_live: String,
    /// List: every admission as granted, `id:position:serving:ms`, for the audit.
    pub queue_grants: String,
    /// Hash: entrant id → the seats its live admission holds back (what its buyer may still buy).
    pub queue_live_seats: String,
    /// Sorted set: entrant id by the position it was admitted at.
    pub queue_granted_positions: String,
    /// List: `ms:serving` checkpoints of the serving counter over the last admission lifetime.
    pub queue_reached: String,
    /// Hash: user → that user's order ids at this event, space-separated, oldest first.
    pub orders_by_user: String,
    /// String: the lease of the edge running the draw (released when it finishes or fails).
    pub queue_draw_lease: String,
    /// Hash: shared access codes, by the SHA-256 of the code: `HASH` → uses left, `HASH:c` →
    /// its channel. The codes themselves are never stored.
    pub codes: String,
    /// String (bitmap), on a seated event: bit i is seat i of the event's seat map (grouped by
    /// category, best first; see `sale::seat_map`), 1 when held or sold.
    pub seat_map: String,
}

impl EventKeys {
    /// String: the classic-scheme purchase token of `user`, expiring with the token.
    pub fn stored_token(&self, user: &str) -> String {
        format!("{}:md5:{user}", self.seats.trim_end_matches(":seats"))
    }

    /// The keys of `event`.
    pub fn new(event: &EventId) -> Self {
        let tag = format!("{{ev:{}}}", event.as_str());
        Self {
            seats: format!("{tag}:seats"),
            holders: format!("{tag}:holders"),
            nonces: format!("{tag}:nonces"),
            orders: format!("{tag}:orders"),
            deadlines: format!("{tag}:deadlines"),
            paid: format!("{tag}:paid"),
            stream: format!("{tag}:stream"),
            dead_letters: format!("{tag}:ledger-dead"),
            queue: format!("{tag}:queue"),
            queue_joined: format!("{tag}:queue:joined"),
            queue_order: format!("{tag}:queue:order"),
            queue_granted: format!("{tag}:queue:granted"),
            queue_live: format!("{tag}:queue:live"),
            queue_grants: format!("{tag}:queue:grants"),
            queue_granted_positions: format!("{tag}:queue:granted-positions"),
            queue_reached: format!("{tag}:queue:reached"),
            queue_draw_lease: format!("{tag}:queue:drawing"),
            queue_live_seats: format!("{tag}:queue:live-seats"),
            orders_by_user: format!("{tag}:orders:by-user"),
            codes: format!("{tag}:codes"),
            seat_map: format!("{tag}:seat-map"),
        }
    }

    /// Hash, on a seated event: bit → seat id under the venue layout `fingerprint`, so the
    /// scripts write seat ids into orders; one per layout, so a changed venue never overwrites
    /// the ids of the one its seats were sold under.
    pub fn seat_ids(&self, fingerprint: &str) -> String {
        format!(
            "{}:seat-ids:{fingerprint}",
            self.seats.trim_end_matches(":seats")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_keys_share_the_event_hash_tag() {
        let keys = EventKeys::new(&EventId::parse("demo").unwrap());
        for key in [
            &keys.seats,
            &keys.holders,
            &keys.nonces,
            &keys.orders,
            &keys.deadlines,
            &keys.paid,
            &keys.stream,
            &keys.dead_letters,
            &keys.queue,
            &keys.queue_joined,
            &keys.queue_order,
            &keys.queue_granted,
            &keys.queue_live,
            &keys.queue_grants,
            &keys.queue_granted_positions,
            &keys.queue_reached,
            &keys.queue_draw_lease,
            &keys.queue_live_seats,
            &keys.orders_by_user,
            &keys.seat_map,
            &keys.seat_ids("f"),
        ] {
            assert!(key.starts_with("{ev:demo}:"), "{key}");
        }
    }
}
