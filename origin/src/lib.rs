//! The flashgate origin: an axum service that wins or refuses seats with one atomic Redis script
//! per buy and keeps the order database in step through the events' Redis Streams.
//!
//! [`run`] is the whole service; the `flashgate origin` subcommand only parses arguments and
//! calls it, and tests call it the same way.

pub mod durability;
pub mod error;
pub mod health;
pub mod ledger;
pub mod metrics;
pub mod orders;
pub mod reconcile;
pub mod reload;
pub mod routes;
pub mod signature;
pub mod state;
pub mod stock;
pub mod sweeper;
pub mod tls_listener;
pub mod webhooks;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use sale::Config;
use sale::redis_link::{LinkOptions, RedisLink};
use thiserror::Error;
use tokio::net::TcpListener;

use crate::ledger::{Ledger, OrderStore};
use crate::reload::{ConfigFile, Reloader};
use crate::state::AppState;
use crate::stock::StockEngine;
use crate::stock::lifecycle::Lifecycle;
use crate::stock::local::LocalStock;
use crate::tls_listener::TlsListener;
use sale::replication::Replication;

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
    /// A cluster primary has fewer replicas than `redis.min_replica_acks`, so every order change
    /// on its shard would answer 503 with its seat held.
    #[error(
        "redis.min_replica_acks can never be met: {0}; add replicas or lower redis.min_replica_acks"
    )]
    TooFewReplicas(String),
    /// The order database could not be opened or migrated.
    #[error("cannot open the order database: {0}")]
    Database(#[from] sqlx::Error),
    /// This origin's certificate or key cannot serve.
    #[error("origins[].tls: {0}")]
    Tls(#[from] tls_listener::OriginTlsError),
    /// The listener failed.
    #[error("listener failed: {0}")]
    Io(#[from] std::io::Error),
}

/// Refuses a cluster whose topology cannot give every order change the replicas it waits for. One
/// server forgets replicas that are gone, so there a missing replica shows in `/healthz` instead.
async fn refuse_unreachable_acks(
    redis: &mut RedisLink,
    config: &Config,
) -> Result<(), OriginStartError> {
    let wanted = config.redis.replica_acks.min;
    if wanted == 0 || !matches!(config.redis.target, sale::config::RedisTarget::Cluster(_)) {
        return Ok(());
    }
    let short = sale::replication::shortfalls(&redis.nodes().await?, wanted, |n| n.replicas);
    if short.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = short.iter().map(ToString::to_string).collect();
    Err(OriginStartError::TooFewReplicas(named.join(", ")))
}

/// Serves on `listener` until `shutdown` resolves, then stops the ledger consumer too. With
/// `reload_from`, a SIGHUP reads that file again and puts it in force ([`reload`]).
pub async fn run(
    config: Config,
    reload_from: Option<ConfigFile>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), OriginStartError> {
    let addr = listener.local_addr()?;
    let node = format!("origin@{addr}");
    // TLS as this origin's own `[[origins]]` entry asks, checked before anything is started.
    let tls = match config
        .origins
        .iter()
        .find(|o| o.listen == addr)
        .and_then(|o| o.tls.as_ref())
    {
        Some(tls) => Some(tls_listener::acceptor(tls)?),
        None => None,
    };
    let options = LinkOptions {
        response_timeout: Some(REDIS_REPLY_TIMEOUT),
        connection_timeout: Duration::from_secs(1),
        retries: 2,
        read_from_replicas: false,
    };
    let redis = RedisLink::open(&config.redis.target, options).await?;
    // The health probe and the stock refill get their own connection: an order change's WAIT
    // holds the one it was written on, and a lagging replica must never make this origin look dead.
    let probe = RedisLink::open(&config.redis.target, options).await?;
    let redis_target = config.redis.target.clone();
    durability::check(&mut redis.clone(), config.redis.durability).await?;
    let replication = Replication::new(config.redis.replica_acks);
    refuse_unreachable_acks(&mut probe.clone(), &config).await?;
    let stock = StockEngine::new(redis.clone(), replication.clone());
    let local = Arc::new(LocalStock::new(&config, addr));
    for event in &config.events {
        let seeded = stock.seed(event).await?;
        tracing::info!(event = %event.id, remaining = seeded.remaining, "event seeded");
        if seeded.total != u64::from(event.stock) {
            tracing::warn!(
                event = %event.id,
                in_force = seeded.total,
                configured = event.stock,
                "this event was seeded with another stock, which stays in force (seats sold \
                 cannot be unsold): start from empty data (`flashgate up --fresh`) to sell the \
                 configured stock"
            );
        }
    }
    stock::local::refill_once(&local, &probe).await;

    let store = OrderStore::connect(&config.origin.database_url).await?;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let (events, events_in_force) =
        tokio::sync::watch::channel(config.events.iter().map(|e| e.id.clone()).collect());
    let lifecycle = Lifecycle::new(redis.clone(), replication.clone());
    let metrics = Arc::new(metrics::Metrics::new());
    metrics.start_series(config.events.iter().map(|e| e.id.as_str()));
    let state = AppState::new(
        Arc::new(config),
        stock,
        lifecycle.clone(),
        local.clone(),
        metrics.clone(),
        health::Health::new(probe.clone(), replication),
    );
    let wake = Arc::new(tokio::sync::Notify::new());
    let deliverer = webhooks::Deliverer {
        store: store.clone(),
        state: state.clone(),
        wake: wake.clone(),
        owner: format!("{node}#{:08x}", rand::random::<u32>()),
        redis: probe.clone(),
    };
    let mut background = vec![
        tokio::spawn(
            Ledger::new(redis_target, store, node.clone(), metrics.clone())
                .waking(wake)
                .run(events_in_force.clone(), stopped.clone()),
        ),
        tokio::spawn(deliverer.run(stopped.clone())),
        tokio::spawn(sweeper::run(lifecycle, events_in_force, stopped.clone())),
        tokio::spawn(stock::local::refill(local, metrics, probe, stopped.clone())),
    ];
    if let Some(file) = reload_from {
        let reloader = Reloader {
            file,
            state: state.clone(),
            addr,
            events,
        };
        background.push(tokio::spawn(reloader.on_hangup(stopped)));
    }

    let app = routes::router(state);
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = match tls {
        Some(acceptor) => {
            tracing::info!(%node, "origin serving over TLS");
            // `tap_io` only to keep the peer address for `ConnectInfo`, as axum gives it to
            // listeners it wraps.
            let listener = TlsListener::new(listener, acceptor)?.tap_io(|_| ());
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
        None => {
            tracing::info!(%node, "origin serving");
            axum::serve(listener, service)
                .with_graceful_shutdown(shutdown)
                .await
        }
    };
    let _ = stop.send(true);
    for task in background {
        if let Err(e) = task.await {
            tracing::error!(error = %e, "background task failed");
        }
    }
    served.map_err(OriginStartError::from)
}
