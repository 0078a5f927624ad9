//! `flashgate mint-session`: print a signed user session, as the site's login service would.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use sale::UserId;

/// Print a signed user session, as the site's login service would issue it.
#[derive(Debug, Args)]
pub struct MintSessionArgs {
    /// The config file (for the session key).
    #[arg(long)]
    pub config: PathBuf,
    /// The user id.
    #[arg(long)]
    pub user: String,
    /// Lifetime in seconds; defaults to `tokens.session_ttl`.
    #[arg(long)]
    pub ttl: Option<u64>,
}

impl MintSessionArgs {
    /// Prints the session token.
    pub fn run(self) -> Result<()> {
        let config = super::load(&self.config)?;
        let user = UserId::parse(&self.user).map_err(|e| anyhow::anyhow!("--user {e}"))?;
        let ttl = self
            .ttl
            .map_or(config.tokens.session_ttl, Duration::from_secs);
        let expires_at = sale::time::add(sale::time::now_millis(), ttl);
        println!(
            "{}",
            sale::session::mint(&config.secrets.session_keys, &user, expires_at)
        );
        Ok(())
    }
}
