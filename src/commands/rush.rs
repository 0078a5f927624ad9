//! `flashgate rush`: a flash crowd against a running stack, every invariant checked afterwards.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

use super::DEFAULT_CONFIG;

/// Simulate a flash crowd against a running stack and check every invariant afterwards.
#[derive(Debug, Args)]
pub struct RushArgs {
    /// The config of the stack.
    #[arg(long, default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
    /// An edge to load, `http://host:port`; repeat it to spread the buyers over several edges
    /// (default: the config's `edge.listen`).
    #[arg(long = "edge", alias = "target")]
    pub edges: Vec<String>,
    /// The event.
    #[arg(long, default_value = "demo")]
    pub event: String,
    /// Distinct buyers.
    #[arg(long, default_value_t = 1_000_000)]
    pub users: u64,
    /// Buyers in flight at once.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Open model: buyers arriving per second (default: closed model).
    #[arg(long)]
    pub rate: Option<f64>,
    /// Share of buyers who pay; half of the rest cancel, half let the reservation expire.
    #[arg(long, default_value_t = 0.5)]
    pub pay_share: f64,
    /// With a payment provider: share of checkouts whose payment fails.
    #[arg(long, default_value_t = 0.1)]
    pub pay_fail: f64,
    /// With a payment provider: share of successful payments confirmed twice.
    #[arg(long, default_value_t = 0.2)]
    pub pay_repeat: f64,
    /// With a payment provider: share of successful payments confirmed only after the
    /// reservation expired (when it expires within 30 s); those orders must become refund_due.
    #[arg(long, default_value_t = 0.05)]
    pub pay_late: f64,
    /// In a presale that needs an access code: the share of buyers who guess one instead of
    /// using their own (their buys must be refused).
    #[arg(long, default_value_t = 0.1)]
    pub guess_share: f64,
    /// In a presale that needs an access code: shared codes the rush creates (as `codes
    /// generate` does) and half of the buyers with a code use instead of their own.
    #[arg(long, default_value_t = 0)]
    pub shared_codes: u32,
    /// Uses of each shared code.
    #[arg(long, default_value_t = 3)]
    pub shared_uses: u32,
    /// Seconds between a waiting page's polls of the event.
    #[arg(long, default_value_t = 0.5)]
    pub poll: f64,
    /// Seconds to wait for the ledger before checking the database.
    #[arg(long, default_value_t = 60)]
    pub ledger_wait: u64,
    /// Output folder for the report.
    #[arg(long, default_value = "rush-report")]
    pub out: PathBuf,
    /// Play the event's waiting room: buyers join (at random, before and after the start), wait
    /// their turn, then buy; the report adds time in the queue, fairness and the audit.
    #[arg(long)]
    pub queue: bool,
    /// A CA certificate (PEM) to trust for `https://` edges, e.g. the development CA
    /// `var/tls/ca.pem`; with no `--edge`, the buyers then go to the config's `edge.tls.listen`.
    #[arg(long)]
    pub ca: Option<PathBuf>,
    /// Speak HTTP/2 to https edges (ALPN h2; each client connection multiplexes its buyers);
    /// without it, HTTP/1.1.
    #[arg(long)]
    pub http2: bool,
    /// A seated event: most buyers ask for the best seats left in groups of 1 to 6, some pick
    /// the venue's hottest seats by id; the report adds stranded seats and that contention.
    #[arg(long)]
    pub seated: bool,
}

impl RushArgs {
    /// Runs the rush; fails if an invariant broke.
    pub fn run(self) -> Result<()> {
        crate::rush::run(crate::rush::RushOptions {
            config: self.config,
            edges: self.edges,
            event: self.event,
            users: self.users,
            concurrency: self.concurrency,
            rate: self.rate,
            pay_share: self.pay_share,
            payments: crate::rush::paying::PaymentMix {
                fail: self.pay_fail,
                repeat: self.pay_repeat,
                late: self.pay_late,
            },
            guess_share: self.guess_share,
            shared_codes: self.shared_codes,
            shared_uses: self.shared_uses,
            poll: Duration::from_secs_f64(self.poll),
            ledger_wait: Duration::from_secs(self.ledger_wait),
            out: self.out,
            queue: self.queue,
            ca: self.ca,
            http2: self.http2,
            seated: self.seated,
        })
    }
}
