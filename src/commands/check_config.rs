//! `flashgate check-config`: validate a config file and the certificates it names, print every
//! problem, exit non-zero if any.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use sale::Config;
use sale::config::{ConfigError, Environment};

/// What keeps the certificates the config names from serving (each naming its file):
/// `[edge.tls]`'s, and each origin's CA, certificate and key. The development certificate is
/// made by `flashgate up` at its first start, so before that its absence is fine.
fn certificate_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if let Some(tls) = &config.edge.tls {
        let not_made_yet = tls.development && tls.certificates.iter().all(|c| !c.cert.exists());
        let now = edge::live_config::unix_secs(sale::time::now_millis());
        if !not_made_yet && let Err(list) = edge::tls::certificates::Certificates::load(tls, now) {
            problems.extend(list.iter().map(|p| format!("edge.tls.certificates: {p}")));
        }
    }
    if let Err(list) = edge::upstreams::origin_tls::load(&config.origins) {
        problems.extend(list.iter().map(|p| format!("origins[].tls.ca: {p}")));
    }
    for origin in &config.origins {
        if let Some(tls) = &origin.tls
            && let Err(e) = origin::tls_listener::acceptor(tls)
        {
            problems.push(format!("origins[].tls ({}): {e}", origin.listen));
        }
    }
    problems
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
                    println!("{}: {problem}", path.display());
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
