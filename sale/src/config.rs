//! The config file: one TOML file read by every component, validated completely into typed values
//! before anything uses it. A file with problems yields all of them at once, each naming its field,
//! so an operator fixes a bad file in one pass and a live reload never applies half a file.
//!
//! Over 400 lines because it is the typed shape of the whole file, one documented struct per
//! section; parsing, validation and reload rules live in `config/`.

pub mod catalog_section;
mod origin_tls_section;
pub mod payments_section;
mod problems;
mod queue_section;
mod raw;
mod redis_section;
pub mod reload;
pub mod tls_section;
mod validate;
pub mod values;
mod venue_section;

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

pub use catalog_section::{Phase, TicketType};
pub use origin_tls_section::OriginTls;
pub use payments_section::{PaymentProvider, WebhooksConfig};
pub use raw::RawConfig;
pub use tls_section::{CertificateFiles, H2Limits, PlainHttp, TlsConfig};
pub use values::{Network, Rate, SaleWindow, Weight};

use crate::ids::EventId;
use crate::key_ring::{KeyRing, Secret};
use crate::secret_url::SecretUrl;
use crate::time::UnixMillis;

/// The most `edge.max_body_bytes` may say. Origins read bodies up to this, so whatever an edge
/// lets through, the origin reads it and answers it in JSON.
pub const MAX_BODY_BYTES: u64 = 1024 * 1024;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The public gatekeeper.
    pub edge: EdgeConfig,
    /// The origin nodes, in file order.
    pub origins: Vec<OriginNode>,
    /// Settings every origin shares.
    pub origin: OriginConfig,
    /// Where Redis is and what an origin requires of it.
    pub redis: RedisConfig,
    /// Keys and tokens.
    pub secrets: Secrets,
    /// Purchase token and session lifetimes.
    pub tokens: TokenConfig,
    /// Events, in file order.
    pub events: Vec<EventConfig>,
    /// The single-machine stack.
    pub up: UpConfig,
    /// Who confirms payments.
    pub payments: PaymentProvider,
    /// Where order changes are delivered, if anywhere.
    pub webhooks: Option<WebhooksConfig>,
}

/// `[edge]`, validated.
#[derive(Debug, Clone)]
pub struct EdgeConfig {
    /// Public listener.
    pub listen: SocketAddr,
    /// Operator listener.
    pub admin_listen: SocketAddr,
    /// Proxy worker threads.
    pub threads: usize,
    /// The product page folder.
    pub static_dir: PathBuf,
    /// Whether the dev sign-in endpoint exists.
    pub dev_sessions: bool,
    /// TCP connect timeout to an origin.
    pub upstream_connect_timeout: Duration,
    /// Response timeout from an origin.
    pub upstream_read_timeout: Duration,
    /// Origin health probe period.
    pub health_check_interval: Duration,
    /// How early the window opens and how late it closes at the edge.
    pub clock_skew_grace: Duration,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<Network>,
    /// Longest wait on one body read from, or response write to, a client.
    pub client_timeout: Duration,
    /// Longest wait for a request head (keep-alive idle), in whole seconds.
    pub idle_timeout: Duration,
    /// Largest request body accepted, at most [`MAX_BODY_BYTES`].
    pub max_body_bytes: u64,
    /// Largest request head accepted.
    pub max_header_bytes: u64,
    /// Largest line of a request head accepted.
    pub max_header_line_bytes: u64,
    /// How stale the view of Redis may be before token and buy answer 503.
    pub view_staleness: Duration,
    /// Frequency caps.
    pub limits: LimitsConfig,
    /// The HTTPS listener, if any.
    pub tls: Option<TlsConfig>,
}

impl EdgeConfig {
    /// The public and admin addresses of edge `index` of a fleet (`flashgate up --edges N`): the
    /// configured ports plus the index; none when that passes 65535.
    pub fn fleet_addresses(&self, index: u16) -> Option<(SocketAddr, SocketAddr)> {
        let shift =
            |addr: SocketAddr| Some(SocketAddr::new(addr.ip(), addr.port().checked_add(index)?));
        Some((shift(self.listen)?, shift(self.admin_listen)?))
    }

    /// The HTTPS address of edge `index` of a fleet: the configured port plus the index.
    pub fn fleet_tls_address(&self, index: u16) -> Option<Option<SocketAddr>> {
        match &self.tls {
            None => Some(None),
            Some(tls) => Some(Some(SocketAddr::new(
                tls.listen.ip(),
                tls.listen.port().checked_add(index)?,
            ))),
        }
    }
}

/// `[edge.limits]`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitsConfig {
    /// Per signed-in user, on token and buy requests.
    pub per_user: Rate,
    /// Per client address, on API requests.
    pub per_ip: Rate,
    /// All buys forwarded to origins.
    pub origin_rate: Rate,
    /// Keys each limiter may remember.
    pub max_keys: usize,
    /// Where the per-user cap and the origin rate hold.
    pub scope: CapScope,
}

/// `edge.limits.scope`: where the per-user cap and the origin rate hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapScope {
    /// For the whole edge fleet together (counted in Redis, each edge's limiter in front).
    Fleet,
    /// For each edge alone.
    Edge,
}

/// One origin node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginNode {
    /// Its address.
    pub listen: SocketAddr,
    /// Its share of traffic.
    pub weight: Weight,
    /// TLS between the edge and it, if any.
    pub tls: Option<OriginTls>,
}

/// Where orders are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// The embedded default: a SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server, as its connection URL (password masked wherever it is shown).
    Postgres(SecretUrl),
}

impl DatabaseUrl {
    /// The URL sqlx connects to, password included: for connecting only.
    pub fn connect_url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres(url) => url.expose().to_owned(),
        }
    }
}

/// `[origin]`, validated.
#[derive(Debug, Clone)]
pub struct OriginConfig {
    /// The order database.
    pub database_url: DatabaseUrl,
    /// Oldest edge signature accepted.
    pub signature_max_age: Duration,
    /// Local pre-deduction headroom above the weighted share, in percent of stock.
    pub local_stock_buffer_percent: u32,
}

/// `[secrets]`, validated.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Admin API bearer token.
    pub admin_token: Secret,
    /// Session keys.
    pub session_keys: KeyRing,
    /// Purchase token keys.
    pub token_keys: KeyRing,
    /// Edge-to-origin keys.
    pub internal_keys: KeyRing,
}

/// How often Redis syncs its append-only file, weakest first, so policies compare by order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fsync {
    /// No AOF (or `appendfsync no`): a crash may lose whatever the OS had not written.
    None,
    /// `appendfsync everysec`: a crash may lose the last second.
    EverySec,
    /// `appendfsync always`: nothing acknowledged is lost in a crash.
    Always,
}

impl Fsync {
    /// The policy a Redis reports through `CONFIG GET appendonly` and `appendfsync`.
    pub fn of_redis(appendonly: &str, appendfsync: &str) -> Self {
        match (appendonly, appendfsync) {
            ("yes", "always") => Self::Always,
            ("yes", "everysec") => Self::EverySec,
            _ => Self::None,
        }
    }
}

/// `[redis]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisConfig {
    /// One server or a cluster.
    pub target: RedisTarget,
    /// What an origin requires of Redis's persistence.
    pub durability: Durability,
    /// The replication every order change waits for.
    pub replica_acks: ReplicaAcks,
    /// Edges read the event view from replicas (on a cluster).
    pub replica_reads: bool,
}

/// Where Redis is: `redis.url` or `redis.cluster`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedisTarget {
    /// One server.
    Node(SecretUrl),
    /// A Redis Cluster, reached through these seed nodes.
    Cluster(Vec<SecretUrl>),
}

/// Shown with passwords masked.
impl fmt::Display for RedisTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Node(url) => write!(f, "{url}"),
            Self::Cluster(seeds) => {
                let seeds: Vec<String> = seeds.iter().map(SecretUrl::redacted).collect();
                write!(f, "cluster {}", seeds.join(" "))
            }
        }
    }
}

/// `redis.min_replica_acks` and `redis.replica_ack_timeout`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicaAcks {
    /// Replicas that must hold an order change before it is answered; 0 = no `WAIT`.
    pub min: u32,
    /// How long to wait for them.
    pub timeout: Duration,
}

/// `[up] redis_cluster`, validated: the local cluster `up --redis-cluster` starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterPlan {
    /// Primaries (shards).
    pub primaries: u16,
    /// Replicas of each primary.
    pub replicas: u16,
    /// The first node's port; the others count up from it.
    pub first_port: u16,
}

impl ClusterPlan {
    /// Every node's port, primaries first (the order `redis-cli --cluster create` assigns).
    pub fn ports(&self) -> impl Iterator<Item = u16> + use<> {
        let count = self.primaries * (1 + self.replicas);
        let first = self.first_port;
        (0..count).map(move |i| first + i)
    }
}

/// `redis.durability` and `redis.on_weak_durability`, validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Durability {
    /// The weakest persistence an origin sells on.
    pub required: Fsync,
    /// Refuse to start on weaker persistence (else warn and start).
    pub refuse_weaker: bool,
}

/// How purchase tokens are made and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScheme {
    /// Signed with `secrets.token_keys`; verified without shared state.
    HmacSha256,
    /// The classic scheme: md5 of user, event, salt (and a random part), kept in Redis.
    Md5 {
        /// The salt.
        salt: Secret,
    },
}

/// `[tokens]`, validated.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// The scheme.
    pub scheme: TokenScheme,
    /// Purchase token lifetime.
    pub ttl: Duration,
    /// Session lifetime for minted sessions.
    pub session_ttl: Duration,
}

/// One event, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventConfig {
    /// Its id.
    pub id: EventId,
    /// Display name.
    pub name: String,
    /// Seat price in minor units: the price of the one type, or the lowest price of the listed
    /// (not hidden) types, for the page's "from".
    pub price_cents: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// Seats for sale: every type's stock together.
    pub stock: u32,
    /// Most seats per user.
    pub per_user_limit: u32,
    /// When it sells.
    pub window: SaleWindow,
    /// How long a reservation waits for payment.
    pub reservation_ttl: Duration,
    /// The waiting room, when enabled.
    pub queue: Option<QueueConfig>,
    /// What is sold (at least one type; `general` alone for an event that lists none).
    pub ticket_types: Vec<TicketType>,
    /// When, in order of time (empty: the event's window, open to everyone).
    pub phases: Vec<Phase>,
    /// The seats it sells, when it sells a venue's.
    pub venue: Option<std::sync::Arc<crate::seat_map::SeatMap>>,
}

impl EventConfig {
    /// The ticket type `id`, if the event sells it.
    pub fn ticket_type(&self, id: &str) -> Option<&TicketType> {
        self.ticket_types.iter().find(|t| t.id == id)
    }
}

/// `[events.queue]`, validated (present only when enabled).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long before `starts_at` the pre-queue opens.
    pub opens_before: Duration,
    /// How fast buyers are let through, fleet-wide (one per `period`).
    pub admit_rate: Rate,
    /// How long an admission lasts.
    pub admission_ttl: Duration,
    /// Proof-of-work bits a join needs (0: none).
    pub pow_bits: u32,
}

impl QueueConfig {
    /// The shortest poll interval the room asks of a buyer.
    pub const SHORTEST_POLL: Duration = Duration::from_secs(1);
    /// The longest poll interval the room asks of a buyer, however far off their turn.
    pub const LONGEST_POLL: Duration = Duration::from_secs(30);

    /// The longest the room tells a buyer to wait before polling again: a third of an
    /// admission's life (validation keeps that at a second or more), at most [`Self::LONGEST_POLL`].
    /// A buyer who polls as told reaches a place they were given with two polls to spare.
    pub fn longest_poll(&self) -> Duration {
        (self.admission_ttl / 3).clamp(Self::SHORTEST_POLL, Self::LONGEST_POLL)
    }
}

/// `[up]`, validated.
#[derive(Debug, Clone)]
pub struct UpConfig {
    /// Data and log folder.
    pub var_dir: PathBuf,
    /// The Redis server program.
    pub redis_server: String,
    /// The local cluster `up --redis-cluster` starts.
    pub redis_cluster: ClusterPlan,
}

impl Config {
    /// The event with this id.
    pub fn event(&self, id: &str) -> Option<&EventConfig> {
        self.events.iter().find(|e| e.id.as_str() == id)
    }

    /// Reads and validates the file at `path`.
    pub fn load(path: &Path, env: &Environment) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let base = path.parent().unwrap_or(Path::new("."));
        Self::parse(&text, base, env)
    }

    /// Validates config text; relative paths are taken from `base`.
    pub fn parse(text: &str, base: &Path, env: &Environment) -> Result<Self, ConfigError> {
        let mut raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Syntax(e.to_string()))?;
        env.apply_overrides(&mut raw);
        let mut config = validate::validate(raw, base, env).map_err(ConfigError::Invalid)?;
        env.place_edge(&mut config.edge)
            .map_err(ConfigError::Invalid)?;
        Ok(config)
    }
}

/// What config values may refer to outside the file: environment variables (for `env:NAME`
/// secrets) and the stack's start time (for `+DURATION` instants). Passed in, so tests never touch
/// the real environment.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    /// Variables that `env:NAME` values read.
    pub vars: HashMap<String, String>,
    /// The instant `+DURATION` values count from; `None` where no start is shared with the rest
    /// of the stack, and relative instants are then refused.
    pub epoch: Option<UnixMillis>,
}

impl Environment {
    /// The variable `flashgate up` sets so every component resolves `+DURATION` identically.
    pub const EPOCH_VAR: &'static str = "FLASHGATE_EPOCH_MS";

    /// Overrides every event's stock (`flashgate up --stock`; each type's, with ticket types), for
    /// rehearsals.
    pub const STOCK_VAR: &'static str = "FLASHGATE_EVENT_STOCK";
    /// Overrides every event's `starts_at` (`flashgate up --opens-in`), for rehearsals.
    pub const STARTS_AT_VAR: &'static str = "FLASHGATE_EVENT_STARTS_AT";
    /// Replaces `[redis]`'s target by a cluster of these comma-separated seed URLs (`flashgate up
    /// --redis-cluster`, which starts that cluster).
    pub const REDIS_CLUSTER_VAR: &'static str = "FLASHGATE_REDIS_CLUSTER";
    /// Which edge of a fleet this process is (`flashgate up --edges N`): its public and admin
    /// ports are the configured ones plus this index.
    pub const EDGE_INDEX_VAR: &'static str = "FLASHGATE_EDGE_INDEX";

    /// Applies the rehearsal overrides, before validation checks the result.
    fn apply_overrides(&self, raw: &mut RawConfig) {
        if let Some(seeds) = self.vars.get(Self::REDIS_CLUSTER_VAR) {
            raw.redis.url = None;
            raw.redis.cluster = Some(seeds.split(',').map(str::to_owned).collect());
        }
        let stock: Option<u32> = self.vars.get(Self::STOCK_VAR).and_then(|s| s.parse().ok());
        let starts_at = self.vars.get(Self::STARTS_AT_VAR);
        for event in &mut raw.events {
            // A venue's seats are its stock.
            if let Some(stock) = stock.filter(|_| event.venue.is_none()) {
                // An event of several types sells that many of each.
                if event.ticket_types.is_empty() {
                    event.stock = Some(stock);
                } else {
                    for ticket_type in &mut event.ticket_types {
                        ticket_type.stock = Some(stock);
                    }
                }
            }
            if let Some(starts_at) = starts_at {
                event.starts_at.clone_from(starts_at);
            }
        }
    }

    /// Moves this edge's listeners up by its fleet index ([`Self::EDGE_INDEX_VAR`]).
    fn place_edge(&self, edge: &mut EdgeConfig) -> Result<(), Vec<Problem>> {
        let Some(index) = self.vars.get(Self::EDGE_INDEX_VAR) else {
            return Ok(());
        };
        let problem = |message: String| {
            vec![Problem {
                field: Self::EDGE_INDEX_VAR.into(),
                message,
            }]
        };
        let index: u16 = index
            .parse()
            .map_err(|_| problem(format!("must be a small number, got {index:?}")))?;
        let (listen, admin) = edge.fleet_addresses(index).ok_or_else(|| {
            problem(format!(
                "puts port {} or {} past 65535",
                edge.listen.port(),
                edge.admin_listen.port()
            ))
        })?;
        let tls_listen = edge
            .fleet_tls_address(index)
            .ok_or_else(|| problem(format!("puts the https port past 65535 (index {index})")))?;
        edge.listen = listen;
        edge.admin_listen = admin;
        if let (Some(tls), Some(addr)) = (&mut edge.tls, tls_listen) {
            tls.listen = addr;
        }
        Ok(())
    }

    /// This process's environment for a tool that only reads the config (check-config,
    /// reconcile, rush...): the epoch comes from [`Self::EPOCH_VAR`] or else is now.
    pub fn from_process() -> Self {
        let shared = Self::for_component();
        Self {
            epoch: shared.epoch.or_else(|| Some(crate::time::now_millis())),
            ..shared
        }
    }

    /// This process's environment for an edge or an origin, which sell by the config's times:
    /// the epoch comes from [`Self::EPOCH_VAR`] only, since "now" would be a different instant
    /// in every component started on its own (and the last origin to start would move the
    /// sale's window for all).
    pub fn for_component() -> Self {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let epoch = vars.get(Self::EPOCH_VAR).and_then(|v| v.parse().ok());
        Self { vars, epoch }
    }
}

/// One thing wrong with a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Dotted path of the field, e.g. `events[0].stock`.
    pub field: String,
    /// What is wrong, phrased to follow the field name.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Why a config file was refused.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML, or an unknown or mistyped field.
    #[error("not a valid config file: {0}")]
    Syntax(String),
    /// Valid TOML with invalid values: every problem found.
    #[error("{} problem(s):\n{}", .0.len(), .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<Problem>),
}

#[cfg(test)]
mod tests;
