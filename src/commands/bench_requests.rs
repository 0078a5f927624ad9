//! `flashgate bench-requests`: write single-use buy requests for the proxied-buy benchmark.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

/// Write single-use buy requests for the proxied-buy benchmark (see docs/benchmarks.md).
#[derive(Debug, Args)]
pub struct BenchRequestsArgs {
    /// The config file (for the keys).
    #[arg(long)]
    pub config: PathBuf,
    /// The event to buy into.
    #[arg(long)]
    pub event: String,
    /// Requests per file.
    #[arg(long)]
    pub count: usize,
    /// File of requests through the edge.
    #[arg(long)]
    pub edge_out: PathBuf,
    /// File of the same buys pre-signed for an origin.
    #[arg(long)]
    pub origin_out: PathBuf,
}

impl BenchRequestsArgs {
    /// Writes both files.
    pub fn run(self) -> Result<()> {
        crate::bench_requests::run(
            &self.config,
            &self.event,
            self.count,
            &self.edge_out,
            &self.origin_out,
        )
    }
}
