//! The config file exactly as written: serde structs, every field documented. Nothing here is
//! trusted; [`super::validate`] turns it into typed values or a list of problems.

use serde::Deserialize;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// The public gatekeeper.
    pub edge: RawEdge,
    /// The origin nodes the edge balances over; `flashgate up` starts one per entry.
    #[serde(default)]
    pub origins: Vec<RawOriginNode>,
    /// Settings every origin node shares.
    pub origin: RawOrigin,
    /// The Redis that holds stock, reservations and the order streams.
    pub redis: RawRedis,
    /// Keys and tokens. Any value may be `env:NAME` to read it from the environment instead.
    pub secrets: RawSecrets,
    /// Purchase tokens and sessions.
    #[serde(default)]
    pub tokens: RawTokens,
    /// The events on sale.
    #[serde(default)]
    pub events: Vec<RawEvent>,
    /// `flashgate up`, the single-machine stack.
    #[serde(default)]
    pub up: RawUp,
    /// Who confirms payments; absent: the development-only `direct` provider.
    pub payments: Option<super::payments_section::RawPayments>,
    /// Where every order change is delivered; absent: nowhere.
    pub webhooks: Option<super::payments_section::RawWebhooks>,
}

/// `[edge]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEdge {
    /// Public listener, `host:port`.
    pub listen: String,
    /// Operator listener (admin API, metrics), `host:port`. Keep it off public interfaces.
    pub admin_listen: String,
    /// Worker threads of the proxy; defaults to the number of cores.
    pub threads: Option<usize>,
    /// Folder with the product page and assets, relative to this file.
    pub static_dir: String,
    /// Offer `POST /api/dev/session?user=ID`, which signs anybody in. Development only.
    #[serde(default)]
    pub dev_sessions: bool,
    /// How long to wait for a TCP connection to an origin (e.g. `"1s"`).
    pub upstream_connect_timeout: Option<String>,
    /// How long to wait for an origin's response (e.g. `"5s"`).
    pub upstream_read_timeout: Option<String>,
    /// How often each origin's `/healthz` is probed (e.g. `"500ms"`).
    pub health_check_interval: Option<String>,
    /// Tolerance for clients and servers whose clocks run slightly ahead or behind: the window
    /// opens this much early and closes this much late at the edge (e.g. `"1s"`).
    pub clock_skew_grace: Option<String>,
    /// Addresses (`IP` or `IP/prefix`) of proxies in front of the edge whose `X-Forwarded-For`
    /// is believed; from anyone else the header is ignored.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// Longest the edge waits on any one read of a request body or write of a response (e.g.
    /// `"10s"`); a client that stalls this long is disconnected, so slow clients cannot hold
    /// connections for ever.
    pub client_timeout: Option<String>,
    /// Longest a connection may wait for a request head, and each read of one, before it is
    /// closed (e.g. `"60s"`): the keep-alive idle time between requests, and the patience with a
    /// new connection. Longer than the product page's slowest poll, and than clients keep an
    /// opened connection unused, so a purchase does not race the edge's close.
    pub idle_timeout: Option<String>,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: Option<u64>,
    /// Largest request head (request line and every header) accepted, in bytes; a larger one is
    /// refused 431 before its body is read. nginx allows 4 buffers of 8 KiB.
    pub max_header_bytes: Option<u64>,
    /// Largest single line of a request head (the request line or one header), in bytes.
    pub max_header_line_bytes: Option<u64>,
    /// How old the edge's view of Redis (seats, gates) may grow while Redis cannot be read
    /// before the edge stops selling from it (e.g. `"2s"`): tokens and buys answer 503
    /// `unavailable` and the event document says `stale: true`, rather than sell from a frozen
    /// view.
    pub view_staleness: Option<String>,
    /// Frequency caps.
    #[serde(default)]
    pub limits: RawLimits,
    /// The HTTPS listener; absent: plain HTTP only.
    pub tls: Option<super::tls_section::RawTls>,
}

/// `[edge.limits]`: GCRA rate caps. Each is `{ rate = "N/s" | "N/m", burst = N }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    /// Token and buy requests per signed-in user.
    pub per_user: Option<RawRate>,
    /// API requests per client address (IPv6 by /64).
    pub per_ip: Option<RawRate>,
    /// Buys forwarded to the origins in total: size it to what the origins can serve. Read under
    /// its former name `admission` too, so older files keep working; "admission" now names only
    /// the waiting room's.
    #[serde(alias = "admission")]
    pub origin_rate: Option<RawRate>,
    /// Most distinct users or addresses each limiter remembers; beyond it the limiter forgets
    /// everyone (a brief amnesty) rather than grow without bound.
    pub max_keys: Option<usize>,
    /// Where `per_user` and `origin_rate` hold: `"fleet"` (default: for all edges together, kept in
    /// Redis behind each edge's own limiter) or `"edge"` (each edge alone; only for a single edge,
    /// saving a Redis call per token and two per buy). `per_ip` is always per edge.
    pub scope: Option<String>,
}

/// One rate cap.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRate {
    /// Sustained rate, `"N/s"` or `"N/m"`.
    pub rate: String,
    /// Requests allowed at once after a quiet spell; defaults to the per-second rate.
    pub burst: Option<u32>,
}

/// One `[[origins]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOriginNode {
    /// Where the origin listens and the edge connects, `host:port`.
    pub listen: String,
    /// Share of traffic relative to the other origins, 1 to 1000.
    pub weight: Option<u32>,
    /// TLS between the edge and this origin, for origins on another network.
    pub tls: Option<super::origin_tls_section::RawOriginTls>,
}

/// `[origin]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrigin {
    /// Order database: `sqlite://PATH` (relative to this file; the embedded default) or
    /// `postgres://...` for production.
    pub database_url: String,
    /// How old an edge signature may be before the origin refuses it (e.g. `"30s"`).
    pub signature_max_age: Option<String>,
    /// Extra seats, as a percentage of an event's stock, each origin may pre-deduct locally on
    /// top of its weighted share before it must refill from Redis; 0 to 100, default 10.
    pub local_stock_buffer_percent: Option<u32>,
}

/// `[redis]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRedis {
    /// One Redis server: `redis://host:port[/db]` or `unix:///path/to/socket`. Exactly one of
    /// `url` and `cluster`.
    pub url: Option<String>,
    /// A Redis Cluster: seed nodes as `redis://host:port`; the client learns the rest of the
    /// cluster (and follows failovers) from them. Exactly one of `url` and `cluster`.
    pub cluster: Option<Vec<String>>,
    /// Replicas that must confirm every order change (Redis `WAIT`) before an origin answers;
    /// fewer in time and the answer is 503. 0 to 5; default 0 with `url`, 1 with `cluster`.
    pub min_replica_acks: Option<u32>,
    /// How long an origin waits for those replicas, e.g. `"200ms"`; 1 ms to 10 s, default 200 ms.
    pub replica_ack_timeout: Option<String>,
    /// The durability an origin requires of Redis before it sells: `"always"` (AOF with
    /// `appendfsync always`: an acknowledged reservation survives a crash of Redis), `"everysec"`
    /// (up to a second of acknowledged reservations may be lost) or `"none"`.
    pub durability: Option<String>,
    /// What an origin does when Redis is less durable than `durability`, or will not say
    /// (`CONFIG GET` disabled): `"refuse"` to start, or `"warn"` and start.
    pub on_weak_durability: Option<String>,
    /// On a cluster, whether edges read the event view (counters and seat maps) from replicas,
    /// leaving the primaries to the buys; they fall back to the primary when a read from a
    /// replica fails. Default true; no effect with `url`.
    pub replica_reads: Option<bool>,
}

/// One named key in a key ring.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKey {
    /// Short id carried in what the key signs, `[A-Za-z0-9_-]{1,16}`.
    pub id: String,
    /// At least 16 bytes; or `env:NAME`.
    pub secret: String,
    /// Accepted but never used to sign: the first step of a rotation, so every component
    /// knows the key before anything signs with it.
    #[serde(default)]
    pub accept_only: bool,
}

/// `[secrets]`. Each ring signs with its first key not marked `accept_only` and accepts all of
/// them, so a key rotates in two steps: add the new one `accept_only` everywhere, then let it
/// sign; remove the old one once what it signed has expired.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecrets {
    /// Bearer token for the admin listener; or `env:NAME`.
    pub admin_token: String,
    /// Keys the login service signs user sessions with.
    pub session_keys: Vec<RawKey>,
    /// Keys the edge signs purchase tokens with.
    pub token_keys: Vec<RawKey>,
    /// Keys the edge signs forwarded requests with, shared with the origins.
    pub internal_keys: Vec<RawKey>,
    /// Salt of the classic md5 token scheme; required when `tokens.scheme = "md5"`.
    pub md5_salt: Option<String>,
}

/// `[tokens]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTokens {
    /// `"hmac-sha256"` (default: signed, verified without shared state) or `"md5"` (the classic
    /// design: md5 of user, event and salt, stored in Redis with the token's lifetime).
    pub scheme: Option<String>,
    /// How long a purchase token is valid (e.g. `"30s"`).
    pub ttl: Option<String>,
    /// How long sessions minted by `mint-session` and the dev endpoint last (e.g. `"12h"`).
    pub session_ttl: Option<String>,
}

/// One `[[events]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvent {
    /// URL- and key-safe id, `[A-Za-z0-9_-]{1,64}`.
    pub id: String,
    /// Shown on the page.
    pub name: String,
    /// Price of one seat in the currency's minor unit (cents); with `ticket_types`, each type
    /// sets its own instead.
    pub price_cents: Option<u64>,
    /// ISO 4217 code, e.g. `"EUR"`.
    pub currency: String,
    /// Seats for sale. Seeded into Redis once, when the event is first seen; with
    /// `ticket_types`, each type sets its own instead.
    pub stock: Option<u32>,
    /// Most seats one user may hold; defaults to 1.
    pub per_user_limit: Option<u32>,
    /// Sale start: RFC 3339 (`"2026-12-01T20:00:00Z"`) or `"+DURATION"` after the stack's start.
    pub starts_at: String,
    /// Sale end, same forms as `starts_at`; must be after it.
    pub ends_at: String,
    /// How long a reservation waits for payment before its seat returns (e.g. `"10m"`).
    pub reservation_ttl: Option<String>,
    /// The waiting room in front of the sale; off unless `enabled = true`.
    pub queue: Option<RawQueue>,
    /// What is sold: several ticket types, each with its stock, price and limit (default: one
    /// type, `general`, with the event's `stock` and `price_cents`).
    #[serde(default)]
    pub ticket_types: Vec<super::catalog_section::RawTicketType>,
    /// When it is sold, and to whom (default: the event's window, to everyone).
    #[serde(default)]
    pub phases: Vec<super::catalog_section::RawPhase>,
    /// A venue file (JSON, relative to this file): the event sells its seats, each category a
    /// ticket type whose stock is its number of seats.
    pub venue: Option<String>,
}

/// `[events.queue]`: the waiting room.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQueue {
    /// Turns the waiting room on for this event.
    #[serde(default)]
    pub enabled: bool,
    /// How long before `starts_at` the pre-queue opens (everyone joining before `starts_at` is in
    /// the draw), e.g. `"30m"`; 1 s to 7 days, default 15 minutes.
    pub opens_before: Option<String>,
    /// How fast buyers are let through, for the whole fleet: `"N/s"` or `"N/m"`; default `"50/s"`.
    pub admit_rate: Option<String>,
    /// How long an admitted buyer has to get a purchase token and buy, e.g. `"10m"`; 1 s to 1 h,
    /// default 10 minutes.
    pub admission_ttl: Option<String>,
    /// Leading zero bits of proof-of-work a join must carry; 0 (default) turns it off, at most 24.
    pub pow_bits: Option<u32>,
}

/// `[up]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUp {
    /// Where `up` keeps Redis data and logs, relative to this file; defaults to `../var`.
    pub var_dir: Option<String>,
    /// The Redis server program to start: a name looked up on `PATH` (default `redis-server`),
    /// or a path, relative to this file's folder like every other path.
    pub redis_server: Option<String>,
    /// The local Redis Cluster `up --redis-cluster` starts.
    #[serde(default)]
    pub redis_cluster: RawClusterPlan,
}

/// `[up] redis_cluster = { primaries, replicas, first_port }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawClusterPlan {
    /// Primaries (shards), 3 to 16; default 3 (Redis Cluster needs at least 3).
    pub primaries: Option<u32>,
    /// Replicas of each primary, 0 to 5; default 1.
    pub replicas: Option<u32>,
    /// The first node's port; the others count up from it, and each node's cluster bus listens
    /// 10000 above its port. Default 7000.
    pub first_port: Option<u32>,
}
