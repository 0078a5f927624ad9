//! `flashgate reconcile`: compare Redis with the order database for one event; non-zero exit on
//! any mismatch.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::Args;

/// Compare Redis with the order database for one event; exit non-zero on any mismatch.
#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// The config file (for Redis and the database).
    #[arg(long)]
    pub config: PathBuf,
    /// The event id.
    #[arg(long)]
    pub event: String,
    /// Seconds to wait for the ledger to write its backlog before comparing.
    #[arg(long, default_value_t = 10)]
    pub wait: u64,
}

impl ReconcileArgs {
    /// Prints the report; fails if anything disagrees.
    pub fn run(self) -> Result<()> {
        let config = super::load(&self.config)?;
        let event = config
            .event(&self.event)
            .with_context(|| format!("no event {:?} in {}", self.event, self.config.display()))?
            .clone();
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let report = runtime.block_on(async {
            let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
                .await
                .context("cannot reach Redis")?;
            let store = origin::ledger::OrderStore::connect(&config.origin.database_url)
                .await
                .context("cannot open the order database")?;
            let wait = Duration::from_secs(self.wait);
            anyhow::Ok(origin::reconcile::reconcile(&mut redis, &store, &event, wait).await?)
        })?;
        println!("{report}");
        if report.is_clean() {
            Ok(())
        } else {
            bail!(
                "{} mismatch(es) between Redis and the order database",
                report.problems.len()
            )
        }
    }
}
