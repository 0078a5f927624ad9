//! The waiting room's background work on every edge, every 250 ms: open each queued event's room
//! when its pre-queue opens (the first edge stores the salt, the seed and the commitment), run
//! the draw at `starts_at` (one edge, under a Redis lease), advance the serving counter (every
//! edge adds the time since the last advance, so the fleet admits at the configured rate), and
//! refresh this edge's [`QueueView`]. A room whose pass or read fails keeps its last view and
//! tries again on the next pass; the other rooms go on.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use sale::config::EventConfig;

use sale::replication::ReplicationError;

use super::{QueueView, store};
use crate::live_config::Live;
use crate::redis_handle::RedisHandle;
use crate::view::REFRESH;

/// Keeps every queued event's room moving.
pub struct QueueKeeper {
    /// The config in force.
    pub live: Arc<Live>,
    /// What this edge knows of each room.
    pub view: Arc<QueueView>,
    /// The process's Redis.
    pub redis: Arc<RedisHandle>,
}

#[async_trait]
impl BackgroundService for QueueKeeper {
    async fn start(&self, shutdown: ShutdownWatch) {
        sale::background::every(REFRESH, shutdown, || async {
            if let Err(e) = self.tick().await {
                tracing::warn!(error = %e, "waiting room: redis unavailable; keeping the last view");
            }
        })
        .await;
    }
}

impl QueueKeeper {
    async fn tick(&self) -> redis::RedisResult<()> {
        let snapshot = self.live.snapshot();
        let queued: Vec<&EventConfig> = snapshot
            .config
            .events
            .iter()
            .filter(|e| e.queue.is_some())
            .collect();
        if queued.is_empty() {
            return Ok(());
        }
        let mut con = self.redis.room_connection().await?;
        let now = sale::time::now_millis();
        for event in &queued {
            // One room's failure (a failed draw, corrupt state, replicas behind) must not stall
            // the others.
            if let Err(e) = self.step(&mut con, event, now).await {
                tracing::warn!(event = %event.id, error = %e, "waiting room: this pass failed; trying again");
            }
        }
        let mut states = HashMap::new();
        for (event, read) in store::read_each(&con, &queued).await {
            let id = event.id.as_str();
            let state = read.unwrap_or_else(|e| {
                tracing::warn!(event = id, error = %e, "waiting room: cannot read; keeping the last view");
                self.view.get(id)
            });
            states.insert(id.to_owned(), state);
        }
        self.view.store(states);
        Ok(())
    }

    /// One room's pass: open it, draw it, or advance its counter, as its time says.
    async fn step(
        &self,
        con: &mut sale::redis_link::RedisLink,
        event: &EventConfig,
        now: u64,
    ) -> Result<(), ReplicationError> {
        let Some(queue) = &event.queue else {
            return Ok(());
        };
        let state = self.view.get(event.id.as_str());
        let replication = self.redis.replication();
        if now >= store::opens_at(event, queue) && state.salt.is_none() {
            store::open(con, event, replication).await?;
        }
        if now >= event.window.starts_at && !state.drawn {
            super::drawing::draw_if_due(con, event, replication).await?;
        }
        if state.drawn {
            store::advance(con, event, queue).await?;
        }
        Ok(())
    }
}
