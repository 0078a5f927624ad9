//! Live reload of an origin, on SIGHUP (`flashgate up` forwards its own SIGHUP to every origin).
//! The new file is validated whole and must change nothing only a restart can (the Redis and
//! database connections, an event's stock); then every event is seeded or refreshed in Redis
//! (so a moved sale window reaches the reservation script), the local allowances follow the new
//! events and weights, the new key rings verify the edge's signature, and new events get their
//! ledger consumer and sweeper. A file that fails any step leaves this origin on its running
//! config; only Redis failing part way through the refresh leaves the events refreshed before
//! the failure with the new values there (Redis is shared by the fleet, so putting old values
//! back could undo another origin's reload); refreshing again is idempotent.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use sale::config::reload::Component;
use sale::config::{ConfigError, Environment};
use sale::{Config, EventId};
use tokio::sync::watch;

use crate::error::OriginError;
use crate::state::AppState;

/// Where an origin's config comes from, to read it again.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    /// The file.
    pub path: PathBuf,
    /// What its values may refer to.
    pub env: Environment,
}

/// Why a reload was refused; the running config stays.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The file is unreadable, invalid, or changes what needs a restart.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// Redis could not seed or refresh an event.
    #[error("cannot seed events: {0}")]
    Seed(#[from] OriginError),
}

/// Applies reloads to one running origin.
pub struct Reloader {
    /// The file to read again.
    pub file: ConfigFile,
    /// What the handlers share.
    pub state: AppState,
    /// This node's address, which names its weight.
    pub addr: SocketAddr,
    /// The events in force, for the ledger and the sweeper.
    pub events: watch::Sender<Vec<EventId>>,
}

impl Reloader {
    /// Reads the file again and puts it in force, or changes nothing.
    pub async fn reload(&self) -> Result<(), ReloadError> {
        let next = self.state.config().reloaded(
            Config::load(&self.file.path, &self.file.env),
            Component::Origin,
        )?;
        for event in &next.events {
            self.state.stock().seed(event).await?;
        }
        let local = self.state.local();
        local.reconfigure(&next, self.addr);
        crate::stock::local::refill_once(local, self.state.stock().link()).await;
        let events = next.events.iter().map(|e| e.id.clone()).collect();
        let metrics = self.state.metrics();
        metrics.start_series(next.events.iter().map(|e| e.id.as_str()));
        self.state.swap_config(Arc::new(next));
        self.events.send_replace(events);
        Ok(())
    }

    /// Reloads on every SIGHUP until `shutdown` turns true.
    pub async fn on_hangup(self, shutdown: watch::Receiver<bool>) {
        let reload = || async {
            match self.reload().await {
                Ok(()) => tracing::info!("config reloaded"),
                Err(e) => {
                    tracing::warn!(error = %e, "config reload refused; the running config stays")
                }
            }
        };
        if let Err(e) = sale::background::on_hangup(shutdown, reload).await {
            tracing::error!(error = %e, "cannot listen for SIGHUP; this origin will not reload");
        }
    }
}
