//! `flashgate audit`: recompute an event's waiting-room draw from what was published and check it
//! against the admissions granted; non-zero exit on any mismatch.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;

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
        let verdict = crate::audit::verdict(&config, event)?;
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
