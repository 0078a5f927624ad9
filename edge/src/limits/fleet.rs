//! The caps that hold for the whole edge fleet (`edge.limits.scope = "fleet"`, the default): the
//! per-user cap and the origin rate, each one GCRA decision in Redis by a small script
//! (`fleet.lua`, on Redis's clock), so a user alternating between edges meets the configured cap,
//! not N times it, and all edges together forward at most the origin rate. Each edge's own
//! limiter ([`super::Limits`]) runs first as a pre-filter: a flood is refused locally without a
//! Redis call, and only what it lets through is counted fleet-wide.
//!
//! A user's key carries the user in its hash tag, so users spread over a cluster's shards; the
//! origin-rate key is one key (one slot), touched once per forwarded buy. When Redis cannot be
//! asked, the decision falls back to the local limiter alone (counted in the log): a buy needs
//! Redis anyway, and a token request should not fail on a cap it has already passed locally.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::Script;
use sale::UserId;
use sale::config::{CapScope, LimitsConfig, Rate};

use super::{Cap, Limited};
use crate::redis_handle::RedisHandle;
use sale::redis_keys::{FLEET_ORIGIN_RATE, fleet_user_cap};

static GCRA: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("fleet.lua")));

/// The fleet-wide caps, over the process's Redis.
#[derive(Clone)]
pub struct FleetCaps {
    redis: Arc<RedisHandle>,
}

impl FleetCaps {
    /// Caps counted in `redis`.
    pub fn new(redis: Arc<RedisHandle>) -> Self {
        Self { redis }
    }

    async fn decide(&self, key: &str, rate: Rate, cap: Cap) -> Result<(), Limited> {
        let interval = u64::try_from(rate.period.as_micros()).unwrap_or(u64::MAX);
        let asked = async {
            let mut con = self.redis.connection().await?;
            GCRA.key(key)
                .arg(interval.max(1))
                .arg(rate.burst.max(1))
                .invoke_async::<u64>(&mut con)
                .await
        };
        match asked.await {
            Ok(0) => Ok(()),
            Ok(wait_us) => Err(Limited {
                cap,
                retry_after: Duration::from_micros(wait_us),
            }),
            Err(e) => {
                tracing::warn!(error = %e, cap = cap.label(), "fleet cap unavailable; local cap only");
                Ok(())
            }
        }
    }

    /// One token or buy request by `user`, counted for the fleet.
    pub async fn check_user(&self, limits: &LimitsConfig, user: &UserId) -> Result<(), Limited> {
        if limits.scope == CapScope::Edge {
            return Ok(());
        }
        self.decide(&fleet_user_cap(user), limits.per_user, Cap::User)
            .await
    }

    /// One buy about to be forwarded, counted for the fleet.
    pub async fn forward_buy(&self, limits: &LimitsConfig) -> Result<(), Limited> {
        if limits.scope == CapScope::Edge {
            return Ok(());
        }
        self.decide(FLEET_ORIGIN_RATE, limits.origin_rate, Cap::OriginRate)
            .await
    }
}
