//! The single-component subcommands: each loads the config and calls the component's `run`.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sale::config::{ConfigError, Environment};
use sale::{Config, UserId};

fn load(path: &Path) -> Result<Config> {
    Config::load(path, &Environment::from_process())
        .with_context(|| format!("config {}", path.display()))
}

/// `flashgate edge`: blocks until SIGTERM/SIGINT (or SIGQUIT, handing over to an upgrade).
pub fn edge(config: &Path, upgrade: bool) -> Result<()> {
    edge::run(config, Environment::from_process(), upgrade)
        .with_context(|| format!("config {}", config.display()))
}

/// `flashgate origin`: serves until SIGTERM/SIGINT, reloading the file on SIGHUP.
pub fn origin(config_path: &Path, listen: Option<SocketAddr>) -> Result<()> {
    let config = load(config_path)?;
    let file = origin::reload::ConfigFile {
        path: config_path.to_owned(),
        env: Environment::from_process(),
    };
    let listen = match listen.or_else(|| config.origins.first().map(|o| o.listen)) {
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

/// `flashgate check-config`: every problem, or a one-line summary.
pub fn check_config(path: &Path) -> Result<()> {
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

/// `flashgate reconcile`: prints the report; fails if anything disagrees.
pub fn reconcile(path: &Path, event: &str, wait: u64) -> Result<()> {
    let config = load(path)?;
    let event = config
        .event(event)
        .with_context(|| format!("no event {event:?} in {}", path.display()))?
        .clone();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let report = runtime.block_on(async {
        let client = redis::Client::open(config.redis_url.as_str())?;
        let mut redis = client
            .get_connection_manager_with_config(crate::stack::ready::batch_redis_config())
            .await
            .context("cannot reach Redis")?;
        let store = origin::ledger::OrderStore::connect(&config.origin.database_url)
            .await
            .context("cannot open the order database")?;
        anyhow::Ok(
            origin::reconcile::reconcile(&mut redis, &store, &event, Duration::from_secs(wait))
                .await?,
        )
    })?;
    println!("{report}");
    if report.is_clean() {
        Ok(())
    } else {
        bail!(
            "{} mismatch(es) between Redis and the order database",
            report.problems.len()
        )
    }
}

/// `flashgate mint-session`: prints a session token for `user`.
pub fn mint_session(path: &Path, user: &str, ttl: Option<u64>) -> Result<()> {
    let config = load(path)?;
    let user = UserId::parse(user).map_err(|e| anyhow::anyhow!("--user {e}"))?;
    let ttl = ttl.map_or(config.tokens.session_ttl, Duration::from_secs);
    let expires_at = sale::time::add(sale::time::now_millis(), ttl);
    println!(
        "{}",
        sale::session::mint(&config.secrets.session_keys, &user, expires_at)
    );
    Ok(())
}
