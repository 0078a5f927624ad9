//! What every handler shares: the config, the stock engine and the metrics.

use std::sync::Arc;

use sale::Config;

use crate::lifecycle::Lifecycle;
use crate::local_stock::LocalStock;
use crate::metrics::Metrics;
use crate::stock::StockEngine;

/// Cheap to clone: one `Arc` around the shared parts.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    config: Arc<Config>,
    stock: StockEngine,
    lifecycle: Lifecycle,
    local: Arc<LocalStock>,
    metrics: Arc<Metrics>,
}

impl AppState {
    /// Bundles the shared parts.
    pub fn new(
        config: Arc<Config>,
        stock: StockEngine,
        lifecycle: Lifecycle,
        local: Arc<LocalStock>,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self(Arc::new(Inner {
            config,
            stock,
            lifecycle,
            local,
            metrics,
        }))
    }

    /// The config this origin started with.
    pub fn config(&self) -> &Config {
        &self.0.config
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
    pub fn local(&self) -> &LocalStock {
        &self.0.local
    }

    /// Counters.
    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }
}
