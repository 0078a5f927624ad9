//! The stock engine: seats live in Redis and change only inside Lua scripts, so every check and
//! every write of one reservation happen in one atomic step. Scripts are loaded once and invoked by
//! EVALSHA; when Redis answers NOSCRIPT (after a restart or a failover) the script is loaded again
//! and the call retried. Beside it: [`local`], this node's allowance filtered before Redis;
//! [`purchase`], a buy's whole protocol across both; [`lifecycle`], every transition after it.

pub mod lifecycle;
pub mod local;
pub mod purchase;

use redis::{AsyncCommands, Script};
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;
use sale::{EventId, OrderId, Refusal, UserId};

use crate::error::OriginError;
use crate::orders::OrderRecord;
use sale::replication::Replication;

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

/// What a call of the reservation script may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// Reserve `quantity` seats, or replay the order the nonce bought.
    Buy {
        /// Seats wanted.
        quantity: u32,
        /// The price of one, in minor units, recorded with the order as its total.
        unit_cents: u64,
    },
    /// Only replay the order the nonce bought (the link can no longer buy); refuse with
    /// `otherwise` if it bought nothing.
    Replay {
        /// The refusal when the nonce bought nothing.
        otherwise: Refusal,
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

    /// The orders `user` holds at `event`, oldest first, as Redis has them now.
    pub async fn orders_of(
        &self,
        event: &EventId,
        user: &UserId,
    ) -> Result<Vec<(OrderId, OrderRecord)>, OriginError> {
        let keys = EventKeys::new(event);
        let mut redis = self.redis.clone();
        let ids: Option<String> = redis.hget(&keys.orders_by_user, user.as_str()).await?;
        let ids: Vec<OrderId> = ids
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|id| OrderId::parse(id).ok())
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut get = redis::cmd("HMGET");
        get.arg(&keys.orders);
        for id in &ids {
            get.arg(id.as_str());
        }
        let records: Vec<Option<String>> = get.query_async(&mut redis).await?;
        let mut orders = Vec::with_capacity(ids.len());
        for (id, record) in ids.into_iter().zip(records) {
            if let Some(record) = record {
                let record = OrderRecord::from_json(&record)?;
                // The index is the user's by construction; checked all the same.
                if record.user == user.as_str() {
                    orders.push((id, record));
                }
            }
        }
        Ok(orders)
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

    /// Tries `attempt` at `event` for `user`, burning `nonce` if it reserves.
    pub async fn reserve(
        &self,
        event: &EventId,
        user: &UserId,
        attempt: Attempt,
        nonce: &str,
    ) -> Result<Reservation, OriginError> {
        let keys = EventKeys::new(event);
        let order_id = OrderId::generate(event);
        let (quantity, total_cents, replay_only, otherwise) = match attempt {
            Attempt::Buy {
                quantity,
                unit_cents,
            } => (quantity, u64::from(quantity) * unit_cents, "0", ""),
            Attempt::Replay { otherwise } => (0, 0, "1", otherwise.code()),
        };
        let mut redis = self.redis.clone();
        let reply: Vec<String> = self
            .reserve
            .key(&keys.seats)
            .key(&keys.holders)
            .key(&keys.nonces)
            .key(&keys.orders)
            .key(&keys.deadlines)
            .key(&keys.stream)
            .key(&keys.orders_by_user)
            .arg(user.as_str())
            .arg(quantity)
            .arg(nonce)
            .arg(order_id.as_str())
            .arg(replay_only)
            .arg(otherwise)
            .arg(total_cents)
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
