//! What a test stack is made of: its options, the config file written for it, and a fresh
//! PostgreSQL database per test when it asks for one.

use std::net::SocketAddr;
use std::path::Path;

use sqlx::Connection;

/// Which order database the origins use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file in the test's folder.
    Sqlite,
    /// A fresh database on the PostgreSQL server named by `FLASHGATE_TEST_POSTGRES`.
    Postgres,
}

/// Which Redis the stack runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisKind {
    /// One `redis-server`.
    Node,
    /// A real local Redis Cluster of `primaries` shards with `replicas` each.
    Cluster {
        /// Shards.
        primaries: u16,
        /// Replicas per shard.
        replicas: u16,
    },
}

/// What a test wants of its stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// One origin per weight.
    pub weights: Vec<u32>,
    /// Seats of the `demo` event.
    pub stock: u32,
    /// Seats one user may hold.
    pub per_user_limit: u32,
    /// `starts_at` relative to the stack's start, e.g. `"+0s"` (open) or `"+1h"`.
    pub starts: &'static str,
    /// `ends_at` likewise.
    pub ends: &'static str,
    /// How long reservations wait for payment.
    pub reservation_ttl: &'static str,
    /// The order database.
    pub database: Database,
    /// The Redis.
    pub redis: RedisKind,
    /// Edges in the fleet (the i-th on the first's ports plus i).
    pub edges: u16,
    /// `[edge] limits = …` as an inline table.
    pub limits: &'static str,
    /// `[secrets] token_keys = …`.
    pub token_keys: &'static str,
    /// `[tokens] scheme = …`.
    pub token_scheme: &'static str,
    /// `[tokens] ttl = …`: how long a purchase link can buy.
    pub token_ttl: &'static str,
    /// `[edge] client_timeout = …`.
    pub client_timeout: &'static str,
    /// `[edge] idle_timeout = …`.
    pub idle_timeout: &'static str,
    /// More lines of `[redis]`, e.g. `on_weak_durability = "warn"`.
    pub redis_options: &'static str,
    /// `[secrets] internal_keys = …`.
    pub internal_keys: &'static str,
    /// More TOML after the events, e.g. another `[[events]]`.
    pub extra: &'static str,
    /// The `demo` event's waiting room, as an inline table (empty: none).
    pub queue: &'static str,
    /// With HTTPS: the names of each certificate the harness issues from its test CA (the first
    /// is the default); empty: no `[edge.tls]`.
    pub tls_names: &'static [&'static [&'static str]],
    /// More lines of `[edge.tls]`, e.g. `plain = "redirect"`.
    pub tls_options: &'static str,
    /// More lines of `[edge]`, e.g. `trusted_proxies = ["127.0.0.1"]`.
    pub edge_options: &'static str,
    /// The edge reaches the origins over TLS (`[[origins]] tls`), their certificate (for
    /// 127.0.0.1) issued by the test CA.
    pub origin_tls: bool,
    /// `[payments] provider = "webhook"` with [`PAYMENT_SECRET`] and the development provider's
    /// checkout; otherwise the buyer's pay marks paid (`direct`).
    pub webhook_payments: bool,
    /// The lines of `[webhooks]` (the receiver's `url`, `backoff`, ...); empty: none.
    pub webhooks: String,
    /// The `demo` event's `[[events.ticket_types]]` and `[[events.phases]]`; empty: the one
    /// `general` type with `stock` at 1000 cents.
    pub catalog: String,
    /// The components' `RUST_LOG`.
    pub log_filter: &'static str,
    /// The components log JSON lines (`--log-format json`).
    pub json_logs: bool,
}

/// The payment provider's secret in a stack with `webhook_payments`.
pub const PAYMENT_SECRET: &str = "test-payment-secret-0123456789";

/// The secret order webhooks are signed with.
pub const WEBHOOK_SECRET: &str = "test-webhook-secret-0123456789";

/// The certificate names of a stack with HTTPS on 127.0.0.1.
pub const LOCAL_TLS: &[&[&str]] = &[&["localhost", "127.0.0.1"]];

/// The default stack with HTTPS on 127.0.0.1 and localhost.
pub fn https() -> StackOptions {
    StackOptions {
        tls_names: LOCAL_TLS,
        ..StackOptions::default()
    }
}

/// The default internal key ring.
pub const INTERNAL_KEY_I1: &str = r#"[{ id = "i1", secret = "test-internal-key-0123456789" }]"#;

/// The default purchase token key ring.
pub const TOKEN_KEY_T1: &str = r#"[{ id = "t1", secret = "test-token-key-0123456789" }]"#;

/// Caps so high no test meets them unless it sets its own.
pub const NO_LIMITS: &str = r#"{ per_user = { rate = "100000/s" }, per_ip = { rate = "1000000/s" }, origin_rate = { rate = "1000000/s" } }"#;

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            weights: vec![1, 1],
            stock: 100,
            per_user_limit: 1,
            starts: "+0s",
            ends: "+1h",
            reservation_ttl: "10m",
            database: Database::Sqlite,
            redis: RedisKind::Node,
            edges: 1,
            limits: NO_LIMITS,
            token_keys: TOKEN_KEY_T1,
            token_scheme: "hmac-sha256",
            token_ttl: "10m",
            client_timeout: "10s",
            idle_timeout: "60s",
            redis_options: "",
            internal_keys: INTERNAL_KEY_I1,
            extra: "",
            queue: "",
            tls_names: &[],
            tls_options: "",
            edge_options: "",
            origin_tls: false,
            webhook_payments: false,
            webhooks: String::new(),
            catalog: String::new(),
            log_filter: "warn",
            json_logs: false,
        }
    }
}

/// The admin token of every test stack.
pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";

/// A fresh, empty PostgreSQL database for one test.
pub async fn fresh_postgres_database() -> String {
    let server = std::env::var("FLASHGATE_TEST_POSTGRES")
        .expect("FLASHGATE_TEST_POSTGRES must name a PostgreSQL server (scripts/test sets it up)");
    let name = format!("flashgate_test_{}", hex_id());
    let mut admin = sqlx::PgConnection::connect(&server)
        .await
        .expect("PostgreSQL is reachable");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("test database created");
    let (base, _) = server.rsplit_once('/').expect("URL has a database part");
    format!("{base}/{name}")
}

/// Drops the test database at `url` (made by [`fresh_postgres_database`]), from a thread of its
/// own so it works from `Drop` inside or outside a runtime. A failure leaves the database behind
/// and says so; it fails no test.
pub fn drop_postgres_database(url: &str) {
    let (Ok(server), Some((_, name))) = (
        std::env::var("FLASHGATE_TEST_POSTGRES"),
        url.rsplit_once('/'),
    ) else {
        return;
    };
    let name = name.to_owned();
    let dropped = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async {
            let mut admin = sqlx::PgConnection::connect(&server).await?;
            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut admin)
                .await?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
    })
    .join();
    if !matches!(dropped, Ok(Ok(()))) {
        eprintln!("test database at {url} was left behind");
    }
}

fn hex_id() -> String {
    format!("{:016x}", rand_u64())
}

/// A random number: `RandomState`'s keys are random per instance, so hashing anything gives one.
fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::process::id())
}

/// The file of certificate `i` of a stack's `[edge.tls]`, relative to its config.
pub fn certificate_files(i: usize) -> (String, String) {
    (format!("tls/cert-{i}.pem"), format!("tls/key-{i}.pem"))
}

fn tls_section(addr: SocketAddr, o: &StackOptions) -> String {
    let certificates: Vec<String> = (0..o.tls_names.len())
        .map(|i| {
            let (cert, key) = certificate_files(i);
            format!("{{ cert = \"{cert}\", key = \"{key}\" }}")
        })
        .collect();
    format!(
        "\n[edge.tls]\nlisten = \"{addr}\"\ncertificates = [{}]\n{}\n",
        certificates.join(", "),
        o.tls_options
    )
}

/// The config file of a stack; `redis` is its `[redis]` target line (`url = …` or
/// `cluster = […]`).
pub fn config_text(
    redis: &str,
    edge: SocketAddr,
    admin: SocketAddr,
    database_url: &str,
    origins: &[(SocketAddr, u32)],
    tls: Option<SocketAddr>,
    o: &StackOptions,
) -> String {
    let static_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    let mut text = format!(
        r#"
[edge]
listen = "{edge}"
admin_listen = "{admin}"
threads = 1
static_dir = "{static_dir}"
dev_sessions = true
health_check_interval = "200ms"
client_timeout = "{client_timeout}"
idle_timeout = "{idle_timeout}"
limits = {limits}
{edge_options}
{tls}

[origin]
database_url = "{database_url}"

[redis]
{redis}
{redis_options}

[secrets]
admin_token = "{ADMIN_TOKEN}"
session_keys = [{{ id = "s1", secret = "test-session-key-0123456789" }}]
token_keys = {token_keys}
internal_keys = {internal_keys}

md5_salt = "test-md5-salt-0123456789"

[tokens]
scheme = "{token_scheme}"
ttl = "{token_ttl}"

[[events]]
id = "demo"
name = "Test event"
currency = "EUR"
{one_type}per_user_limit = {limit}
starts_at = "{starts}"
ends_at = "{ends}"
reservation_ttl = "{ttl}"
{queue}
{catalog}

[[events]]
id = "other"
name = "Another event"
price_cents = 1000
currency = "EUR"
stock = 10
starts_at = "+0s"
ends_at = "+1h"

{extra}

[up]
var_dir = "var"
"#,
        static_dir = static_dir.display(),
        one_type = if o.catalog.is_empty() {
            format!("price_cents = 1000\nstock = {}\n", o.stock)
        } else {
            String::new()
        },
        catalog = o.catalog,
        limit = o.per_user_limit,
        starts = o.starts,
        ends = o.ends,
        ttl = o.reservation_ttl,
        limits = o.limits,
        token_keys = o.token_keys,
        token_scheme = o.token_scheme,
        token_ttl = o.token_ttl,
        client_timeout = o.client_timeout,
        idle_timeout = o.idle_timeout,
        redis_options = o.redis_options,
        internal_keys = o.internal_keys,
        extra = o.extra,
        edge_options = o.edge_options,
        tls = tls.map_or_else(String::new, |addr| tls_section(addr, o)),
        queue = if o.queue.is_empty() {
            String::new()
        } else {
            format!("queue = {}", o.queue)
        },
    );
    if o.webhook_payments {
        text.push_str(&format!(
            "\n[payments]\nprovider = \"webhook\"\nsecrets = [{{ id = \"p1\", secret = \"{PAYMENT_SECRET}\" }}]\ncheckout_url = \"/dev/checkout/{{payment_id}}?order={{order_id}}&amount={{amount_cents}}\"\n"
        ));
    }
    if !o.webhooks.is_empty() {
        text.push_str(&format!(
            "\n[webhooks]\nsecrets = [{{ id = \"w1\", secret = \"{WEBHOOK_SECRET}\" }}]\n{}\n",
            o.webhooks
        ));
    }
    for (addr, weight) in origins {
        text.push_str(&format!(
            "\n[[origins]]\nlisten = \"{addr}\"\nweight = {weight}\n"
        ));
        if o.origin_tls {
            text.push_str(
                "tls = { ca = \"tls/origin-ca.pem\", cert = \"tls/origin.pem\", key = \"tls/origin-key.pem\" }\n",
            );
        }
    }
    text
}
