//! The flashgate origin: an axum service that wins or refuses seats with one atomic Redis script
//! per buy and keeps the order database in step through the events' Redis Streams.
//!
//! [`run`] is the whole service; the `flashgate origin` subcommand only parses arguments and
//! calls it, and tests call it the same way.

pub mod error;
pub mod ledger;
pub mod metrics;
pub mod orders;
pub mod routes;
pub mod signature;
pub mod state;
pub mod stock;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManagerConfig;
use sale::Config;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::ledger::{Ledger, OrderStore};
use crate::state::AppState;
use crate::stock::StockEngine;

/// Longest a buy waits on Redis before answering 503. Far above a healthy script's microseconds,
/// short enough that a client's retry (same token, same order) comes soon.
const REDIS_REPLY_TIMEOUT: Duration = Duration::from_secs(2);

/// Why the origin could not start or stopped serving.
#[derive(Debug, Error)]
pub enum OriginStartError {
    /// Redis was unreachable at start, or refused to seed an event.
    #[error("cannot reach Redis at start: {0}")]
    Redis(#[from] redis::RedisError),
    /// Seeding an event failed.
    #[error("cannot seed events: {0}")]
    Seed(#[from] error::OriginError),
    /// The order database could not be opened or migrated.
    #[error("cannot open the order database: {0}")]
    Database(#[from] sqlx::Error),
    /// The listener failed.
    #[error("listener failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Serves on `listener` until `shutdown` resolves, then stops the ledger consumer too.
pub async fn run(
    config: Arc<Config>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), OriginStartError> {
    let node = format!("origin@{}", listener.local_addr()?);
    let client = redis::Client::open(config.redis_url.as_str())?;
    let manager_config = ConnectionManagerConfig::new()
        .set_response_timeout(Some(REDIS_REPLY_TIMEOUT))
        .set_connection_timeout(Some(Duration::from_secs(1)));
    let redis = client
        .get_connection_manager_with_config(manager_config)
        .await?;
    let stock = StockEngine::new(redis);
    for event in &config.events {
        let remaining = stock.seed(event).await?;
        tracing::info!(event = %event.id, remaining, "event seeded");
    }

    let store = OrderStore::connect(&config.origin.database_url).await?;
    let (stop_ledger, ledger_shutdown) = tokio::sync::watch::channel(false);
    let events = config.events.iter().map(|e| e.id.clone()).collect();
    let ledger =
        tokio::spawn(Ledger::new(client, store, node.clone()).run(events, ledger_shutdown));

    let app = routes::router(AppState::new(config, stock));
    tracing::info!(%node, "origin serving");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop_ledger.send(true);
    if let Err(e) = ledger.await {
        tracing::error!(error = %e, "ledger task failed");
    }
    served.map_err(OriginStartError::from)
}
