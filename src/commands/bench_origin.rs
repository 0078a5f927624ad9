//! `flashgate bench-origin`: load one origin's buy path with signed requests.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;

/// Benchmark one origin's buy path with signed requests (see docs/benchmarks.md).
#[derive(Debug, Args)]
pub struct BenchOriginArgs {
    /// The config file (for the internal signing key).
    #[arg(long)]
    pub config: PathBuf,
    /// The origin to load.
    #[arg(long)]
    pub origin: SocketAddr,
    /// The event to buy into.
    #[arg(long, default_value = "demo")]
    pub event: String,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 64)]
    pub concurrency: usize,
    /// Requests in total.
    #[arg(long, default_value_t = 100_000)]
    pub requests: u64,
    /// Distinct buyer ids to draw from.
    #[arg(long, default_value_t = 10_000_000)]
    pub keyspace: u64,
    /// Buy a basket instead of one seat: `TYPE:QTY,...` (e.g. `a:1,b:1`); on a seated event,
    /// the best seats left of each type, side by side.
    #[arg(long, conflicts_with = "pick")]
    pub items: Option<String>,
    /// On a seated event: each buy picks one seat of the venue at random.
    #[arg(long)]
    pub pick: bool,
}

impl BenchOriginArgs {
    /// Runs the load and prints its figures.
    pub fn run(self) -> Result<()> {
        let options = crate::bench_origin::BenchOptions {
            origin: self.origin,
            event: self.event,
            concurrency: self.concurrency,
            requests: self.requests,
            keyspace: self.keyspace,
            body: self.items.as_deref().map(basket_body).transpose()?,
            pick: self.pick,
        };
        crate::bench_origin::run(&self.config, options)
    }
}

/// The buy body of `TYPE:QTY,...`.
fn basket_body(items: &str) -> Result<String> {
    let lines = items
        .split(',')
        .map(|line| {
            let (ticket_type, quantity) = line
                .split_once(':')
                .with_context(|| format!("--items: {line:?} is not TYPE:QTY"))?;
            let quantity: u32 = quantity
                .parse()
                .with_context(|| format!("--items: {quantity:?} is not a quantity"))?;
            Ok(serde_json::json!({ "ticket_type": ticket_type, "quantity": quantity }))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({ "items": lines }).to_string())
}
