//! One subcommand per file: each holds its command-line arguments (`#[derive(Args)]`) and a
//! `run` that loads what it needs and calls into the component.

pub mod audit;
pub mod bench_origin;
pub mod bench_requests;
pub mod check_config;
pub mod codes;
pub mod edge;
pub mod mint_session;
pub mod origin;
pub mod reconcile;
pub mod rush;
pub mod up;
pub mod venue;
pub mod webhooks;

use std::path::Path;

use anyhow::{Context, Result};
use sale::Config;

/// The default config path, relative to the repository root.
pub const DEFAULT_CONFIG: &str = "config/flashgate.toml";

/// Loads and validates the config at `path`, naming the file in any error.
fn load(path: &Path) -> Result<Config> {
    Config::load(path, &crate::stack::running::environment(path))
        .with_context(|| format!("config {}", path.display()))
}
