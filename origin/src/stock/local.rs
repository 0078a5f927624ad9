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
//! Each ticket type has an allowance of its own beside the event's, sized the same way from the
//! type's remaining seats, so a basket with a type this node has spent (or Redis sold out) is
//! answered without Redis too.
//!
//! Over 400 lines with its unit tests (a third of the file, building real configs): the event's
//! and the types' allowances are one mechanism, kept in one place.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use sale::Config;
use sale::basket::OrderItem;
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
    /// The seats hash field it follows: `remaining`, or a type's `t:TYPE:remaining`.
    field: String,
}

/// The key of a ticket type's allowance: event and type (a tab is in neither id).
fn type_key(event: &str, ticket_type: &str) -> String {
    format!("{event}\t{ticket_type}")
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
        buffers.insert(id.clone(), sale::saturating::to_i64(buffer));
        let allowance = old
            .and_then(|o| o.events.get(&id).cloned())
            .unwrap_or_else(|| Arc::new(new_allowance(event, "remaining".into())));
        events.insert(id.clone(), allowance);
        for ticket_type in &event.ticket_types {
            let key = type_key(&id, &ticket_type.id);
            let buffer = (u64::from(ticket_type.stock) * percent).div_ceil(100);
            buffers.insert(key.clone(), sale::saturating::to_i64(buffer));
            let field = format!("t:{}:remaining", ticket_type.id);
            let allowance = old
                .and_then(|o| o.events.get(&key).cloned())
                .unwrap_or_else(|| Arc::new(new_allowance(event, field)));
            events.insert(key, allowance);
        }
    }
    Shares {
        events,
        buffers,
        weight: i64::try_from(weight.max(1)).unwrap_or(1),
        total_weight: i64::try_from(total_weight.max(1)).unwrap_or(1),
    }
}

fn new_allowance(event: &EventConfig, field: String) -> Allowance {
    Allowance {
        seats: AtomicI64::new(0),
        sold_out: AtomicBool::new(false),
        seats_key: EventKeys::new(&event.id).seats,
        field,
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

    /// Tries to deduct each line of a basket from its type's allowance: all of them, or none
    /// (what was taken is given back). `SoldOut` when Redis said a line's type has none left.
    pub fn take_lines(&self, event: &str, lines: &[OrderItem]) -> Take {
        for (i, line) in lines.iter().enumerate() {
            let taken = self.take(&type_key(event, &line.ticket_type), line.quantity);
            if taken != Take::Granted {
                self.give_back_lines(event, &lines[..i]);
                return taken;
            }
        }
        Take::Granted
    }

    /// Returns the lines of a basket taken by [`Self::take_lines`].
    pub fn give_back_lines(&self, event: &str, lines: &[OrderItem]) {
        for line in lines {
            self.give_back(&type_key(event, &line.ticket_type), line.quantity);
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
        let remaining = sale::saturating::to_i64(remaining);
        let share = Self::share(&shares, event, remaining);
        // Top up, never cut: seats this node already holds stay spendable (Redis still decides).
        let _ = allowance
            .seats
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |seats| {
                (share > seats).then_some(share)
            });
    }

    /// Each allowance's key with the seats hash and field it follows.
    fn seats_keys(&self) -> Vec<(String, String, String)> {
        self.shares
            .load()
            .events
            .iter()
            .map(|(id, a)| (id.clone(), a.seats_key.clone(), a.field.clone()))
            .collect()
    }

    /// Publishes each event's allowance and sold-out belief as gauges (types' as `EVENT/TYPE`).
    fn publish(&self, metrics: &Metrics) {
        for (key, allowance) in &self.shares.load().events {
            let event = &key.replace('\t', "/");
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
    let refill_and_publish = || async {
        refill_once(&stock, &redis).await;
        stock.publish(&metrics);
    };
    sale::background::every(REFILL_PERIOD, shutdown, refill_and_publish).await;
}

/// Reads every allowance's remaining seats from Redis once and tops the allowances up: at
/// start and after a reload (so new types sell at once), then every [`REFILL_PERIOD`].
pub async fn refill_once(stock: &LocalStock, redis: &RedisLink) {
    for (key, seats_key, field) in stock.seats_keys() {
        let remaining: redis::RedisResult<Option<u64>> = redis::cmd("HGET")
            .arg(&seats_key)
            .arg(&field)
            .query_async(&mut redis.clone())
            .await;
        match remaining {
            Ok(Some(remaining)) => stock.observe(&key, remaining),
            Ok(None) => {}
            Err(e) => tracing::debug!(key, error = %e, "stock refill: redis unavailable"),
        }
    }
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
    fn a_basket_takes_every_line_or_none() {
        let general = |quantity| OrderItem {
            ticket_type: "general".into(),
            quantity,
            unit_price_cents: 1,
        };
        let stock = local(&config(100, 0, 0));
        stock.observe(&type_key("demo", "general"), 2);
        assert_eq!(stock.take_lines("demo", &[general(1)]), Take::Granted);
        assert_eq!(
            stock.take_lines("demo", &[general(1), general(1)]),
            Take::Exhausted,
            "the second line finds nothing left"
        );
        assert_eq!(
            stock.take_lines("demo", &[general(1)]),
            Take::Granted,
            "the first line of the refused basket was given back"
        );
        stock.observe(&type_key("demo", "general"), 0);
        assert_eq!(stock.take_lines("demo", &[general(1)]), Take::SoldOut);
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
