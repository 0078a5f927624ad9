//! The command line of the one `flashgate` binary, as the contract names it.

use std::process::ExitCode;
use std::sync::OnceLock;

use clap::{Parser, Subcommand, ValueEnum};

use crate::commands;

/// flashgate: a flash-sale gatekeeper that sells every seat exactly once.
#[derive(Debug, Parser)]
#[command(name = "flashgate", version, about)]
pub struct Cli {
    /// How log lines are written: text for a terminal, or one JSON object per line (its fields,
    /// `request_id` among them, at the top level) for a log shipper. `up` passes it to every
    /// component it runs.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
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

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

impl LogFormat {
    /// The command-line value.
    pub fn as_arg(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
        }
    }
}

/// The format this process logs in, which the components `up` starts are given too.
static LOG_FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// The format this process logs in.
pub fn log_format() -> LogFormat {
    LOG_FORMAT.get().copied().unwrap_or_default()
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> ExitCode {
    init_logging(cli.log_format);
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

fn init_logging(format: LogFormat) {
    let _ = LOG_FORMAT.set(format);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // Colours only on a terminal: `up` writes each component's log to a file, and a shipper
    // or `grep` must read plain text there.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()));
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
