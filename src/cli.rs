//! The command line of the one `flashgate` binary, as the contract names it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::commands;

/// flashgate: a flash-sale gatekeeper that sells every seat exactly once.
#[derive(Debug, Parser)]
#[command(name = "flashgate", version, about)]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands; each one's help is its arguments' doc, in `src/commands/`.
#[derive(Debug, Subcommand)]
pub enum Command {
    Up(commands::up::UpArgs),
    Edge(commands::edge::EdgeArgs),
    Origin(commands::origin::OriginArgs),
    CheckConfig(commands::check_config::CheckConfigArgs),
    MintSession(commands::mint_session::MintSessionArgs),
    BenchOrigin(commands::bench_origin::BenchOriginArgs),
    BenchRequests(commands::bench_requests::BenchRequestsArgs),
    Rush(commands::rush::RushArgs),
    Reconcile(commands::reconcile::ReconcileArgs),
    Audit(commands::audit::AuditArgs),
    Webhooks(commands::webhooks::WebhooksArgs),
    Codes(commands::codes::CodesArgs),
    Venue(commands::venue::VenueArgs),
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    init_logging();
    let result = match cli.command {
        Command::Up(args) => args.run(),
        Command::Edge(args) => args.run(),
        Command::Origin(args) => args.run(),
        Command::CheckConfig(args) => args.run(),
        Command::MintSession(args) => args.run(),
        Command::BenchOrigin(args) => args.run(),
        Command::BenchRequests(args) => args.run(),
        Command::Rush(args) => args.run(),
        Command::Reconcile(args) => args.run(),
        Command::Audit(args) => args.run(),
        Command::Webhooks(args) => args.run(),
        Command::Codes(args) => args.run(),
        Command::Venue(args) => args.run(),
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
