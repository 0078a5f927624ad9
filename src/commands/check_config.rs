//! `flashgate check-config`: validate a config file, then load what it names as the edge and the
//! origins would (the static pages, the certificates), print every problem, exit non-zero if
//! any. What it names is checked once the file itself is valid, since only then are its paths
//! known.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use sale::Config;
use sale::config::{ConfigError, Environment};

/// What keeps the files the config names from serving, each naming its file: the static pages
/// (the edge loads them whole at start and on every reload, and refuses a folder without
/// `index.html` or with a file over its bound), `[edge.tls]`'s certificates, and each origin's
/// CA, certificate and key. The development certificate is made by `flashgate up` at its first
/// start, so before that its absence is fine.
fn file_problems(config: &Config) -> Vec<String> {
    let mut problems = Vec::new();
    if let Err(e) = edge::page::PageCache::load(&config.edge.static_dir) {
        problems.push(format!("edge.static_dir: {e}"));
    }
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
                let problems = file_problems(&config);
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
