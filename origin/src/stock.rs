//! The stock engine: seats live in Redis and change only inside Lua scripts, so every check and
//! every write of one reservation happen in one atomic step. Scripts are loaded once and invoked by
//! EVALSHA; when Redis answers NOSCRIPT (after a restart or a failover) the script is loaded again
//! and the call retried. Beside it: [`local`], this node's allowance filtered before Redis;
//! [`purchase`], a buy's whole protocol across both; [`lifecycle`], every transition after it.

pub mod lifecycle;
pub mod local;
pub mod purchase;
pub mod replication;

use redis::{AsyncCommands, Script};
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;
use sale::{EventId, OrderId, Refusal, UserId};

use crate::error::OriginError;
use crate::orders::OrderRecord;
use replication::Replication;

/// The outcome of a reservation attempt.
#[derive(Debug)]
pub enum Reservation {
    /// Seats reserved; the order is in the stream.
    Reserved {
        /// The new order.
        order_id: OrderId,
        /// Payment deadline, Unix ms (Redis clock).
        pay_by: u64,
        /// Seats left after this one.
        remaining: u64,
    },
    /// This token already bought; here is that order, unchanged.
    Replayed {
        /// The earlier order.
        order_id: OrderId,
        /// Its current record.
        record: OrderRecord,
    },
    /// Refused; nothing changed.
    Refused {
        /// Why.
        refusal: Refusal,
        /// Seats left, so the caller learns "sold out" for free.
        remaining: u64,
    },
}

/// Seat operations on Redis.
#[derive(Clone)]
pub struct StockEngine {
    redis: RedisLink,
    replication: Replication,
    seed: std::sync::Arc<Script>,
    reserve: std::sync::Arc<Script>,
}

impl std::fmt::Debug for StockEngine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StockEngine").finish_non_exhaustive()
    }
}

impl StockEngine {
    /// An engine over `redis`, confirming each reservation as `replication` says.
    pub fn new(redis: RedisLink, replication: Replication) -> Self {
        Self {
            redis,
            replication,
            seed: std::sync::Arc::new(Script::new(include_str!("stock/seed.lua"))),
            reserve: std::sync::Arc::new(Script::new(concat!(
                include_str!("stock/common.lua"),
                include_str!("stock/reserve.lua")
            ))),
        }
    }

    /// The order `order_id` as Redis holds it, if it exists.
    pub async fn find_order(&self, order_id: &OrderId) -> Result<Option<OrderRecord>, OriginError> {
        let keys = EventKeys::new(&order_id.event());
        let record: Option<String> = self
            .redis
            .clone()
            .hget(&keys.orders, order_id.as_str())
            .await?;
        record.as_deref().map(OrderRecord::from_json).transpose()
    }

    /// Creates the event's counters if this is the first time it is seen, and refreshes its
    /// window and limits. Returns the seats remaining.
    pub async fn seed(&self, event: &EventConfig) -> Result<u64, OriginError> {
        let keys = EventKeys::new(&event.id);
        let remaining: u64 = self
            .seed
            .key(&keys.seats)
            .arg(event.stock)
            .arg(event.per_user_limit)
            .arg(event.window.starts_at)
            .arg(event.window.ends_at)
            .arg(sale::time::millis(event.reservation_ttl))
            .invoke_async(&mut self.redis.clone())
            .await?;
        Ok(remaining)
    }

    /// Tries to reserve `quantity` seats of `event` for `user`, burning `nonce`.
    pub async fn reserve(
        &self,
        event: &EventId,
        user: &UserId,
        quantity: u32,
        nonce: &str,
    ) -> Result<Reservation, OriginError> {
        let keys = EventKeys::new(event);
        let order_id = OrderId::generate(event);
        let mut redis = self.redis.clone();
        let reply: Vec<String> = self
            .reserve
            .key(&keys.seats)
            .key(&keys.holders)
            .key(&keys.nonces)
            .key(&keys.orders)
            .key(&keys.deadlines)
            .key(&keys.stream)
            .arg(user.as_str())
            .arg(quantity)
            .arg(nonce)
            .arg(order_id.as_str())
            .invoke_async(&mut redis)
            .await?;
        let reservation = parse_reply(&reply)?;
        if !matches!(reservation, Reservation::Refused { .. }) {
            self.replication.confirm(&mut redis, &keys.seats).await?;
        }
        Ok(reservation)
    }
}

fn number(text: &str) -> Result<u64, OriginError> {
    text.parse()
        .map_err(|_| OriginError::Unexpected(format!("not a count: {text:?}")))
}

fn parse_reply(reply: &[String]) -> Result<Reservation, OriginError> {
    let unexpected = || OriginError::Unexpected(format!("reserve replied {reply:?}"));
    let order_id = |text: &str| OrderId::parse(text).map_err(|_| unexpected());
    match reply {
        [kind, id, pay_by, remaining] if kind == "reserved" => Ok(Reservation::Reserved {
            order_id: order_id(id)?,
            pay_by: number(pay_by)?,
            remaining: number(remaining)?,
        }),
        [kind, id, record] if kind == "replayed" => Ok(Reservation::Replayed {
            order_id: order_id(id)?,
            record: OrderRecord::from_json(record)?,
        }),
        [kind, code, remaining] if kind == "refused" => {
            let refusal = Refusal::from_code(code).ok_or_else(unexpected)?;
            Ok(Reservation::Refused {
                refusal,
                remaining: number(remaining)?,
            })
        }
        _ => Err(unexpected()),
    }
}
