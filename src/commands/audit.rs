//! `flashgate audit`: recompute an event's waiting-room draw from what was published and check it
//! against the admissions granted; non-zero exit on any mismatch.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use redis::AsyncCommands;
use sale::draw::EntrantId;
use sale::redis_keys::EventKeys;

/// Recompute the waiting room's draw and check it against the admissions; exit non-zero on any
/// mismatch.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The config file (for Redis).
    #[arg(long)]
    pub config: PathBuf,
    /// The event id.
    #[arg(long)]
    pub event: String,
}

impl AuditArgs {
    /// Prints the verdict; fails on any mismatch.
    pub fn run(self) -> Result<()> {
        let config = super::load(&self.config)?;
        let event = config
            .event(&self.event)
            .with_context(|| format!("no event {:?} in {}", self.event, self.config.display()))?;
        let verdict = verdict(&config, event)?;
        print!("{verdict}");
        if verdict.passed() {
            Ok(())
        } else {
            bail!(
                "{} mismatch(es) with the published draw",
                verdict.problems.len()
            )
        }
    }
}

/// Audits `event`'s draw against what Redis recorded.
pub fn verdict(
    config: &sale::Config,
    event: &sale::config::EventConfig,
) -> Result<crate::audit::Verdict> {
    {
        if event.queue.is_none() {
            bail!("event {} has no waiting room", event.id);
        }
        let keys = EventKeys::new(&event.id);
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let record = runtime.block_on(async {
            let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
                .await
                .context("cannot reach Redis")?;
            let meta: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(&keys.queue)
                .arg(&["commitment", "seed", "frozen", "drawn"])
                .query_async(&mut redis)
                .await?;
            let [commitment, seed, frozen, drawn] = meta.as_slice() else {
                bail!("unexpected reply from Redis");
            };
            if drawn.as_deref() != Some("1") {
                bail!(
                    "event {} has not been drawn yet: nothing to audit",
                    event.id
                );
            }
            let joined: Vec<Vec<u8>> = redis.lrange(&keys.queue_order, 0, -1).await?;
            let joined = joined
                .into_iter()
                .map(|b| b.try_into().map(EntrantId))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| anyhow::anyhow!("the entrant list holds a malformed id"))?;
            anyhow::Ok(crate::audit::Record {
                commitment: commitment.clone().unwrap_or_default(),
                seed: seed.clone().unwrap_or_default(),
                joined,
                frozen: frozen.as_deref().and_then(|f| f.parse().ok()).unwrap_or(0),
                grants: redis.lrange(&keys.queue_grants, 0, -1).await?,
            })
        })?;
        Ok(crate::audit::audit(&record))
    }
}
