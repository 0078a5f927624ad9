//! Local stock pre-deduction: each origin holds an in-memory allowance per event, its weighted
//! share of the seats plus a buffer, and spends it with a lock-free compare-and-swap before it
//! calls Redis. Once the allowance is spent, the node answers "sold out" without touching Redis.
//!
//! Redis stays the authority, so the allowance can never cause an oversell; it only filters. It
//! must not strand seats either: a refill task reads Redis every 250 ms and tops this node's
//! allowance up to its share of what remains, so seats left by a dead node, uneven load or
//! expired reservations are sold by whoever is still selling. When Redis reports zero seats the node remembers the event as sold out
//! (and tells the edge); when seats come back, it forgets.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use redis::aio::ConnectionManager;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use tokio::sync::watch;

use crate::metrics::{EventLabel, Metrics};

/// How often allowances are checked against Redis.
pub const REFILL_PERIOD: Duration = Duration::from_millis(250);

/// The answer to "may this buy go to Redis?".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Yes; the seats are deducted locally.
    Granted,
    /// This node's allowance is spent; Redis may still have seats (for other nodes, or given
    /// back by buys in flight).
    Exhausted,
    /// Redis said the event has no seats left.
    SoldOut,
}

#[derive(Debug)]
struct Allowance {
    seats: AtomicI64,
    sold_out: AtomicBool,
    buffer: i64,
}

/// Allowances by event id.
#[derive(Debug)]
pub struct LocalStock {
    events: HashMap<String, Allowance>,
    weight: i64,
    total_weight: i64,
}

impl LocalStock {
    /// Allowances for `events` on a node of `weight` among nodes weighing `total_weight`.
    pub fn new(
        events: &[EventConfig],
        weight: u64,
        total_weight: u64,
        buffer_percent: u32,
    ) -> Self {
        let events = events
            .iter()
            .map(|event| {
                let buffer = (u64::from(event.stock) * u64::from(buffer_percent)).div_ceil(100);
                let buffer = i64::try_from(buffer).unwrap_or(i64::MAX);
                let allowance = Allowance {
                    seats: AtomicI64::new(0),
                    sold_out: AtomicBool::new(false),
                    buffer,
                };
                (event.id.as_str().to_owned(), allowance)
            })
            .collect();
        Self {
            events,
            weight: i64::try_from(weight.max(1)).unwrap_or(1),
            total_weight: i64::try_from(total_weight.max(1)).unwrap_or(1),
        }
    }

    /// This node's share of `remaining` seats: weighted, plus the buffer, never more than remain.
    fn share(&self, allowance: &Allowance, remaining: i64) -> i64 {
        // Rounded up, so every node's share is at least one seat while any remain.
        let weighted = (remaining * self.weight + self.total_weight - 1) / self.total_weight;
        (weighted + allowance.buffer).min(remaining)
    }

    /// Tries to deduct `quantity` seats of `event` locally.
    pub fn take(&self, event: &str, quantity: u32) -> Take {
        let Some(allowance) = self.events.get(event) else {
            return Take::Granted;
        };
        if allowance.sold_out.load(Ordering::Acquire) {
            return Take::SoldOut;
        }
        let quantity = i64::from(quantity);
        let taken = allowance
            .seats
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |seats| {
                (seats >= quantity).then_some(seats - quantity)
            });
        if taken.is_ok() {
            Take::Granted
        } else {
            Take::Exhausted
        }
    }

    /// Returns seats taken for a buy that did not reserve them.
    pub fn give_back(&self, event: &str, quantity: u32) {
        if let Some(allowance) = self.events.get(event) {
            allowance
                .seats
                .fetch_add(i64::from(quantity), Ordering::AcqRel);
        }
    }

    /// Learns from a script reply whether seats remain, without refilling: a spent allowance is
    /// refilled only by the periodic [`refill`], so a node past its share stays off Redis.
    pub fn note_remaining(&self, event: &str, remaining: u64) {
        if let Some(allowance) = self.events.get(event) {
            allowance.sold_out.store(remaining == 0, Ordering::Release);
        }
    }

    /// Learns Redis's count of remaining seats: remembers or forgets "sold out", and tops the
    /// allowance up to this node's share of them.
    pub fn observe(&self, event: &str, remaining: u64) {
        let Some(allowance) = self.events.get(event) else {
            return;
        };
        self.note_remaining(event, remaining);
        let remaining = i64::try_from(remaining).unwrap_or(i64::MAX);
        let share = self.share(allowance, remaining);
        // Top up, never cut: seats this node already holds stay spendable (Redis still decides).
        let _ = allowance
            .seats
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |seats| {
                (share > seats).then_some(share)
            });
    }

    /// Event ids with an allowance.
    fn event_ids(&self) -> impl Iterator<Item = &str> {
        self.events.keys().map(String::as_str)
    }

    /// Publishes each event's allowance and sold-out belief as gauges.
    fn publish(&self, metrics: &Metrics) {
        for (event, allowance) in &self.events {
            let label = EventLabel {
                event: event.clone(),
            };
            let seats = allowance.seats.load(Ordering::Acquire);
            let sold_out = i64::from(allowance.sold_out.load(Ordering::Acquire));
            metrics.local_allowance.get_or_create(&label).set(seats);
            metrics.sold_out.get_or_create(&label).set(sold_out);
        }
    }
}

/// Keeps allowances in step with Redis until `shutdown` turns true.
pub async fn refill(
    stock: Arc<LocalStock>,
    metrics: Arc<Metrics>,
    redis: ConnectionManager,
    mut shutdown: watch::Receiver<bool>,
) {
    let events: Vec<(String, String)> = stock
        .event_ids()
        .filter_map(|id| {
            sale::EventId::parse(id)
                .ok()
                .map(|e| (id.to_owned(), EventKeys::new(&e).seats))
        })
        .collect();
    let mut ticker = tokio::time::interval(REFILL_PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => {}
            _ = shutdown.changed() => return,
        }
        for (event, seats_key) in &events {
            let remaining: redis::RedisResult<Option<u64>> = redis::cmd("HGET")
                .arg(seats_key)
                .arg("remaining")
                .query_async(&mut redis.clone())
                .await;
            match remaining {
                Ok(Some(remaining)) => stock.observe(event, remaining),
                Ok(None) => {}
                Err(e) => tracing::debug!(event, error = %e, "stock refill: redis unavailable"),
            }
        }
        stock.publish(&metrics);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sale::EventId;
    use sale::config::{EventConfig, SaleWindow};

    fn event(stock: u32) -> EventConfig {
        EventConfig {
            id: EventId::parse("demo").unwrap(),
            name: "d".into(),
            price_cents: 1,
            currency: "EUR".into(),
            stock,
            per_user_limit: 1,
            window: SaleWindow::new(0, 1).unwrap(),
            reservation_ttl: Duration::from_secs(1),
        }
    }

    #[test]
    fn the_allowance_is_the_weighted_share_plus_buffer() {
        let stock = LocalStock::new(&[event(100)], 1, 4, 10);
        stock.observe("demo", 100);
        let granted = (0..100)
            .filter(|_| stock.take("demo", 1) == Take::Granted)
            .count();
        assert_eq!(granted, 25 + 10);
        assert_eq!(stock.take("demo", 1), Take::Exhausted);
    }

    #[test]
    fn a_spent_allowance_refills_while_redis_has_seats() {
        let stock = LocalStock::new(&[event(100)], 1, 2, 0);
        stock.observe("demo", 10);
        while stock.take("demo", 1) == Take::Granted {}
        stock.observe("demo", 5);
        assert_eq!(stock.take("demo", 1), Take::Granted);
    }

    #[test]
    fn sold_out_is_remembered_until_seats_return() {
        let stock = LocalStock::new(&[event(10)], 1, 1, 0);
        stock.observe("demo", 0);
        assert_eq!(stock.take("demo", 1), Take::SoldOut);
        stock.observe("demo", 1);
        assert_eq!(stock.take("demo", 1), Take::Granted);
    }

    #[test]
    fn given_back_seats_can_be_taken_again() {
        let stock = LocalStock::new(&[event(10)], 1, 1, 0);
        stock.observe("demo", 1);
        assert_eq!(stock.take("demo", 1), Take::Granted);
        assert_eq!(stock.take("demo", 1), Take::Exhausted);
        stock.give_back("demo", 1);
        assert_eq!(stock.take("demo", 1), Take::Granted);
    }

    #[test]
    fn concurrent_takes_never_exceed_the_allowance() {
        let stock = std::sync::Arc::new(LocalStock::new(&[event(1000)], 1, 1, 0));
        stock.observe("demo", 1000);
        let granted: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        (0..500)
                            .filter(|_| stock.take("demo", 1) == Take::Granted)
                            .count()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(granted, 1000);
    }
}
