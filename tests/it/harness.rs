//! The shared harness: [`Stack::start`] brings up Redis, the origins and the edge with a config
//! written for the test; tests may also stop, kill and restart each part (this file: the stack and
//! its processes). Dropping the stack stops every process (also when the test panics), drops its
//! PostgreSQL database and removes its folder. Beside it: `config` (what a stack is made of),
//! `client` (talking to it as a buyer, and the one bounded wait), `minting` (sessions and tokens),
//! `state` (what Redis and the database hold), `metrics`, `waits`, `reload`, `browser`.

mod browser;
mod client;
mod config;
mod metrics;
mod minting;
mod reload;
mod state;
mod waits;

pub use browser::*;
pub use client::*;
pub use config::*;

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use flashgate::stack::{Component, RedisServer, ready};
use sale::Config;
use sale::config::Environment;

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

    /// What origin `i` has logged so far.
    pub fn origin_log(&self, i: usize) -> String {
        let log = self.log(&format!("origin-{}.log", self.origin_addrs[i].port()));
        std::fs::read_to_string(log).unwrap_or_default()
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
}

impl Drop for Stack {
    /// Stops the components first, so nothing holds the database, then drops the test's
    /// PostgreSQL database (a SQLite file goes with the temp folder).
    fn drop(&mut self) {
        drop(self.edge.take());
        self.origins.iter_mut().for_each(|o| drop(o.take()));
        if self.options.database == Database::Postgres {
            drop_postgres_database(&self.database_url);
        }
    }
}
