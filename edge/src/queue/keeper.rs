//! The waiting room's background work on every edge, every 250 ms: open each queued event's room
//! when its pre-queue opens (the first edge stores the salt, the seed and the commitment), run
//! the draw at `starts_at` (one edge, under a Redis lease), advance the serving counter (every
//! edge adds the time since the last advance, so the fleet admits at the configured rate), and
//! refresh this edge's [`QueueView`]. A failed pass keeps the last view and tries again.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use sale::config::EventConfig;

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
        let mut con = self.redis.connection().await?;
        let now = sale::time::now_millis();
        for event in &queued {
            let Some(queue) = &event.queue else { continue };
            let state = self.view.get(event.id.as_str());
            if now >= store::opens_at(event, queue) && state.salt.is_none() {
                store::open(&mut con, event).await?;
            }
            if now >= event.window.starts_at && !state.drawn {
                store::draw_if_due(&mut con, event).await?;
            }
            if state.drawn {
                store::advance(&mut con, event, queue).await?;
            }
        }
        self.view.store(store::read_all(&con, &queued).await?);
        Ok(())
    }
}
