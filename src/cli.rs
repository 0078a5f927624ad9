//! The command line of the one `flashgate` binary, as the contract names it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// The default config path, relative to the repository root.
pub const DEFAULT_CONFIG: &str = "config/flashgate.toml";

/// flashgate: a flash-sale gatekeeper that sells every seat exactly once.
#[derive(Debug, Parser)]
#[command(name = "flashgate", version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the whole stack on this machine: Redis, the origins and the edge.
    Up {
        /// The config file.
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// Rehearsal: every event's stock, overriding the config.
        #[arg(long)]
        stock: Option<u32>,
        /// Rehearsal: every event opens this long after start (e.g. `30s`), overriding the config.
        #[arg(long)]
        opens_in: Option<String>,
        /// Start from empty Redis data and order database (removes them from `up.var_dir`).
        #[arg(long)]
        fresh: bool,
    },
    /// Run the edge (the public gatekeeper).
    Edge {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
        /// Take over the sockets of the running edge (graceful binary upgrade; then SIGQUIT it).
        #[arg(long)]
        upgrade: bool,
    },
    /// Run one origin node.
    Origin {
        /// The config file.
        #[arg(long)]
        config: PathBuf,
        /// Where to listen; defaults to the first `[[origins]]` entry.
        #[arg(long)]
        listen: Option<SocketAddr>,
    },
    /// Validate a config file, print every problem, exit non-zero if there is any.
    CheckConfig {
        /// The config file.
        config: PathBuf,
    },
    /// Print a signed user session, as the site's login service would issue it.
    MintSession {
        /// The config file (for the session key).
        #[arg(long)]
        config: PathBuf,
        /// The user id.
        #[arg(long)]
        user: String,
        /// Lifetime in seconds; defaults to `tokens.session_ttl`.
        #[arg(long)]
        ttl: Option<u64>,
    },
    /// Benchmark one origin's buy path with signed requests (see docs/benchmarks.md).
    BenchOrigin {
        /// The config file (for the internal signing key).
        #[arg(long)]
        config: PathBuf,
        /// The origin to load.
        #[arg(long)]
        origin: SocketAddr,
        /// The event to buy into.
        #[arg(long, default_value = "demo")]
        event: String,
        /// Requests in flight at once.
        #[arg(long, default_value_t = 64)]
        concurrency: usize,
        /// Requests in total.
        #[arg(long, default_value_t = 100_000)]
        requests: u64,
        /// Distinct buyer ids to draw from.
        #[arg(long, default_value_t = 10_000_000)]
        keyspace: u64,
    },
    /// Write single-use buy requests for the proxied-buy benchmark (see docs/benchmarks.md).
    BenchRequests {
        /// The config file (for the keys).
        #[arg(long)]
        config: PathBuf,
        /// The event to buy into.
        #[arg(long)]
        event: String,
        /// Requests per file.
        #[arg(long)]
        count: usize,
        /// File of requests through the edge.
        #[arg(long)]
        edge_out: PathBuf,
        /// File of the same buys pre-signed for an origin.
        #[arg(long)]
        origin_out: PathBuf,
    },
    /// Simulate a flash crowd against a running stack and check every invariant afterwards.
    Rush {
        /// The config of the stack.
        #[arg(long, default_value = DEFAULT_CONFIG)]
        config: PathBuf,
        /// The edge to load, `http://host:port` (default: the config's `edge.listen`).
        #[arg(long)]
        target: Option<String>,
        /// The event.
        #[arg(long, default_value = "demo")]
        event: String,
        /// Distinct buyers.
        #[arg(long, default_value_t = 1_000_000)]
        users: u64,
        /// Buyers in flight at once.
        #[arg(long, default_value_t = 256)]
        concurrency: usize,
        /// Open model: buyers arriving per second (default: closed model).
        #[arg(long)]
        rate: Option<f64>,
        /// Share of buyers who pay; half of the rest cancel, half let the reservation expire.
        #[arg(long, default_value_t = 0.5)]
        pay_share: f64,
        /// Seconds between a waiting page's polls of the event.
        #[arg(long, default_value_t = 0.5)]
        poll: f64,
        /// Seconds to wait for the ledger before checking the database.
        #[arg(long, default_value_t = 60)]
        ledger_wait: u64,
        /// Output folder for the report.
        #[arg(long, default_value = "rush-report")]
        out: PathBuf,
    },
    /// Compare Redis with the order database for one event; exit non-zero on any mismatch.
    Reconcile {
        /// The config file (for Redis and the database).
        #[arg(long)]
        config: PathBuf,
        /// The event id.
        #[arg(long)]
        event: String,
        /// Seconds to wait for the ledger to write its backlog before comparing.
        #[arg(long, default_value_t = 10)]
        wait: u64,
    },
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    init_logging();
    let result = match cli.command {
        Command::Up {
            config,
            stock,
            opens_in,
            fresh,
        } => crate::up::run(
            &config,
            &crate::up::Rehearsal {
                stock,
                opens_in,
                fresh,
            },
        ),
        Command::Edge { config, upgrade } => commands::edge(&config, upgrade),
        Command::Origin { config, listen } => commands::origin(&config, listen),
        Command::CheckConfig { config } => commands::check_config(&config),
        Command::MintSession { config, user, ttl } => commands::mint_session(&config, &user, ttl),
        Command::BenchOrigin {
            config,
            origin,
            event,
            concurrency,
            requests,
            keyspace,
        } => {
            let options = crate::bench_origin::BenchOptions {
                origin,
                event,
                concurrency,
                requests,
                keyspace,
            };
            crate::bench_origin::run(&config, options)
        }
        Command::BenchRequests {
            config,
            event,
            count,
            edge_out,
            origin_out,
        } => crate::bench_requests::run(&config, &event, count, &edge_out, &origin_out),
        Command::Rush {
            config,
            target,
            event,
            users,
            concurrency,
            rate,
            pay_share,
            poll,
            ledger_wait,
            out,
        } => crate::rush::run(crate::rush::RushOptions {
            config,
            target,
            event,
            users,
            concurrency,
            rate,
            pay_share,
            poll: std::time::Duration::from_secs_f64(poll),
            ledger_wait: std::time::Duration::from_secs(ledger_wait),
            out,
        }),
        Command::Reconcile {
            config,
            event,
            wait,
        } => commands::reconcile(&config, &event, wait),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("flashgate: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}
