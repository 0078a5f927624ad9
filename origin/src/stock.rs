//! The stock engine: seats live in Redis and change only inside Lua scripts, so every check and
//! every write of one reservation happen in one atomic step. Scripts are loaded once and invoked by
//! EVALSHA; when Redis answers NOSCRIPT (after a restart or a failover) the script is loaded again
//! and the call retried. Beside it: [`local`], this node's allowance filtered before Redis;
//! [`purchase`], a buy's whole protocol across both; [`lifecycle`], every transition after it.

pub mod lifecycle;
pub mod local;
pub mod purchase;

use redis::{AsyncCommands, Script};
use sale::basket::{OrderItem, Seats};
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
        /// What was reserved, at the prices fixed in the order.
        items: Vec<OrderItem>,
        /// Its seats' ids, on a seated event.
        seats: Vec<String>,
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
        /// The ticket type the refusal is about (a line sold out or over its limit, a category
        /// without seats together).
        ticket_type: Option<String>,
        /// The picked seats someone else holds (`seat_taken`).
        seats: Vec<String>,
    },
}

/// What a call of the reservation script may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt<'a> {
    /// Reserve every line of a basket, or replay the order the nonce bought.
    Buy {
        /// The lines, priced: the prices are fixed in the order.
        items: &'a [OrderItem],
        /// The access code as the script reads it: empty, `bound:CHANNEL` or `shared:SHA256`.
        code: &'a str,
        /// Which seats, on a seated event.
        seats: &'a Seats,
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

/// An event's counters after seeding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    /// Seats nobody holds.
    pub remaining: u64,
    /// The stock in force: what the event was first seeded with, whatever the file says now.
    pub total: u64,
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
                include_str!("stock/seats.lua"),
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

    /// The Redis link the engine runs its scripts on.
    pub fn link(&self) -> &RedisLink {
        &self.redis
    }

    /// Creates the event's counters (and seat map) if this is the first time it is seen, and
    /// refreshes its window and limits.
    pub async fn seed(&self, event: &EventConfig) -> Result<Seeded, OriginError> {
        let keys = EventKeys::new(&event.id);
        if let Some(map) = &event.venue {
            self.write_seat_ids(&keys, map).await?;
        }
        let mut call = self.seed.prepare_invoke();
        call.key(&keys.seats)
            .key(&keys.seat_map)
            .arg(event.stock)
            .arg(event.per_user_limit)
            .arg(event.window.starts_at)
            .arg(event.window.ends_at)
            .arg(sale::time::millis(event.reservation_ttl))
            .arg(event.ticket_types.len());
        for ticket_type in &event.ticket_types {
            call.arg(&ticket_type.id)
                .arg(ticket_type.stock)
                .arg(ticket_type.per_user_limit);
        }
        call.arg(phases_json(event));
        match &event.venue {
            Some(map) => {
                call.arg(&map.fingerprint);
                for category in &map.categories {
                    call.arg(&category.id)
                        .arg(category.start)
                        .arg(category.runs.as_slice());
                }
            }
            None => {
                call.arg("");
            }
        }
        let (remaining, total) = call.invoke_async(&mut self.redis.clone()).await?;
        Ok(Seeded { remaining, total })
    }

    /// Writes the bit → seat id table of `map` (under its layout's own key, so nothing sold
    /// under another layout is touched), unless it is complete.
    async fn write_seat_ids(
        &self,
        keys: &EventKeys,
        map: &sale::seat_map::SeatMap,
    ) -> Result<(), OriginError> {
        let key = keys.seat_ids(&map.fingerprint);
        let mut redis = self.redis.clone();
        let written: usize = redis.hlen(&key).await?;
        if written == map.len() {
            return Ok(());
        }
        let bits: Vec<u32> = (0..map.len() as u32).collect();
        for chunk in bits.chunks(1000) {
            let pairs: Vec<(u32, &str)> = chunk
                .iter()
                .map(|b| (*b, map.seat_id(*b).unwrap_or_default()))
                .collect();
            let () = redis.hset_multiple(&key, &pairs).await?;
        }
        Ok(())
    }

    /// Tries `attempt` at `event` for `user`, burning `nonce` if it reserves.
    pub async fn reserve(
        &self,
        event: &EventConfig,
        user: &UserId,
        attempt: Attempt<'_>,
        nonce: &str,
    ) -> Result<Reservation, OriginError> {
        let keys = EventKeys::new(&event.id);
        let order_id = OrderId::generate(&event.id);
        let (items, code, seats, replay_only, otherwise): (&[OrderItem], _, _, _, _) = match attempt
        {
            Attempt::Buy { items, code, seats } => (items, code, seats, "0", ""),
            Attempt::Replay { otherwise } => (&[], "", &Seats::Unseated, "1", otherwise.code()),
        };
        let layout = event.venue.as_ref().map_or("", |m| m.fingerprint.as_str());
        let mut redis = self.redis.clone();
        let mut call = self.reserve.prepare_invoke();
        call.key(&keys.seats)
            .key(&keys.holders)
            .key(&keys.nonces)
            .key(&keys.orders)
            .key(&keys.deadlines)
            .key(&keys.stream)
            .key(&keys.orders_by_user)
            .key(&keys.codes)
            .key(&keys.seat_map)
            .key(keys.seat_ids(layout))
            .arg(user.as_str())
            .arg(items.len())
            .arg(nonce)
            .arg(order_id.as_str())
            .arg(replay_only)
            .arg(otherwise);
        for item in items {
            call.arg(&item.ticket_type)
                .arg(item.quantity)
                .arg(item.unit_price_cents);
        }
        call.arg(code);
        match seats {
            Seats::Unseated => call.arg("").arg(""),
            Seats::Picked(bits) => {
                let list: Vec<String> = bits.iter().map(u32::to_string).collect();
                call.arg("pick").arg(list.join(","))
            }
            Seats::Best { together: true } => call.arg("best").arg(""),
            Seats::Best { together: false } => call.arg("split").arg(""),
        };
        call.arg(layout);
        let reply: Vec<String> = match call.invoke_async(&mut redis).await {
            // The bit -> id table lost entries (a failover before it reached a replica, a
            // stray DEL): the script wrote nothing; write the table again and try once more.
            Err(e) if e.code() == Some("SEATIDS") => {
                if let Some(map) = &event.venue {
                    self.write_seat_ids(&keys, map).await?;
                }
                call.invoke_async(&mut redis).await?
            }
            other => other?,
        };
        let mut reservation = parse_reply(&reply)?;
        if let Reservation::Reserved {
            items: reserved, ..
        } = &mut reservation
        {
            reserved.extend_from_slice(items);
        }
        if !matches!(reservation, Reservation::Refused { .. }) {
            self.replication.confirm(&mut redis, &keys.seats).await?;
        }
        Ok(reservation)
    }
}

/// The phases as the reservation script reads them: `[{s, e, c, t}]`, or empty for none.
fn phases_json(event: &EventConfig) -> String {
    if event.phases.is_empty() {
        return String::new();
    }
    let phases: Vec<_> = event
        .phases
        .iter()
        .map(|p| {
            serde_json::json!({
                "s": p.window.starts_at,
                "e": p.window.ends_at,
                "c": p.channel.as_deref().unwrap_or(""),
                "t": p.ticket_types,
            })
        })
        .collect();
    serde_json::Value::from(phases).to_string()
}

fn number(text: &str) -> Result<u64, OriginError> {
    text.parse()
        .map_err(|_| OriginError::Unexpected(format!("not a count: {text:?}")))
}

fn parse_reply(reply: &[String]) -> Result<Reservation, OriginError> {
    let unexpected = || OriginError::Unexpected(format!("reserve replied {reply:?}"));
    let order_id = |text: &str| OrderId::parse(text).map_err(|_| unexpected());
    let list = |text: Option<&String>| -> Vec<String> {
        text.map(|t| {
            t.split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
    };
    match reply {
        [kind, id, pay_by, remaining, seats] if kind == "reserved" => Ok(Reservation::Reserved {
            order_id: order_id(id)?,
            pay_by: number(pay_by)?,
            remaining: number(remaining)?,
            items: Vec::new(),
            seats: list(Some(seats)),
        }),
        [kind, id, record] if kind == "replayed" => Ok(Reservation::Replayed {
            order_id: order_id(id)?,
            record: OrderRecord::from_json(record)?,
        }),
        [kind, code, remaining, about @ ..] if kind == "refused" && about.len() <= 2 => {
            let refusal = Refusal::from_code(code).ok_or_else(unexpected)?;
            Ok(Reservation::Refused {
                refusal,
                remaining: number(remaining)?,
                ticket_type: about.first().filter(|t| !t.is_empty()).cloned(),
                seats: list(about.get(1)),
            })
        }
        _ => Err(unexpected()),
    }
}
