//! Local stock pre-deduction: each origin holds an in-memory allowance per event, its weighted
//! share of the seats plus a buffer, and spends it with a lock-free compare-and-swap before it
//! calls Redis. A node whose allowance is spent tells the buyer to retry shortly without
//! touching Redis.
//!
//! Redis stays the authority, so the allowance can never cause an oversell; it only filters. It
//! must not strand seats either: a refill task reads Redis every 250 ms and tops this node's
//! allowance up to its share of what remains, so seats left by a dead node, uneven load or
//! expired reservations are sold by whoever is still selling. When Redis reports zero seats the
//! node remembers the event as sold out (and tells the edge); when seats come back, it forgets.
//! A reload replaces the shares (events, weights, buffer) whole and keeps every allowance held.
//!
//! Over 300 lines with its unit tests (a third of the file), which build real configs.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use sale::Config;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;
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
    seats_key: String,
}

/// What sizes the allowances; replaced whole when the config is reloaded.
#[derive(Debug)]
struct Shares {
    /// Allowances by event id; an event kept across a reload keeps its allowance.
    events: HashMap<String, Arc<Allowance>>,
    /// Extra seats per event beyond the weighted share.
    buffers: HashMap<String, i64>,
    weight: i64,
    total_weight: i64,
}

/// Allowances by event id.
#[derive(Debug)]
pub struct LocalStock {
    shares: ArcSwap<Shares>,
}

/// This node's weight and the weight of all nodes: its `[[origins]]` entry's (1 if it is not
/// listed, and then it counts on top of the listed ones).
fn weights(config: &Config, addr: std::net::SocketAddr) -> (u64, u64) {
    let weight = |o: &sale::config::OriginNode| o.weight.get() as u64;
    let listed: u64 = config.origins.iter().map(weight).sum();
    match config.origins.iter().find(|o| o.listen == addr) {
        Some(node) => (weight(node), listed),
        None => (1, listed + 1),
    }
}

fn shares(config: &Config, addr: std::net::SocketAddr, old: Option<&Shares>) -> Shares {
    let (weight, total_weight) = weights(config, addr);
    let percent = u64::from(config.origin.local_stock_buffer_percent);
    let mut events = HashMap::new();
    let mut buffers = HashMap::new();
    for event in &config.events {
        let id = event.id.as_str().to_owned();
        let buffer = (u64::from(event.stock) * percent).div_ceil(100);
        buffers.insert(id.clone(), i64::try_from(buffer).unwrap_or(i64::MAX));
        let allowance = old
            .and_then(|o| o.events.get(&id).cloned())
            .unwrap_or_else(|| Arc::new(new_allowance(event)));
        events.insert(id, allowance);
    }
    Shares {
        events,
        buffers,
        weight: i64::try_from(weight.max(1)).unwrap_or(1),
        total_weight: i64::try_from(total_weight.max(1)).unwrap_or(1),
    }
}

fn new_allowance(event: &EventConfig) -> Allowance {
    Allowance {
        seats: AtomicI64::new(0),
        sold_out: AtomicBool::new(false),
        seats_key: EventKeys::new(&event.id).seats,
    }
}

impl LocalStock {
    /// Allowances for the events of `config`, on the node listening at `addr`.
    pub fn new(config: &Config, addr: std::net::SocketAddr) -> Self {
        Self {
            shares: ArcSwap::from_pointee(shares(config, addr, None)),
        }
    }

    /// Follows a reloaded config: new events get an allowance, weights and buffers take effect
    /// at the next refill, and allowances of events that stay are kept as they are.
    pub fn reconfigure(&self, config: &Config, addr: std::net::SocketAddr) {
        let next = shares(config, addr, Some(&self.shares.load()));
        self.shares.store(Arc::new(next));
    }

    /// This node's share of `remaining` seats of `event`: weighted, plus the buffer, never more
    /// than remain.
    fn share(shares: &Shares, event: &str, remaining: i64) -> i64 {
        // Rounded up, so every node's share is at least one seat while any remain.
        let weighted = (remaining * shares.weight + shares.total_weight - 1) / shares.total_weight;
        let buffer = shares.buffers.get(event).copied().unwrap_or(0);
        (weighted + buffer).min(remaining)
    }

    /// Tries to deduct `quantity` seats of `event` locally.
    pub fn take(&self, event: &str, quantity: u32) -> Take {
        let shares = self.shares.load();
        let Some(allowance) = shares.events.get(event) else {
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
        if let Some(allowance) = self.shares.load().events.get(event) {
            allowance
                .seats
                .fetch_add(i64::from(quantity), Ordering::AcqRel);
        }
    }

    /// Learns from a script reply whether seats remain, without refilling: a spent allowance is
    /// refilled only by the periodic [`refill`], so a node past its share stays off Redis.
    pub fn note_remaining(&self, event: &str, remaining: u64) {
        if let Some(allowance) = self.shares.load().events.get(event) {
            allowance.sold_out.store(remaining == 0, Ordering::Release);
        }
    }

    /// Learns Redis's count of remaining seats: remembers or forgets "sold out", and tops the
    /// allowance up to this node's share of them.
    pub fn observe(&self, event: &str, remaining: u64) {
        let shares = self.shares.load();
        let Some(allowance) = shares.events.get(event) else {
            return;
        };
        allowance.sold_out.store(remaining == 0, Ordering::Release);
        let remaining = i64::try_from(remaining).unwrap_or(i64::MAX);
        let share = Self::share(&shares, event, remaining);
        // Top up, never cut: seats this node already holds stay spendable (Redis still decides).
        let _ = allowance
            .seats
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |seats| {
                (share > seats).then_some(share)
            });
    }

    /// Each event id with its seats hash key.
    fn seats_keys(&self) -> Vec<(String, String)> {
        self.shares
            .load()
            .events
            .iter()
            .map(|(id, a)| (id.clone(), a.seats_key.clone()))
            .collect()
    }

    /// Publishes each event's allowance and sold-out belief as gauges.
    fn publish(&self, metrics: &Metrics) {
        for (event, allowance) in &self.shares.load().events {
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
    redis: RedisLink,
    shutdown: watch::Receiver<bool>,
) {
    let refill_once = || async {
        for (event, seats_key) in stock.seats_keys() {
            let remaining: redis::RedisResult<Option<u64>> = redis::cmd("HGET")
                .arg(&seats_key)
                .arg("remaining")
                .query_async(&mut redis.clone())
                .await;
            match remaining {
                Ok(Some(remaining)) => stock.observe(&event, remaining),
                Ok(None) => {}
                Err(e) => tracing::debug!(event, error = %e, "stock refill: redis unavailable"),
            }
        }
        stock.publish(&metrics);
    };
    sale::background::every(REFILL_PERIOD, shutdown, refill_once).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use sale::config::Environment;

    const ADDR: &str = "127.0.0.1:8181";

    /// A config with `demo` of `stock` seats, this node (weight 1) and one of weight
    /// `others`, and a buffer of `buffer` percent.
    fn config(stock: u32, others: u32, buffer: u32) -> Config {
        let others = if others == 0 {
            String::new()
        } else {
            format!("[[origins]]\nlisten = \"127.0.0.1:8182\"\nweight = {others}\n")
        };
        let text = format!(
            r#"
[edge]
listen = "127.0.0.1:8080"
admin_listen = "127.0.0.1:9180"
static_dir = "."
dev_sessions = true
[[origins]]
listen = "{ADDR}"
weight = 1
{others}
[origin]
database_url = "sqlite://orders.db"
local_stock_buffer_percent = {buffer}
[redis]
url = "redis://127.0.0.1:6390"
[secrets]
admin_token = "admin-token-0123456789"
session_keys = [{{ id = "s1", secret = "session-key-0123456789" }}]
token_keys = [{{ id = "t1", secret = "token-key-0123456789" }}]
internal_keys = [{{ id = "i1", secret = "internal-key-0123456789" }}]
[[events]]
id = "demo"
name = "d"
price_cents = 1
currency = "EUR"
stock = {stock}
starts_at = "2030-01-01T00:00:00Z"
ends_at = "2030-01-02T00:00:00Z"
"#
        );
        Config::parse(&text, std::path::Path::new("."), &Environment::default()).unwrap()
    }

    fn local(config: &Config) -> LocalStock {
        LocalStock::new(config, ADDR.parse().unwrap())
    }

    #[test]
    fn the_allowance_is_the_weighted_share_plus_buffer() {
        let stock = local(&config(100, 3, 10));
        stock.observe("demo", 100);
        let granted = (0..100)
            .filter(|_| stock.take("demo", 1) == Take::Granted)
            .count();
        assert_eq!(granted, 25 + 10);
        assert_eq!(stock.take("demo", 1), Take::Exhausted);
    }

    #[test]
    fn a_reload_changes_the_share_and_keeps_what_is_held() {
        let stock = local(&config(100, 3, 0));
        stock.observe("demo", 100);
        assert_eq!(stock.take("demo", 20), Take::Granted, "25 of 100");
        stock.reconfigure(&config(100, 1, 0), ADDR.parse().unwrap());
        assert_eq!(stock.take("demo", 5), Take::Granted, "the 5 still held");
        assert_eq!(stock.take("demo", 1), Take::Exhausted);
        stock.observe("demo", 80);
        assert_eq!(stock.take("demo", 40), Take::Granted, "now half of 80");
        assert_eq!(stock.take("demo", 1), Take::Exhausted);
    }

    #[test]
    fn a_spent_allowance_refills_while_redis_has_seats() {
        let stock = local(&config(100, 1, 0));
        stock.observe("demo", 10);
        while stock.take("demo", 1) == Take::Granted {}
        stock.observe("demo", 5);
        assert_eq!(stock.take("demo", 1), Take::Granted);
    }

    #[test]
    fn sold_out_is_remembered_until_seats_return() {
        let stock = local(&config(10, 0, 0));
        stock.observe("demo", 0);
        assert_eq!(stock.take("demo", 1), Take::SoldOut);
        stock.observe("demo", 1);
        assert_eq!(stock.take("demo", 1), Take::Granted);
    }

    #[test]
    fn given_back_seats_can_be_taken_again() {
        let stock = local(&config(10, 0, 0));
        stock.observe("demo", 1);
        assert_eq!(stock.take("demo", 1), Take::Granted);
        assert_eq!(stock.take("demo", 1), Take::Exhausted);
        stock.give_back("demo", 1);
        assert_eq!(stock.take("demo", 1), Take::Granted);
    }

    #[test]
    fn concurrent_takes_never_exceed_the_allowance() {
        let stock = std::sync::Arc::new(local(&config(1000, 0, 0)));
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
