//! What every handler shares: the config in force (swapped whole by a reload), the stock engine
//! and the metrics.

use std::sync::Arc;

use arc_swap::ArcSwap;
use sale::Config;

use crate::health::Health;
use crate::metrics::Metrics;
use crate::stock::StockEngine;
use crate::stock::lifecycle::Lifecycle;
use crate::stock::local::LocalStock;

/// Cheap to clone: one `Arc` around the shared parts.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    config: ArcSwap<Config>,
    /// Configs put in force so far, 1 at start: `/healthz` reports it, so a supervisor knows a
    /// reload has landed.
    config_version: std::sync::atomic::AtomicU64,
    stock: StockEngine,
    lifecycle: Lifecycle,
    local: Arc<LocalStock>,
    metrics: Arc<Metrics>,
    health: Health,
    /// Wrong admin tokens by client, for the metrics endpoint.
    lockout: sale::lockout::Lockout,
}

impl AppState {
    /// Bundles the shared parts.
    pub fn new(
        config: Arc<Config>,
        stock: StockEngine,
        lifecycle: Lifecycle,
        local: Arc<LocalStock>,
        metrics: Arc<Metrics>,
        health: Health,
    ) -> Self {
        Self(Arc::new(Inner {
            config: ArcSwap::new(config),
            config_version: std::sync::atomic::AtomicU64::new(1),
            stock,
            lifecycle,
            local,
            metrics,
            health,
            lockout: sale::lockout::Lockout::default(),
        }))
    }

    /// The config in force.
    pub fn config(&self) -> Arc<Config> {
        self.0.config.load_full()
    }

    /// Puts `config` in force for every request from now on.
    pub fn swap_config(&self, config: Arc<Config>) {
        self.0.config.store(config);
        self.0
            .config_version
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// How many configs have been put in force, counting the first.
    pub fn config_version(&self) -> u64 {
        self.0
            .config_version
            .load(std::sync::atomic::Ordering::Acquire)
    }

    /// Seat operations.
    pub fn stock(&self) -> &StockEngine {
        &self.0.stock
    }

    /// Order transitions.
    pub fn lifecycle(&self) -> &Lifecycle {
        &self.0.lifecycle
    }

    /// This node's local seat allowances.
    pub fn local(&self) -> &Arc<LocalStock> {
        &self.0.local
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    /// Wrong admin tokens by client.
    pub fn lockout(&self) -> &sale::lockout::Lockout {
        &self.0.lockout
    }

    /// What `/healthz` asks.
    pub fn health(&self) -> &Health {
        &self.0.health
    }
}
