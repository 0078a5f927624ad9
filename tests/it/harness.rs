//! The shared harness: [`Stack::start`] brings up Redis, the origins and the edge with a config
//! written for the test; tests may also stop, kill and restart each part. Dropping the stack stops
//! every process (also when the test panics) and removes its folder.

mod browser;
mod client;
mod config;

pub use browser::*;
pub use client::*;
pub use config::*;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use flashgate::stack::{Component, RedisServer, ready};
use origin::ledger::{OrderStore, StoredOrder};
use origin::reconcile::Report;
use redis::aio::ConnectionManager;
use sale::config::Environment;
use sale::{Config, EventId, UserId};

/// A running stack for one test.
pub struct Stack {
    /// The config as the components load it.
    pub config: Config,
    /// The public edge address.
    pub edge_addr: SocketAddr,
    /// Origin addresses, in config order.
    pub origin_addrs: Vec<SocketAddr>,
    /// The admin listener.
    pub admin_addr: SocketAddr,
    epoch: u64,
    config_path: std::path::PathBuf,
    database_url: String,
    options: StackOptions,
    // Dropped in this order: processes stop before their folder is removed.
    edge: Option<Component>,
    origins: Vec<Option<Component>>,
    redis: std::sync::Mutex<RedisServer>,
    dir: tempfile::TempDir,
}

/// A loopback port nobody listens on, for a server a test starts. Picked below the kernel's
/// ephemeral range, which the tests' own client sockets draw from (a port the kernel handed out
/// and took back could go to a client before the server binds it), and never twice in one run.
pub fn free_addr() -> SocketAddr {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let ephemeral_low: u32 = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| text.split_whitespace().next()?.parse().ok())
        .unwrap_or(32_768);
    let (low, span) = (10_000, ephemeral_low.saturating_sub(10_000).max(1));
    // Parallel test runs on one machine start at different places.
    let start = std::process::id() * 7_919 % span;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        assert!(n < span, "no free port left below the ephemeral range");
        let port = u16::try_from(low + (start + n) % span).expect("ports fit in u16");
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        if TcpListener::bind(addr).is_ok() {
            return addr;
        }
    }
}

impl Stack {
    /// Starts everything and waits until the edge serves and every origin is healthy.
    pub async fn start(options: StackOptions) -> Self {
        let mut stack = Self::prepare(options).await;
        for i in 0..stack.origin_addrs.len() {
            stack.start_origin(i);
        }
        stack.start_edge();
        stack
    }

    /// Writes the config and starts Redis only; start the rest with the `start_*` methods.
    pub async fn prepare(options: StackOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let epoch = sale::time::now_millis();
        let redis = RedisServer::start("redis-server", free_addr(), &dir.path().join("redis"))
            .expect("redis-server starts");
        let database_url = match options.database {
            Database::Sqlite => "sqlite://orders.db".to_owned(),
            Database::Postgres => fresh_postgres_database().await,
        };
        let edge_addr = free_addr();
        let origins: Vec<(SocketAddr, u32)> =
            options.weights.iter().map(|w| (free_addr(), *w)).collect();
        let config_path = dir.path().join("flashgate.toml");
        let admin_addr = free_addr();
        let text = config_text(
            redis.addr,
            edge_addr,
            admin_addr,
            &database_url,
            &origins,
            &options,
        );
        std::fs::write(&config_path, text).expect("config written");
        let env = Environment {
            epoch,
            ..Environment::default()
        };
        let config = Config::load(&config_path, &env).expect("test config is valid");
        Self {
            config,
            edge_addr,
            origin_addrs: origins.iter().map(|(a, _)| *a).collect(),
            admin_addr,
            epoch,
            config_path,
            database_url,
            options,
            edge: None,
            origins: origins.iter().map(|_| None).collect(),
            redis: std::sync::Mutex::new(redis),
            dir,
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flashgate"));
        command
            .args(args)
            .arg("--config")
            .arg(&self.config_path)
            .env(Environment::EPOCH_VAR, self.epoch.to_string())
            .env("RUST_LOG", "warn");
        command
    }

    fn log(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join("log").join(name)
    }

    fn spawn_origin(&self, i: usize) -> (Component, std::path::PathBuf) {
        let addr = self.origin_addrs[i];
        let command = self.command(&["origin", "--listen", &addr.to_string()]);
        let log = self.log(&format!("origin-{}.log", addr.port()));
        let child =
            Component::spawn(format!("origin {addr}"), command, &log).expect("origin spawns");
        (child, log)
    }

    /// Starts origin `i`, expecting it to refuse to run; returns its log once it has exited.
    pub fn origin_refusing_to_start(&self, i: usize) -> String {
        let (mut child, log) = self.spawn_origin(i);
        ready::wait_until("the origin exiting", Duration::from_secs(20), || {
            child.exited().is_some()
        })
        .unwrap_or_else(|e| panic!("{e}: the origin kept running"));
        std::fs::read_to_string(&log).unwrap_or_default()
    }

    /// Starts origin `i` and waits until it is healthy.
    pub fn start_origin(&mut self, i: usize) {
        let addr = self.origin_addrs[i];
        let (mut child, log) = self.spawn_origin(i);
        ready::wait_until(&format!("origin {addr}"), Duration::from_secs(20), || {
            child.exited().is_none() && ready::http_ok(addr, "/healthz")
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        self.origins[i] = Some(child);
    }

    /// Kills origin `i` without warning, as a crash would.
    pub fn kill_origin(&mut self, i: usize) {
        if let Some(mut origin) = self.origins[i].take() {
            origin.kill();
        }
    }

    /// Starts the edge and waits until it serves the page.
    pub fn start_edge(&mut self) {
        let log = self.log("edge.log");
        let mut edge =
            Component::spawn("edge", self.command(&["edge"]), &log).expect("edge spawns");
        let (addr, admin) = (self.edge_addr, self.admin_addr);
        // Ready means selling: the page is served and the edge's view has heard from Redis.
        ready::wait_until("edge", Duration::from_secs(20), || {
            edge.exited().is_none()
                && ready::http_ok(addr, "/")
                && ready::http_body(admin, "/admin/status", ADMIN_TOKEN).is_some_and(|body| {
                    body.contains("\"stale\":false") && !body.contains("\"stale\":true")
                })
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        self.edge = Some(edge);
    }

    /// Stops the edge (SIGTERM) and starts it again: a fresh process that remembers nothing.
    pub fn restart_edge(&mut self) {
        if let Some(mut edge) = self.edge.take() {
            edge.stop();
        }
        self.start_edge();
    }

    /// Rewrites the config file with `change` applied to the stack's options (same ports,
    /// Redis and database), for reload tests.
    pub fn rewrite_config(&mut self, change: impl FnOnce(&mut StackOptions)) {
        change(&mut self.options);
        let weights = self.options.weights.iter().copied();
        let origins: Vec<(SocketAddr, u32)> =
            self.origin_addrs.iter().copied().zip(weights).collect();
        let redis = self.redis.lock().expect("redis handle").addr;
        let text = config_text(
            redis,
            self.edge_addr,
            self.admin_addr,
            &self.database_url,
            &origins,
            &self.options,
        );
        std::fs::write(&self.config_path, text).expect("config written");
    }

    /// Writes `text` as the config file, valid or not.
    pub fn write_config_text(&self, text: &str) {
        std::fs::write(&self.config_path, text).expect("config written");
    }

    /// Sends SIGHUP to the edge.
    pub fn hangup_edge(&self) {
        self.edge
            .as_ref()
            .expect("edge running")
            .signal(nix::sys::signal::Signal::SIGHUP)
            .expect("signal delivered");
    }

    /// The config version origin `i` reports on `/healthz` (1 until it reloads).
    pub fn origin_config_version(&self, i: usize) -> Option<u64> {
        ready::http_body(self.origin_addrs[i], "/healthz", "")
            .and_then(|body| body.strip_prefix("ok ")?.trim().parse().ok())
    }

    /// Reloads every component the way `flashgate up` does on SIGHUP: each origin, waiting
    /// until it reports the new file in force, then the edge, waiting for its new version.
    pub async fn reload_everything(&self) {
        for (i, origin) in self.origins.iter().enumerate() {
            let Some(origin) = origin else { continue };
            let before = self.origin_config_version(i);
            origin
                .signal(nix::sys::signal::Signal::SIGHUP)
                .expect("signal delivered");
            eventually(
                &format!("origin {i} reloading"),
                Duration::from_secs(10),
                || async { self.origin_config_version(i) > before },
            )
            .await;
        }
        let (_, status) = self.admin(reqwest::Method::GET, "/admin/status").await;
        let version = status["config_version"].as_u64().expect("a config version");
        self.hangup_edge();
        self.wait_for_config_version(version + 1).await;
    }

    /// What origin `i` has logged so far.
    pub fn origin_log(&self, i: usize) -> String {
        let log = self.log(&format!("origin-{}.log", self.origin_addrs[i].port()));
        std::fs::read_to_string(log).unwrap_or_default()
    }

    /// Sends SIGHUP to origin `i`.
    pub fn hangup_origin(&self, i: usize) {
        self.origins[i]
            .as_ref()
            .expect("origin running")
            .signal(nix::sys::signal::Signal::SIGHUP)
            .expect("signal delivered");
    }

    /// An admin API request.
    pub async fn admin(&self, method: reqwest::Method, path: &str) -> (u16, serde_json::Value) {
        let response = reqwest::Client::new()
            .request(method, format!("http://{}{path}", self.admin_addr))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("admin answers");
        status_and_json(response).await
    }

    /// Waits (bounded) until the edge runs config version `version`.
    pub async fn wait_for_config_version(&self, version: u64) {
        eventually(
            &format!("config version {version}"),
            Duration::from_secs(10),
            || async {
                let (_, status) = self.admin(reqwest::Method::GET, "/admin/status").await;
                status["config_version"] == version
            },
        )
        .await;
    }

    /// Kills Redis without warning (SIGKILL: a crash).
    pub fn kill_redis(&self) {
        self.redis.lock().expect("redis handle").kill();
    }

    /// Starts Redis again on the same data (AOF replay) and waits for it. Blocks the calling
    /// thread; call it from a multi-threaded runtime.
    pub fn start_redis_again(&self) {
        let mut redis = self.redis.lock().expect("redis handle");
        tokio::task::block_in_place(|| redis.restart().expect("redis-server restarts"));
    }

    /// The config file the components run with.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// A folder inside the test's temp dir.
    pub fn scratch(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    /// `http://EDGE` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.edge_addr)
    }

    /// A valid session for `user`.
    pub fn session(&self, user: &str) -> String {
        let user = UserId::parse(user).expect("valid user id");
        let expires_at = sale::time::now_millis() + 3_600_000;
        sale::session::mint(&self.config.secrets.session_keys, &user, expires_at)
    }

    /// A purchase token for `user` at `demo` expiring at `expires_at` (ms), minted with the
    /// edge's key, for tests that need tokens the edge would not hand out.
    pub fn token_expiring(&self, user: &str, expires_at: u64) -> String {
        let event = EventId::parse("demo").expect("valid event id");
        let user = UserId::parse(user).expect("valid user id");
        sale::purchase_token::issue(&self.config.secrets.token_keys, &event, &user, expires_at).0
    }

    /// A connection to the stack's Redis.
    pub async fn redis(&self) -> ConnectionManager {
        // Test tools read whole events at once; under a loaded parallel suite that takes longer
        // than the default half-second reply timeout.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(10)));
        redis::Client::open(self.config.redis_url.as_str())
            .expect("valid redis url")
            .get_connection_manager_with_config(config)
            .await
            .expect("redis reachable")
    }

    /// The order database.
    pub async fn store(&self) -> OrderStore {
        OrderStore::connect(&self.config.origin.database_url)
            .await
            .expect("order database opens")
    }

    /// Waits (bounded) until the database holds `count` orders of `demo`, and returns them.
    pub async fn orders_reaching(&self, count: usize) -> Vec<StoredOrder> {
        let store = self.store().await;
        let enough = || async {
            store
                .orders("demo")
                .await
                .expect("orders are readable")
                .len()
                >= count
        };
        eventually(
            &format!("{count} order rows"),
            Duration::from_secs(30),
            enough,
        )
        .await;
        store.orders("demo").await.expect("orders are readable")
    }

    /// Reconciles `demo`, waiting up to 30 s for the ledger to drain first.
    pub async fn reconcile(&self) -> Report {
        let event = self.config.event("demo").expect("demo event").clone();
        origin::reconcile::reconcile(
            &mut self.redis().await,
            &self.store().await,
            &event,
            Duration::from_secs(30),
        )
        .await
        .expect("reconcile runs")
    }

    /// Seats left in Redis.
    pub async fn remaining(&self) -> u64 {
        self.seat_counter("remaining").await
    }

    /// One counter of the `demo` seats hash (`remaining`, `expired`, …) in Redis.
    pub async fn seat_counter(&self, name: &str) -> u64 {
        let seats = sale::redis_keys::EventKeys::new(&EventId::parse("demo").unwrap()).seats;
        redis::AsyncCommands::hget(&mut self.redis().await, seats, name)
            .await
            .expect("seat counter readable")
    }

    /// Origin `index`'s Prometheus text.
    async fn origin_metrics(&self, index: usize) -> String {
        prometheus_text(self.origin_addrs[index]).await
    }

    /// The edge's Prometheus text, from its admin listener.
    pub async fn edge_metrics(&self) -> String {
        prometheus_text(self.admin_addr).await
    }

    /// Stream entries origin `index`'s ledger set aside as unreadable.
    pub async fn origin_dead_letters(&self, index: usize) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(&text, "flashgate_origin_ledger_dead_letters_total", "")
    }

    /// Requests origin `index` answered on `route`.
    pub async fn origin_requests(&self, index: usize, route: &str) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(
            &text,
            "flashgate_origin_requests_total",
            &format!("route=\"{route}\""),
        )
    }

    /// Origin `index`'s local allowance for `event`.
    pub async fn origin_local_allowance(&self, index: usize, event: &str) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(
            &text,
            "flashgate_origin_local_allowance",
            &format!("event=\"{event}\""),
        )
    }

    /// Requests origin `index` refused for lacking the edge signature.
    pub async fn origin_unsigned(&self, index: usize) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(&text, "flashgate_origin_unsigned_requests_total", "")
    }

    /// The public event document of `demo`, as the page sees it.
    pub async fn event_document(&self) -> serde_json::Value {
        reqwest::get(self.url("/api/events/demo"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Waits (bounded) until the stack as a whole sells `remaining` seats again: the edge's view
    /// shows them and no running origin still believes the event sold out.
    pub async fn wait_until_selling(&self, remaining: u64) {
        eventually(
            &format!("the stack selling {remaining} seats again"),
            Duration::from_secs(20),
            || async {
                let view = self.event_document().await;
                let mut origins_selling = true;
                for (i, origin) in self.origins.iter().enumerate() {
                    if origin.is_some() {
                        let text = self.origin_metrics(i).await;
                        origins_selling &=
                            metric_sum(&text, "flashgate_origin_sold_out", "event=\"demo\"") == 0;
                    }
                }
                view["remaining"] == remaining && view["state"] == "on_sale" && origins_selling
            },
        )
        .await;
    }

    /// Waits (bounded) until the edge's health checks see every origin healthy.
    pub async fn wait_until_origins_healthy(&self) {
        eventually(
            "the edge seeing every origin healthy",
            Duration::from_secs(20),
            || async {
                let (_, status) = self.admin(reqwest::Method::GET, "/admin/status").await;
                status["origins"]
                    .as_array()
                    .is_some_and(|o| o.iter().all(|o| o["healthy"] == true))
            },
        )
        .await;
    }

    /// Waits (bounded) until the edge shows `demo` sold out.
    pub async fn wait_until_sold_out(&self) {
        eventually(
            "the edge showing sold out",
            Duration::from_secs(10),
            || async { self.event_document().await["state"] == "sold_out" },
        )
        .await;
    }

    /// Every request any origin saw (signed, on any route, or refused unsigned).
    pub async fn origin_traffic(&self) -> u64 {
        let mut total = 0;
        for i in 0..self.origin_addrs.len() {
            for route in ["buy", "order", "pay", "cancel"] {
                total += self.origin_requests(i, route).await;
            }
            total += self.origin_unsigned(i).await;
        }
        total
    }
}

/// `GET /metrics` on `addr` with the admin token.
async fn prometheus_text(addr: SocketAddr) -> String {
    reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics body")
}
