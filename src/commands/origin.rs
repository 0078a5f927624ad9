//! `flashgate origin`: one origin node, until SIGTERM/SIGINT, reloading its file on SIGHUP.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use sale::config::Environment;

/// Run one origin node.
#[derive(Debug, Args)]
pub struct OriginArgs {
    /// The config file.
    #[arg(long)]
    pub config: PathBuf,
    /// Where to listen; defaults to the first `[[origins]]` entry.
    #[arg(long)]
    pub listen: Option<SocketAddr>,
}

impl OriginArgs {
    /// Serves until stopped.
    pub fn run(self) -> Result<()> {
        // The component's environment: relative sale times only with the start shared by the
        // whole stack, or each origin would seed its own window.
        let env = Environment::for_component();
        let config = sale::Config::load(&self.config, &env)
            .with_context(|| format!("config {}", self.config.display()))?;
        let file = origin::reload::ConfigFile {
            path: self.config.clone(),
            env,
        };
        let listen = match self
            .listen
            .or_else(|| config.origins.first().map(|o| o.listen))
        {
            Some(addr) => addr,
            None => bail!("no --listen given and the config lists no origins"),
        };
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("origin cannot listen on {listen}"))?;
            origin::run(
                config,
                Some(file),
                listener,
                crate::signals::stop_requested(),
            )
            .await?;
            Ok(())
        })
    }
}
