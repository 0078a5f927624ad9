//! `flashgate bench-origin`: load one origin's buy path with signed requests.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Result;
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
        };
        crate::bench_origin::run(&self.config, options)
    }
}
