//! Reconciliation: does the order database agree with Redis, and does Redis agree with itself?
//! Used by `flashgate reconcile`, by the rush simulator's invariant check and by the tests.
//!
//! Checked: the seat counters add up to the stock (`total = remaining + reserved + paid`); the
//! counters match the orders behind them; every holder's seats match their live orders and the
//! per-user limit; every order is in the database with the same state and version, and
//! nothing else is; and on a seated event, the seat map seat by seat ([`seats`]).
//!
//! Over 300 lines because it lists every invariant it checks, one function per kind, next to the
//! report that names each disagreement.

pub mod seats;
pub mod ticket_types;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use redis::AsyncCommands;
use sale::OrderStatus;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;

use crate::ledger::consumer::GROUP;
use crate::ledger::{OrderStore, StoredOrder};
use crate::orders::OrderRecord;

/// What reconciliation found.
#[derive(Debug, Default)]
pub struct Report {
    /// The event.
    pub event: String,
    /// Redis counters: total, remaining, reserved, paid.
    pub counters: [u64; 4],
    /// Orders in Redis by status.
    pub redis_orders: BTreeMap<String, u64>,
    /// Rows in the database by status.
    pub database_orders: BTreeMap<String, u64>,
    /// Stream entries not yet written to the database when the comparison ran.
    pub ledger_backlog: u64,
    /// Stream entries the ledger could not read and set aside.
    pub dead_letters: u64,
    /// Every disagreement, human-readable.
    pub problems: Vec<String>,
}

impl Report {
    /// Whether everything agreed.
    pub fn is_clean(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [total, remaining, reserved, paid] = self.counters;
        writeln!(f, "event {}", self.event)?;
        writeln!(
            f,
            "  redis seats     total {total} = remaining {remaining} + reserved {reserved} + paid {paid}"
        )?;
        writeln!(f, "  redis orders    {:?}", self.redis_orders)?;
        writeln!(f, "  database orders {:?}", self.database_orders)?;
        writeln!(f, "  ledger backlog  {}", self.ledger_backlog)?;
        writeln!(f, "  dead letters    {}", self.dead_letters)?;
        if self.problems.is_empty() {
            write!(f, "  clean")
        } else {
            writeln!(f, "  {} problem(s):", self.problems.len())?;
            for problem in self.problems.iter().take(50) {
                writeln!(f, "    - {problem}")?;
            }
            if self.problems.len() > 50 {
                write!(f, "    … and {} more", self.problems.len() - 50)?;
            }
            Ok(())
        }
    }
}

/// Why reconciliation could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// Redis failed.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored order record is not valid.
    #[error("bad order record: {0}")]
    Record(String),
}

/// Reads a whole hash in slices (HSCAN), so a big event neither stalls Redis with one huge
/// reply nor runs into the client's reply timeout.
async fn scan_hash<V: redis::FromRedisValue>(
    redis: &mut RedisLink,
    key: &str,
) -> Result<HashMap<String, V>, ReconcileError> {
    let mut all = HashMap::new();
    let mut cursor = 0u64;
    loop {
        let (next, slice): (u64, Vec<(String, V)>) = redis::cmd("HSCAN")
            .arg(key)
            .arg(cursor)
            .arg("COUNT")
            .arg(1000)
            .query_async(redis)
            .await?;
        all.extend(slice);
        if next == 0 {
            return Ok(all);
        }
        cursor = next;
    }
}

/// Stream entries the ledger has not acknowledged: pending plus not yet delivered.
pub async fn ledger_backlog(
    redis: &mut RedisLink,
    event: &EventConfig,
) -> Result<u64, ReconcileError> {
    let stream = EventKeys::new(&event.id).stream;
    let groups: Vec<HashMap<String, redis::Value>> = match redis::cmd("XINFO")
        .arg("GROUPS")
        .arg(&stream)
        .query_async(redis)
        .await
    {
        Ok(groups) => groups,
        Err(e) if e.code() == Some("ERR") => return Ok(0),
        Err(e) => return Err(e.into()),
    };
    let number = |group: &HashMap<String, redis::Value>, field: &str| -> u64 {
        group
            .get(field)
            .and_then(|v| redis::from_redis_value_ref::<u64>(v).ok())
            .unwrap_or(0)
    };
    Ok(groups
        .iter()
        .filter(|g| {
            g.get("name")
                .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
                .as_deref()
                == Some(GROUP)
        })
        .map(|g| number(g, "pending") + number(g, "lag"))
        .sum())
}

/// Compares Redis and the database for `event`, first waiting up to `wait` for the ledger to
/// catch up (a backlog is not a mismatch, just not yet written).
pub async fn reconcile(
    redis: &mut RedisLink,
    store: &OrderStore,
    event: &EventConfig,
    wait: Duration,
) -> Result<Report, ReconcileError> {
    let deadline = tokio::time::Instant::now() + wait;
    let mut backlog = ledger_backlog(redis, event).await?;
    while backlog > 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        backlog = ledger_backlog(redis, event).await?;
    }
    let keys = EventKeys::new(&event.id);
    // The hash also holds text (the operator's `gate`), so read only the counters.
    let [total, remaining, reserved, paid]: [Option<u64>; 4] = redis::cmd("HMGET")
        .arg(&keys.seats)
        .arg(&["total", "remaining", "reserved", "paid"])
        .query_async(redis)
        .await?;
    let raw_orders: HashMap<String, String> = scan_hash(redis, &keys.orders).await?;
    let holders: HashMap<String, u64> = scan_hash(redis, &keys.holders).await?;
    let rows = store.orders(event.id.as_str()).await?;

    let mut report = Report {
        event: event.id.to_string(),
        counters: [total, remaining, reserved, paid].map(|c| c.unwrap_or(0)),
        ledger_backlog: backlog,
        dead_letters: redis.xlen(&keys.dead_letters).await?,
        ..Report::default()
    };
    if report.dead_letters > 0 {
        report.problems.push(format!(
            "{} ledger entries could not be read and are set aside in {}",
            report.dead_letters, keys.dead_letters
        ));
    }
    let mut orders = HashMap::with_capacity(raw_orders.len());
    for (id, text) in raw_orders {
        let record = OrderRecord::from_json(&text)
            .map_err(|e| ReconcileError::Record(format!("{id}: {e}")))?;
        orders.insert(id, record);
    }
    let mut type_counters = HashMap::new();
    for ticket_type in &event.ticket_types {
        if let Some(counters) = ticket_types::counters(redis, &keys.seats, &ticket_type.id).await? {
            type_counters.insert(ticket_type.id.clone(), counters);
        }
    }
    let by_type = store.seats_by_type(event.id.as_str()).await?;
    check_counters(&mut report, event, &orders);
    ticket_types::check_counters(&mut report, event, &type_counters, &orders, &by_type);
    check_holders(&mut report, event, &orders, &holders);
    ticket_types::check_holders(&mut report, event, &orders, &holders);
    check_database(&mut report, event, &orders, &rows);
    if event.venue.is_some() {
        let bits: Option<Vec<u8>> = redis.get(&keys.seat_map).await?;
        let bits = bits.unwrap_or_default();
        let stored = store.seats_by_order(event.id.as_str()).await?;
        seats::check(&mut report, event, &bits, &orders, &type_counters, &stored);
    }
    Ok(report)
}

fn check_counters(report: &mut Report, event: &EventConfig, orders: &HashMap<String, OrderRecord>) {
    let counters = report.counters;
    let [_, _, reserved, paid] = counters;
    check_totals(&mut report.problems, "", counters, event.stock);
    let mut seats_by_status: HashMap<OrderStatus, u64> = HashMap::new();
    for record in orders.values() {
        *report
            .redis_orders
            .entry(record.status.to_string())
            .or_default() += 1;
        *seats_by_status.entry(record.status).or_default() += u64::from(record.qty);
    }
    let seats = |status: OrderStatus| seats_by_status.get(&status).copied().unwrap_or(0);
    if seats(OrderStatus::Reserved) != reserved {
        report.problems.push(format!(
            "reserved counter {reserved} != seats in reserved orders {}",
            seats(OrderStatus::Reserved)
        ));
    }
    if seats(OrderStatus::Paid) + seats(OrderStatus::Finished) != paid {
        report.problems.push(format!(
            "paid counter {paid} != seats in paid and finished orders {}",
            seats(OrderStatus::Paid) + seats(OrderStatus::Finished)
        ));
    }
}

/// Counters `[total, remaining, reserved, paid]` against the configured `stock` and against
/// themselves; problems named after `prefix` (empty for the event, `ticket type ID: ` for one).
fn check_totals(problems: &mut Vec<String>, prefix: &str, counters: [u64; 4], stock: u32) {
    let [total, remaining, reserved, paid] = counters;
    if total != u64::from(stock) {
        problems.push(format!(
            "{prefix}redis total {total} is not the configured stock {stock}"
        ));
    }
    if total != remaining + reserved + paid {
        problems.push(format!(
            "{prefix}total {total} != remaining {remaining} + reserved {reserved} + paid {paid}"
        ));
    }
}

fn check_holders(
    report: &mut Report,
    event: &EventConfig,
    orders: &HashMap<String, OrderRecord>,
    holders: &HashMap<String, u64>,
) {
    let mut held: HashMap<&str, u64> = HashMap::new();
    for record in orders.values().filter(|r| r.status.is_live()) {
        *held.entry(record.user.as_str()).or_default() += u64::from(record.qty);
    }
    for (user, seats) in &held {
        if *seats > u64::from(event.per_user_limit) {
            report.problems.push(format!(
                "user {user} holds {seats} seats, over the limit {}",
                event.per_user_limit
            ));
        }
        if holders.get(*user) != Some(seats) {
            report.problems.push(format!(
                "user {user} holds {seats} seats in orders but {:?} in the holders record",
                holders.get(*user)
            ));
        }
    }
    // `USER TYPE` fields are the per-type record, checked in `ticket_types`.
    for (user, seats) in holders.iter().filter(|(field, _)| !field.contains(' ')) {
        if !held.contains_key(user.as_str()) {
            report.problems.push(format!(
                "user {user} is recorded holding {seats} seats without a live order"
            ));
        }
    }
}

fn check_database(
    report: &mut Report,
    event: &EventConfig,
    orders: &HashMap<String, OrderRecord>,
    rows: &[StoredOrder],
) {
    let mut seen = HashMap::with_capacity(rows.len());
    let mut live_seats: HashMap<&str, i64> = HashMap::new();
    for row in rows {
        *report
            .database_orders
            .entry(row.status.to_string())
            .or_default() += 1;
        if row.status.is_live() {
            *live_seats.entry(row.user_id.as_str()).or_default() += row.quantity;
        }
        seen.insert(row.order_id.as_str(), row);
        match orders.get(&row.order_id) {
            None => report
                .problems
                .push(format!("database order {} is not in redis", row.order_id)),
            Some(record) => {
                let version = sale::saturating::to_i64(record.version);
                if record.status != row.status
                    || version != row.version
                    || record.user != row.user_id
                {
                    report.problems.push(format!(
                        "order {}: redis says {} v{} for {}, database says {} v{} for {}",
                        row.order_id,
                        record.status,
                        record.version,
                        record.user,
                        row.status,
                        row.version,
                        row.user_id
                    ));
                }
            }
        }
    }
    if seen.len() != rows.len() {
        report
            .problems
            .push(format!("{} duplicate order rows", rows.len() - seen.len()));
    }
    let limit = i64::from(event.per_user_limit);
    for (user, seats) in live_seats {
        if seats > limit {
            report.problems.push(format!(
                "user {user} holds {seats} seats in live database orders, over the limit {limit}"
            ));
        }
    }
    for (id, record) in orders {
        if !seen.contains_key(id.as_str()) {
            report.problems.push(format!(
                "redis order {id} ({}) is missing from the database",
                record.status
            ));
        }
    }
}
