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
use sale::config::{ConfigError, Environment, EventConfig};
use sale::redis_keys::EventKeys;
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
    /// The file drops an event whose orders still need this origin: reservations waiting for
    /// payment (their expiry returns seats), paid orders not yet finished, or stream entries
    /// not yet in the order database. Only events in the file are swept and consumed.
    #[error(
        "event {event} is no longer in the file, but it still has {reserved} reservation(s) \
         awaiting payment, {paid} paid order(s) not finished and {unwritten} order change(s) not \
         yet in the order database; remove it once its sale has ended and these have settled"
    )]
    Unsettled {
        /// The dropped event.
        event: EventId,
        /// Its reservations awaiting payment.
        reserved: u64,
        /// Its paid orders not yet finished.
        paid: u64,
        /// Its stream entries the ledger has not acknowledged.
        unwritten: u64,
    },
    /// Redis could not say whether a dropped event has settled.
    #[error("cannot check the events the file drops: {0}")]
    Check(#[from] crate::reconcile::ReconcileError),
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
        let running = self.state.config();
        for dropped in running
            .events
            .iter()
            .filter(|e| next.event(e.id.as_str()).is_none())
        {
            self.settled(dropped).await?;
        }
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

    /// Refuses to drop `event` while its orders still need the sweeper or the ledger.
    async fn settled(&self, event: &EventConfig) -> Result<(), ReloadError> {
        let keys = EventKeys::new(&event.id);
        let mut redis = self.state.stock().link().clone();
        let (reserved, paid): (u64, u64) = redis::pipe()
            .zcard(&keys.deadlines)
            .scard(&keys.paid)
            .query_async(&mut redis)
            .await
            .map_err(OriginError::from)?;
        let unwritten = crate::reconcile::ledger_backlog(&mut redis, event).await?;
        if reserved + paid + unwritten == 0 {
            return Ok(());
        }
        Err(ReloadError::Unsettled {
            event: event.id.clone(),
            reserved,
            paid,
            unwritten,
        })
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
