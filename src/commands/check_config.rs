//! `flashgate check-config`: validate a config file, print every problem, exit non-zero if any.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use sale::Config;
use sale::config::{ConfigError, Environment};

/// Validate a config file, print every problem, exit non-zero if there is any.
#[derive(Debug, Args)]
pub struct CheckConfigArgs {
    /// The config file.
    pub config: PathBuf,
}

impl CheckConfigArgs {
    /// Every problem, or a one-line summary.
    pub fn run(self) -> Result<()> {
        let path = &self.config;
        match Config::load(path, &Environment::from_process()) {
            Ok(config) => {
                println!(
                    "{}: ok ({} origin(s), {} event(s))",
                    path.display(),
                    config.origins.len(),
                    config.events.len()
                );
                Ok(())
            }
            Err(ConfigError::Invalid(problems)) => {
                for problem in &problems {
                    println!("{}: {problem}", path.display());
                }
                bail!("{} has {} problem(s)", path.display(), problems.len())
            }
            Err(e) => bail!("{}: {e}", path.display()),
        }
    }
}
