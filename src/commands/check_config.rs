//! `flashgate check-config`: validate a config file and the certificates it names, print every
//! problem, exit non-zero if any.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use sale::Config;
use sale::config::{ConfigError, Environment};

/// What keeps `[edge.tls]`'s certificates from serving (each naming its file). The development
/// certificate is made by `flashgate up` at its first start, so before that its absence is fine.
fn certificate_problems(config: &Config) -> Vec<String> {
    let Some(tls) = &config.edge.tls else {
        return Vec::new();
    };
    if tls.development && tls.certificates.iter().all(|c| !c.cert.exists()) {
        return Vec::new();
    }
    let now = edge::live_config::unix_secs(sale::time::now_millis());
    match edge::tls::certificates::Certificates::load(tls, now) {
        Ok(_) => Vec::new(),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

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
                let problems = certificate_problems(&config);
                for problem in &problems {
                    println!("{}: edge.tls.certificates: {problem}", path.display());
                }
                if !problems.is_empty() {
                    bail!("{} has {} problem(s)", path.display(), problems.len());
                }
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
