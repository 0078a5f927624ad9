//! The background service that keeps the [`EventView`] fresh: every 250 ms it reads every
//! event's seats hash in one pipeline and swaps the new counters in; a failed read keeps the last
//! view, which turns stale after `edge.view_staleness`.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use redis::aio::ConnectionLike;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;

use super::{EventView, REFRESH, Seats};
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

type Reply = (
    Option<u64>,
    Option<u64>,
    Option<String>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
    Option<u64>,
);

/// One event's counters. Each event is read on its own: its keys live in its own cluster slot,
/// and a pipeline may not span slots.
async fn read_one(mut con: impl ConnectionLike, event: &EventConfig) -> redis::RedisResult<Reply> {
    redis::cmd("HMGET")
        .arg(EventKeys::new(&event.id).seats)
        .arg(&[
            "total",
            "remaining",
            "gate",
            "reserved",
            "paid",
            "expired",
            "canceled",
            "refund_due",
            "amount_mismatch",
        ])
        .query_async(&mut con)
        .await
}

async fn read_all(
    con: &(impl ConnectionLike + Clone),
    events: &[EventConfig],
) -> redis::RedisResult<HashMap<String, Seats>> {
    let replies =
        futures::future::try_join_all(events.iter().map(|e| read_one(con.clone(), e))).await?;
    Ok(events
        .iter()
        .zip(replies)
        .filter_map(|(event, reply)| {
            let (
                Some(total),
                Some(remaining),
                gate,
                reserved,
                paid,
                expired,
                canceled,
                refund_due,
                amount_mismatch,
            ) = reply
            else {
                return None;
            };
            let seats = Seats {
                total,
                remaining,
                reserved: reserved.unwrap_or(0),
                paid: paid.unwrap_or(0),
                expired: expired.unwrap_or(0),
                canceled: canceled.unwrap_or(0),
                refund_due: refund_due.unwrap_or(0),
                amount_mismatch: amount_mismatch.unwrap_or(0),
                gate: Gate::parse(gate.as_deref()),
            };
            Some((event.id.as_str().to_owned(), seats))
        })
        .collect())
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
        let read = match self.redis.connection().await {
            Ok(con) => read_all(&con, &snapshot.config.events).await,
            Err(e) => Err(e),
        };
        match read {
            Ok(seats) => self.view.store(seats, sale::time::now_millis()),
            Err(e) => {
                tracing::warn!(error = %e, "event view: redis read failed; keeping the last view")
            }
        }
    }
}
