//! The background service that keeps the [`EventView`] fresh: every 250 ms it reads every
//! event's seats hash (and a seated event's seat map) in one pipeline per event and swaps the new
//! counters in; a failed read keeps the last view, which turns stale after `edge.view_staleness`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use redis::aio::ConnectionLike;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;

use super::{EventView, REFRESH, Seats, TypeSeats};
use crate::live_config::Live;
use crate::redis_handle::RedisHandle;
use crate::window::Gate;

/// The background service that keeps an [`EventView`] fresh.
pub struct EventViewRefresher {
    /// Where events come from.
    pub live: Arc<Live>,
    /// What it refreshes.
    pub view: Arc<EventView>,
    /// The process's Redis.
    pub redis: Arc<RedisHandle>,
}

/// The event-wide fields read, in order, before each type's `total` and `remaining`.
const EVENT_FIELDS: [&str; 9] = [
    "total",
    "remaining",
    "gate",
    "reserved",
    "paid",
    "expired",
    "canceled",
    "refund_due",
    "amount_mismatch",
];

/// One event's counters, each of its types' stock and remaining, and a seated event's seat
/// map. Each event is read on its own: its keys live in its own cluster slot, and a pipeline may
/// not span slots.
async fn read_one(
    mut con: impl ConnectionLike,
    event: &EventConfig,
) -> redis::RedisResult<(Vec<Option<String>>, Option<Vec<u8>>)> {
    let mut fields: Vec<String> = EVENT_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    for ticket_type in &event.ticket_types {
        fields.push(format!("t:{}:total", ticket_type.id));
        fields.push(format!("t:{}:remaining", ticket_type.id));
    }
    let keys = EventKeys::new(&event.id);
    let mut read = redis::pipe();
    read.cmd("HMGET").arg(&keys.seats).arg(&fields);
    if event.venue.is_none() {
        let (counters,): (Vec<Option<String>>,) = read.query_async(&mut con).await?;
        return Ok((counters, None));
    }
    read.cmd("GET").arg(&keys.seat_map);
    let (counters, bits): (Vec<Option<String>>, Option<Vec<u8>>) =
        read.query_async(&mut con).await?;
    Ok((counters, Some(bits.unwrap_or_default())))
}

/// The counters in `reply`, or none before the event is seeded.
fn parse(event: &EventConfig, reply: &[Option<String>]) -> Option<(Seats, Vec<TypeSeats>)> {
    let number = |i: usize| reply.get(i)?.as_deref()?.parse::<u64>().ok();
    let seats = Seats {
        total: number(0)?,
        remaining: number(1)?,
        gate: Gate::parse(reply.get(2).and_then(|g| g.as_deref())),
        reserved: number(3).unwrap_or(0),
        paid: number(4).unwrap_or(0),
        expired: number(5).unwrap_or(0),
        canceled: number(6).unwrap_or(0),
        refund_due: number(7).unwrap_or(0),
        amount_mismatch: number(8).unwrap_or(0),
    };
    let types = event
        .ticket_types
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let at = EVENT_FIELDS.len() + 2 * i;
            TypeSeats {
                id: t.id.clone(),
                total: number(at).unwrap_or(u64::from(t.stock)),
                remaining: number(at + 1).unwrap_or(u64::from(t.stock)),
            }
        })
        .collect();
    Some((seats, types))
}

/// Every event's counters, and every seated event's rendered seat map, read at `now`.
type Read = (
    HashMap<String, (Seats, Vec<TypeSeats>)>,
    super::seat_maps::Rendered,
);

async fn read_all(
    con: &(impl ConnectionLike + Clone),
    events: &[EventConfig],
    now: u64,
) -> redis::RedisResult<Read> {
    let replies =
        futures::future::try_join_all(events.iter().map(|e| read_one(con.clone(), e))).await?;
    let mut counters = HashMap::with_capacity(events.len());
    let mut maps = HashMap::new();
    for (event, (reply, bits)) in events.iter().zip(replies) {
        let id = event.id.as_str().to_owned();
        if let (Some(map), Some(bits)) = (event.venue.as_deref(), bits) {
            maps.insert(id.clone(), super::seat_maps::render(map, &bits, now));
        }
        if let Some(parsed) = parse(event, &reply) {
            counters.insert(id, parsed);
        }
    }
    Ok((counters, maps))
}

#[async_trait]
impl BackgroundService for EventViewRefresher {
    async fn start(&self, shutdown: ShutdownWatch) {
        sale::background::every(REFRESH, shutdown, || self.refresh()).await;
    }
}

impl EventViewRefresher {
    /// Reads every event once and swaps the counters in, or keeps the last view.
    async fn refresh(&self) {
        let snapshot = self.live.snapshot();
        let now = sale::time::now_millis();
        let events = &snapshot.config.events;
        let read_on =
            |con: redis::RedisResult<RedisLink>| async move { read_all(&con?, events, now).await };
        let mut read = read_on(self.redis.view_connection().await).await;
        // A replica that is gone, or refuses to serve while cut off from its primary
        // (`replica-serve-stale-data no`), must not leave the edge without a view: the primary
        // answers the same read.
        if let Err(e) = &read
            && self.redis.reads_from_replicas()
        {
            tracing::debug!(error = %e, "event view: replica read failed; reading the primary");
            read = read_on(self.redis.connection().await).await;
        }
        match read {
            Ok((seats, maps)) => self.view.store(seats, maps, now),
            Err(e) => {
                tracing::warn!(error = %e, "event view: redis read failed; keeping the last view")
            }
        }
    }
}
