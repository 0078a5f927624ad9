//! The flashgate origin: an axum service that wins or refuses seats with one atomic Redis script
//! per buy and keeps the order database in step through the events' Redis Streams.
//!
//! [`run`] is the whole service; the `flashgate origin` subcommand only parses arguments and
//! calls it, and tests call it the same way.

pub mod durability;
pub mod error;
pub mod ledger;
pub mod lifecycle;
pub mod local_stock;
pub mod metrics;
pub mod orders;
pub mod reconcile;
pub mod routes;
pub mod signature;
pub mod state;
pub mod stock;
pub mod sweeper;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use redis::aio::ConnectionManagerConfig;
use sale::Config;
use thiserror::Error;
use tokio::net::TcpListener;

use crate::ledger::{Ledger, OrderStore};
use crate::lifecycle::Lifecycle;
use crate::local_stock::LocalStock;
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
    /// Redis keeps less than `redis.durability` requires.
    #[error("{0}")]
    Durability(#[from] durability::DurabilityError),
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
    durability::check(&mut redis.clone(), config.redis_durability).await?;
    let stock = StockEngine::new(redis.clone());
    let local = Arc::new(local_allowances(&config, listener.local_addr()?));
    for event in &config.events {
        let remaining = stock.seed(event).await?;
        local.observe(event.id.as_str(), remaining);
        tracing::info!(event = %event.id, remaining, "event seeded");
    }

    let store = OrderStore::connect(&config.origin.database_url).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let events: Vec<_> = config.events.iter().map(|e| e.id.clone()).collect();
    let lifecycle = Lifecycle::new(redis.clone());
    let metrics = Arc::new(metrics::Metrics::new());
    let background = [
        tokio::spawn(
            Ledger::new(client, store, node.clone(), metrics.clone())
                .run(events.clone(), stopped.clone()),
        ),
        tokio::spawn(sweeper::run(lifecycle.clone(), events, stopped.clone())),
        tokio::spawn(local_stock::refill(
            local.clone(),
            metrics.clone(),
            redis,
            stopped,
        )),
    ];

    let app = routes::router(AppState::new(config, stock, lifecycle, local, metrics));
    tracing::info!(%node, "origin serving");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    let _ = stop.send(true);
    for task in background {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "background task failed");
        }
    }
    served.map_err(OriginStartError::from)
}

/// This node's allowances: its weight is its `[[origins]]` entry's (1 if it is not listed).
fn local_allowances(config: &Config, addr: std::net::SocketAddr) -> LocalStock {
    let weight = |o: &sale::config::OriginNode| o.weight.get() as u64;
    let listed: u64 = config.origins.iter().map(weight).sum();
    let (own, total) = match config.origins.iter().find(|o| o.listen == addr) {
        Some(node) => (weight(node), listed),
        None => (1, listed + 1),
    };
    LocalStock::new(
        &config.events,
        own,
        total,
        config.origin.local_stock_buffer_percent,
    )
}
