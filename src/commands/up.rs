//! `flashgate up`: the whole stack on this machine.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::DEFAULT_CONFIG;

/// Run the whole stack on this machine: Redis, the origins and the edges.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// The config file.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// Rehearsal: every event's stock, overriding the config.
    #[arg(long)]
    pub stock: Option<u32>,
    /// Rehearsal: every event opens this long after start (e.g. `30s`), overriding the config.
    #[arg(long)]
    pub opens_in: Option<String>,
    /// Start from empty Redis data and order database (removes them from `up.var_dir`).
    #[arg(long)]
    pub fresh: bool,
    /// Run on a real local Redis Cluster, as `[up] redis_cluster` describes (default 3
    /// primaries with a replica each, ports from 7000), instead of one redis-server.
    #[arg(long)]
    pub redis_cluster: bool,
    /// Run N edges, the i-th (from 0) on the configured public and admin ports plus i.
    #[arg(long, default_value_t = 1)]
    pub edges: u16,
}

impl UpArgs {
    /// Runs the stack until Ctrl-C, SIGTERM or a crash.
    pub fn run(self) -> Result<()> {
        let rehearsal = crate::up::Rehearsal {
            stock: self.stock,
            opens_in: self.opens_in,
            fresh: self.fresh,
            redis_cluster: self.redis_cluster,
            edges: self.edges,
        };
        crate::up::run(&self.config, &rehearsal)
    }
}
