//! The shared harness: [`Stack::start`] brings up Redis, the origins and the edge with a config
//! written for the test; tests may also stop, kill and restart each part (this file: the stack and
//! its processes). Dropping the stack stops every process (also when the test panics), drops its
//! PostgreSQL database and removes its folder. Beside it: `config` (what a stack is made of),
//! `client` (talking to it as a buyer, and the one bounded wait), `minting` (sessions and tokens),
//! `state` (what Redis and the database hold), `metrics`, `waits`, `reload`, `browser`, `cluster`
//! (Redis Cluster nodes), `room` (a buyer in the waiting room), `ports` (free ports for servers),
//! `https` (the test CA), `payments` (checkouts and provider confirmations), `receiver` (the
//! operator's webhook receiver). Over 400 lines because starting, stopping, killing and
//! restarting each part of the stack is one lifecycle over the same processes.

mod browser;
mod client;
mod cluster;
mod config;
mod https;
mod metrics;
mod minting;
mod openapi;
mod payments;
mod ports;
mod receiver;
mod reload;
pub mod room;
mod state;
mod waits;

pub use browser::*;
pub use client::*;
pub use config::*;
pub use https::*;
pub use payments::*;
pub use ports::{free_addr, free_cluster_ports};
pub use receiver::Receiver;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use flashgate::stack::{Component, RedisCluster, RedisServer, ready};
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
    /// The https listener, with `tls_names`.
    pub tls_addr: Option<SocketAddr>,
    /// The CA that issued the https certificates.
    ca: Option<flashgate::dev_tls::DevCa>,
    /// The instant `+DURATION` times in its config count from, Unix ms.
    pub epoch: u64,
    config_path: std::path::PathBuf,
    database_url: String,
    options: StackOptions,
    // Dropped in this order: processes stop before their folder is removed.
    edge: Option<Component>,
    more_edges: Vec<Component>,
    origins: Vec<Option<Component>>,
    redis: std::sync::Mutex<TestRedis>,
    /// Requests re-sent after a connection failed before any answer ([`send`]).
    resends: AtomicUsize,
    /// Whether the test killed, froze or restarted a part of the stack: only then may a
    /// connection fail under a client.
    faults: AtomicBool,
    dir: tempfile::TempDir,
}

/// The stack's Redis.
pub enum TestRedis {
    /// One server.
    Node(RedisServer),
    /// A cluster.
    Cluster(RedisCluster),
}

impl TestRedis {
    fn start(kind: RedisKind, dir: &Path) -> Self {
        match kind {
            RedisKind::Node => Self::Node(
                RedisServer::start("redis-server", free_addr(), &dir.join("redis"))
                    .expect("redis-server starts"),
            ),
            RedisKind::Cluster {
                primaries,
                replicas,
            } => {
                let nodes = primaries * (1 + replicas);
                let plan = sale::config::ClusterPlan {
                    primaries,
                    replicas,
                    first_port: free_cluster_ports(nodes),
                };
                let localhost = std::net::IpAddr::from([127, 0, 0, 1]);
                Self::Cluster(
                    RedisCluster::start("redis-server", plan, localhost, &dir.join("cluster"))
                        .expect("the Redis Cluster forms"),
                )
            }
        }
    }

    /// The `[redis]` line that names it.
    fn config_line(&self) -> String {
        match self {
            Self::Node(server) => format!("url = \"{}\"", server.url()),
            Self::Cluster(cluster) => {
                let seeds: Vec<String> =
                    cluster.seeds().iter().map(|s| format!("\"{s}\"")).collect();
                format!("cluster = [{}]", seeds.join(", "))
            }
        }
    }

    fn node(&mut self) -> &mut RedisServer {
        match self {
            Self::Node(server) => server,
            Self::Cluster(_) => panic!("this test needs a single-node Redis"),
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
        for i in 1..stack.options.edges {
            stack.start_fleet_edge(i);
        }
        stack
    }

    /// Writes the config and starts Redis only; start the rest with the `start_*` methods.
    pub async fn prepare(options: StackOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let epoch = sale::time::now_millis();
        let redis = TestRedis::start(options.redis, dir.path());
        let database_url = match options.database {
            Database::Sqlite => "sqlite://orders.db".to_owned(),
            Database::Postgres => fresh_postgres_database().await,
        };
        let consecutive = |count: u16| match count {
            1 => free_addr(),
            _ => SocketAddr::from(([127, 0, 0, 1], free_cluster_ports(count))),
        };
        let edge_addr = consecutive(options.edges);
        let origins: Vec<(SocketAddr, u32)> =
            options.weights.iter().map(|w| (free_addr(), *w)).collect();
        let config_path = dir.path().join("flashgate.toml");
        let admin_addr = consecutive(options.edges);
        let tls_addr = (!options.tls_names.is_empty()).then(|| consecutive(options.edges));
        let ca = (tls_addr.is_some() || options.origin_tls)
            .then(|| https::issue_certificates(dir.path(), options.tls_names, options.origin_tls));
        let text = config_text(
            &redis.config_line(),
            edge_addr,
            admin_addr,
            &database_url,
            &origins,
            tls_addr,
            &options,
        );
        std::fs::write(&config_path, text).expect("config written");
        let env = Environment {
            epoch: Some(epoch),
            ..Environment::default()
        };
        let config = Config::load(&config_path, &env).expect("test config is valid");
        Self {
            config,
            edge_addr,
            origin_addrs: origins.iter().map(|(a, _)| *a).collect(),
            admin_addr,
            tls_addr,
            ca,
            epoch,
            config_path,
            database_url,
            options,
            edge: None,
            more_edges: Vec::new(),
            origins: origins.iter().map(|_| None).collect(),
            redis: std::sync::Mutex::new(redis),
            resends: AtomicUsize::new(0),
            faults: AtomicBool::new(false),
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
            .env("RUST_LOG", self.options.log_filter);
        if self.options.json_logs {
            command.args(["--log-format", "json"]);
        }
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
            child.exited().is_none()
                && if self.options.origin_tls {
                    ready::port_open(addr)
                } else {
                    ready::http_ok(addr, "/healthz")
                }
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        self.origins[i] = Some(child);
    }

    /// Notes that the test breaks part of the stack on purpose.
    pub(crate) fn fault(&self) {
        self.faults.store(true, Ordering::Relaxed);
    }

    /// Whether the test has broken part of the stack on purpose.
    pub(crate) fn faults_injected(&self) -> bool {
        self.faults.load(Ordering::Relaxed)
    }

    /// Notes a request re-sent after its connection failed.
    pub(crate) fn resent(&self) {
        self.resends.fetch_add(1, Ordering::Relaxed);
    }

    /// Kills origin `i` without warning, as a crash would.
    pub fn kill_origin(&mut self, i: usize) {
        self.fault();
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
                && ready::edge_serves(addr)
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

    /// Starts edge `i` of the fleet (on the first edge's ports plus `i`) and waits until it sells.
    fn start_fleet_edge(&mut self, i: u16) {
        let log = self.log(&format!("edge-{i}.log"));
        let mut command = self.command(&["edge"]);
        command.env(Environment::EDGE_INDEX_VAR, i.to_string());
        let mut edge = Component::spawn(format!("edge {i}"), command, &log).expect("edge spawns");
        let (addr, admin) = self.fleet_addresses(i);
        ready::wait_until(&format!("edge {i}"), Duration::from_secs(20), || {
            edge.exited().is_none()
                && ready::edge_serves(addr)
                && ready::http_body(admin, "/admin/status", ADMIN_TOKEN)
                    .is_some_and(|body| !body.contains("\"stale\":true"))
        })
        .unwrap_or_else(|e| {
            panic!(
                "{e}; log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            )
        });
        self.more_edges.push(edge);
    }

    /// The public address of edge `i` of the fleet (0 is [`Self::edge_addr`]).
    pub fn fleet_edge(&self, i: u16) -> SocketAddr {
        self.fleet_addresses(i).0
    }

    fn fleet_addresses(&self, i: u16) -> (SocketAddr, SocketAddr) {
        self.config
            .edge
            .fleet_addresses(i)
            .expect("the fleet's ports fit below 65536")
    }

    /// Stops the edge (SIGTERM) and starts it again: a fresh process that remembers nothing.
    pub fn restart_edge(&mut self) {
        self.fault();
        if let Some(mut edge) = self.edge.take() {
            edge.stop();
        }
        self.start_edge();
    }

    /// What the edge has logged so far.
    pub fn edge_log(&self) -> String {
        std::fs::read_to_string(self.log("edge.log")).unwrap_or_default()
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
        self.fault();
        self.redis.lock().expect("redis handle").node().kill();
    }

    /// Starts Redis again on the same data (AOF replay) and waits for it. Blocks the calling
    /// thread; call it from a multi-threaded runtime.
    pub fn start_redis_again(&self) {
        let mut redis = self.redis.lock().expect("redis handle");
        tokio::task::block_in_place(|| redis.node().restart().expect("redis-server restarts"));
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
        let resends = self.resends.load(Ordering::Relaxed);
        if resends > 0 && !self.faults.load(Ordering::Relaxed) && !std::thread::panicking() {
            panic!(
                "{resends} request(s) had to be re-sent after a connection failed, in a test that \
                 broke nothing: the edge dropped a connection it should have kept"
            );
        }
        drop(self.edge.take());
        self.more_edges.clear();
        self.origins.iter_mut().for_each(|o| drop(o.take()));
        if self.options.database == Database::Postgres {
            drop_postgres_database(&self.database_url);
        }
    }
}
