//! `flashgate up`: the whole stack on this machine.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use super::DEFAULT_CONFIG;

/// Run the whole stack on this machine: Redis, the origins and the edge.
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
}

impl UpArgs {
    /// Runs the stack until Ctrl-C, SIGTERM or a crash.
    pub fn run(self) -> Result<()> {
        let rehearsal = crate::up::Rehearsal {
            stock: self.stock,
            opens_in: self.opens_in,
            fresh: self.fresh,
        };
        crate::up::run(&self.config, &rehearsal)
    }
}
