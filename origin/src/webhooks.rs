//! Order webhooks: every change in the change history is delivered to the operator's receiver,
//! at least once and in order per order, from the database (after the commit that recorded it),
//! so neither a crash nor a receiver that is down loses one. Failed deliveries are retried with
//! a doubling backoff and set aside after `max_attempts` (counted, shown on the dashboard,
//! delivered again by `flashgate webhooks replay`).

pub mod delivery;
pub mod outbox;

use std::sync::Arc;
use std::time::Duration;

use redis::AsyncCommands;
use sale::config::WebhooksConfig;
use sale::redis_link::RedisLink;
use tokio::sync::{Notify, watch};

use crate::ledger::OrderStore;
use crate::state::AppState;

/// Changes claimed per pass; each is a different order (see [`outbox`]).
const BATCH: i64 = 64;
/// How often a pass runs with nothing waking it (retries coming due, other origins' changes).
const IDLE: Duration = Duration::from_millis(500);
/// How often the delivery states are counted for the metrics and the dashboard.
const COUNT_EVERY: Duration = Duration::from_secs(2);
/// The Redis hash the dashboard reads the counts from (`pending`, `set_aside`, `delivered`).
pub const STATUS_KEY: &str = "fg:webhooks";

/// Delivers order webhooks while `[webhooks]` is configured.
pub struct Deliverer {
    /// The order database.
    pub store: OrderStore,
    /// The config in force (reloads may add, change or remove `[webhooks]`).
    pub state: AppState,
    /// Woken by the ledger after each commit.
    pub wake: Arc<Notify>,
    /// This origin's name for its leases, unique per process: origins on other hosts may
    /// listen on the same address, and a restarted origin must not take over what its earlier
    /// life may still be sending (its leases run out instead).
    pub owner: String,
    /// Where the counts are published for the dashboard.
    pub redis: RedisLink,
}

impl Deliverer {
    /// Runs until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let client = delivery::client();
        let mut counted = tokio::time::Instant::now() - COUNT_EVERY;
        while !*shutdown.borrow() {
            let config = self.state.config();
            let delivered = match &config.webhooks {
                Some(hooks) => self.pass(&client, hooks).await,
                None => Ok(0),
            };
            if config.webhooks.is_some() && counted.elapsed() >= COUNT_EVERY {
                self.publish_backlog().await;
                counted = tokio::time::Instant::now();
            }
            match delivered {
                // More may be due right behind these (the next change of each order).
                Ok(n) if n > 0 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook pass failed; retrying"),
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(IDLE) => {}
                _ = shutdown.changed() => {}
            }
        }
    }

    /// Claims what is due and delivers it, each order's change concurrently with the others'.
    async fn pass(
        &self,
        client: &reqwest::Client,
        hooks: &WebhooksConfig,
    ) -> Result<usize, sqlx::Error> {
        let pool = self.store.pool();
        let now = sale::saturating::to_i64(sale::time::now_millis());
        let due = outbox::claim(pool, &self.owner, now, BATCH).await?;
        let mut sending = tokio::task::JoinSet::new();
        for change in due {
            let (client, hooks) = (client.clone(), hooks.clone());
            sending.spawn(async move {
                let result = delivery::post(&client, &hooks, &change.body).await;
                (change, result)
            });
        }
        let mut count = 0;
        let mut acknowledged = 0;
        let metrics = self.state.metrics();
        while let Some(joined) = sending.join_next().await {
            let Ok((change, result)) = joined else {
                continue;
            };
            count += 1;
            match result {
                Ok(()) => {
                    outbox::delivered(pool, &change.change_id).await?;
                    metrics.webhook("delivered");
                    acknowledged += 1;
                }
                Err(why) => {
                    let wait = delivery::backoff(hooks, change.attempts + 1);
                    let next = now + sale::saturating::to_i64(wait.as_millis());
                    let set_aside = outbox::failed(pool, &change, next, hooks.max_attempts).await?;
                    metrics.webhook(if set_aside { "set_aside" } else { "failed" });
                    if set_aside {
                        tracing::error!(change = %change.change_id, reason = %why, "order webhook set aside after its last attempt");
                    } else {
                        tracing::info!(change = %change.change_id, reason = %why, retry_in = ?wait, "order webhook not delivered; will retry");
                    }
                }
            }
        }
        if acknowledged > 0 {
            let mut redis = self.redis.clone();
            let counted: redis::RedisResult<()> =
                redis.hincr(STATUS_KEY, "delivered", acknowledged).await;
            if let Err(e) = counted {
                tracing::debug!(error = %e, "could not count delivered webhooks");
            }
        }
        Ok(count)
    }

    /// Counts what waits and what was set aside into the gauges and the dashboard's Redis hash
    /// (`delivered` there is a running total each delivery adds to).
    async fn publish_backlog(&self) {
        let (pending, set_aside) = match outbox::backlog(self.store.pool()).await {
            Ok(counts) => counts,
            Err(e) => {
                tracing::debug!(error = %e, "could not count webhook states");
                return;
            }
        };
        let metrics = self.state.metrics();
        metrics.webhook_backlog("pending", pending);
        metrics.webhook_backlog("set_aside", set_aside);
        let mut redis = self.redis.clone();
        let written: redis::RedisResult<()> = redis
            .hset_multiple(
                STATUS_KEY,
                &[("pending", pending), ("set_aside", set_aside)],
            )
            .await;
        if let Err(e) = written {
            tracing::debug!(error = %e, "could not publish webhook counts");
        }
    }
}

/// What `flashgate webhooks replay` did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    /// Changes the receiver acknowledged.
    pub delivered: usize,
    /// Changes it did not (after a few tries each).
    pub failed: usize,
}

/// Delivers every change since `since_ms` again, in order, each tried up to three times; marks
/// what was acknowledged as delivered. Once one change of an order is not acknowledged, that
/// order's later changes are not sent (they would arrive out of order); they count as failed.
pub async fn replay(
    store: &OrderStore,
    hooks: &WebhooksConfig,
    since_ms: i64,
) -> Result<Replayed, sqlx::Error> {
    let client = delivery::client();
    let mut replayed = Replayed::default();
    let mut stopped: std::collections::HashSet<String> = std::collections::HashSet::new();
    for change in outbox::since(store.pool(), since_ms).await? {
        if stopped.contains(&change.order_id) {
            replayed.failed += 1;
            continue;
        }
        let mut result = Err(String::new());
        for attempt in 0..3u32 {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            result = delivery::post(&client, hooks, &change.body).await;
            if result.is_ok() {
                break;
            }
        }
        match result {
            Ok(()) => {
                outbox::delivered(store.pool(), &change.change_id).await?;
                replayed.delivered += 1;
            }
            Err(why) => {
                tracing::warn!(change = %change.change_id, reason = %why, "replay not delivered");
                replayed.failed += 1;
                stopped.insert(change.order_id.clone());
            }
        }
    }
    Ok(replayed)
}
