//! Where an event lives in Redis. Every key of one event carries the hash tag `{ev:ID}`, so they
//! share a cluster slot and one Lua script can touch them all atomically, on a single Redis or a
//! Redis Cluster alike.

use crate::ids::EventId;

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
        }
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
        ] {
            assert!(key.starts_with("{ev:demo}:"), "{key}");
        }
    }
}
