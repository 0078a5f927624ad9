//! `flashgate webhooks replay --config F --since RFC3339`: deliver every order change since then
//! to `[webhooks] url` again, in order per order, whatever became of it before (delivered, still
//! retrying, or set aside). Receivers dedupe by the change's `id`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

/// Order webhooks.
#[derive(Debug, Args)]
pub struct WebhooksArgs {
    /// What to do.
    #[command(subcommand)]
    pub action: WebhooksAction,
}

/// What `flashgate webhooks` does.
#[derive(Debug, Subcommand)]
pub enum WebhooksAction {
    /// Deliver again every order change since a time; exits non-zero if any was not acknowledged.
    Replay {
        /// The config file (for the order database and `[webhooks]`).
        #[arg(long)]
        config: PathBuf,
        /// RFC 3339, e.g. `2026-12-02T18:00:00Z`.
        #[arg(long)]
        since: String,
    },
}

impl WebhooksArgs {
    /// Runs the action.
    pub fn run(self) -> Result<()> {
        let WebhooksAction::Replay { config, since } = self.action;
        let since_ms = sale::time::parse_rfc3339(&since)
            .map_err(|e| anyhow::anyhow!("--since {since:?} is not an RFC 3339 time: {e}"))?;
        let loaded = super::load(&config)?;
        let hooks = loaded
            .webhooks
            .clone()
            .with_context(|| format!("{} has no [webhooks] to deliver to", config.display()))?;
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let replayed = runtime.block_on(async {
            let store = origin::ledger::OrderStore::connect(&loaded.origin.database_url)
                .await
                .context("cannot open the order database")?;
            let since = sale::saturating::to_i64(since_ms);
            anyhow::Ok(origin::webhooks::replay(&store, &hooks, since).await?)
        })?;
        println!(
            "replayed since {since}: {} delivered, {} not acknowledged",
            replayed.delivered, replayed.failed
        );
        if replayed.failed > 0 {
            bail!(
                "{} change(s) were not acknowledged by {}",
                replayed.failed,
                hooks.url
            );
        }
        Ok(())
    }
}
