//! `flashgate edge`: the public gatekeeper, until SIGTERM/SIGINT (or SIGQUIT, handing over to
//! an upgrade).

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use sale::config::Environment;

/// Run the edge (the public gatekeeper).
#[derive(Debug, Args)]
pub struct EdgeArgs {
    /// The config file.
    #[arg(long)]
    pub config: PathBuf,
    /// Take over the sockets of the running edge (graceful binary upgrade; then SIGQUIT it).
    #[arg(long)]
    pub upgrade: bool,
}

impl EdgeArgs {
    /// Serves until stopped.
    pub fn run(self) -> Result<()> {
        edge::run(&self.config, Environment::for_component(), self.upgrade)
            .with_context(|| format!("config {}", self.config.display()))
    }
}
