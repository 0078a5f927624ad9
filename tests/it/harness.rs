//! The shared harness: [`Stack::start`] brings up Redis, the origins and the edge with a config
//! written for the test; dropping the stack stops every process (also when the test panics).

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use flashgate::stack::{Component, RedisServer, ready};
use origin::ledger::{OrderStore, StoredOrder};
use sale::config::Environment;
use sale::{Config, EventId, UserId};

/// What a test wants of its stack.
#[derive(Debug, Clone)]
pub struct StackOptions {
    /// One origin per weight.
    pub weights: Vec<u32>,
    /// Seats of the `demo` event.
    pub stock: u32,
    /// `starts_at` relative to the stack's start, e.g. `"+0s"` (open) or `"+1h"`.
    pub starts: &'static str,
    /// `ends_at` likewise.
    pub ends: &'static str,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            weights: vec![1, 1],
            stock: 100,
            starts: "+0s",
            ends: "+1h",
        }
    }
}

/// A running stack for one test.
pub struct Stack {
    /// The config as the components loaded it.
    pub config: Config,
    /// The public edge address.
    pub edge_addr: SocketAddr,
    /// Origin addresses, in config order.
    pub origin_addrs: Vec<SocketAddr>,
    // Held only to be dropped, in this order: processes stop before their folder is removed.
    _edge: Component,
    _origins: Vec<Component>,
    _redis: RedisServer,
    dir: tempfile::TempDir,
}

/// A loopback port nobody listens on right now.
pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("the OS hands out a free port")
}

pub const ADMIN_TOKEN: &str = "test-admin-token-0123456789";
const EPOCH_VAR: &str = Environment::EPOCH_VAR;

fn config_text(
    redis: SocketAddr,
    edge: SocketAddr,
    admin: SocketAddr,
    origins: &[(SocketAddr, u32)],
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

[origin]
database_url = "sqlite://orders.db"

[redis]
url = "redis://{redis}"

[secrets]
admin_token = "{ADMIN_TOKEN}"
session_keys = [{{ id = "s1", secret = "test-session-key-0123456789" }}]
token_keys = [{{ id = "t1", secret = "test-token-key-0123456789" }}]
internal_keys = [{{ id = "i1", secret = "test-internal-key-0123456789" }}]

[[events]]
id = "demo"
name = "Test event"
price_cents = 1000
currency = "EUR"
stock = {stock}
starts_at = "{starts}"
ends_at = "{ends}"

[up]
var_dir = "var"
"#,
        static_dir = static_dir.display(),
        stock = o.stock,
        starts = o.starts,
        ends = o.ends,
    );
    for (addr, weight) in origins {
        text.push_str(&format!(
            "\n[[origins]]\nlisten = \"{addr}\"\nweight = {weight}\n"
        ));
    }
    text
}

fn flashgate(config: &Path, epoch: u64, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flashgate"));
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .env(EPOCH_VAR, epoch.to_string())
        .env("RUST_LOG", "warn");
    command
}

impl Stack {
    /// Starts everything and waits until the edge serves and every origin is healthy.
    pub fn start(options: StackOptions) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let epoch = sale::time::now_millis();
        let redis = RedisServer::start("redis-server", free_addr(), &dir.path().join("redis"))
            .expect("redis-server starts");
        let edge_addr = free_addr();
        let origins: Vec<(SocketAddr, u32)> =
            options.weights.iter().map(|w| (free_addr(), *w)).collect();
        let config_path = dir.path().join("flashgate.toml");
        let text = config_text(redis.addr, edge_addr, free_addr(), &origins, &options);
        std::fs::write(&config_path, text).expect("config written");
        let env = Environment {
            epoch,
            ..Environment::default()
        };
        let config = Config::load(&config_path, &env).expect("test config is valid");

        let logs = dir.path().join("log");
        let mut origin_processes = Vec::new();
        for (addr, _) in &origins {
            let command = flashgate(
                &config_path,
                epoch,
                &["origin", "--listen", &addr.to_string()],
            );
            let mut child = Component::spawn(
                format!("origin {addr}"),
                command,
                &logs.join(format!("origin-{}.log", addr.port())),
            )
            .expect("origin spawns");
            ready::wait_until(&format!("origin {addr}"), Duration::from_secs(20), || {
                child.exited().is_none() && ready::http_ok(*addr, "/healthz")
            })
            .expect("origin becomes healthy");
            origin_processes.push(child);
        }
        let mut edge = Component::spawn(
            "edge",
            flashgate(&config_path, epoch, &["edge"]),
            &logs.join("edge.log"),
        )
        .expect("edge spawns");
        ready::wait_until("edge", Duration::from_secs(20), || {
            edge.exited().is_none() && ready::http_ok(edge_addr, "/")
        })
        .expect("edge serves");

        Self {
            config,
            edge_addr,
            origin_addrs: origins.iter().map(|(a, _)| *a).collect(),
            _edge: edge,
            _origins: origin_processes,
            _redis: redis,
            dir,
        }
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
    /// edge's key, for tests that need tokens the edge would not hand out (expired ones).
    pub fn token_expiring(&self, user: &str, expires_at: u64) -> String {
        let event = EventId::parse("demo").expect("valid event id");
        let user = UserId::parse(user).expect("valid user id");
        sale::purchase_token::issue(&self.config.secrets.token_keys, &event, &user, expires_at).0
    }

    /// The order database.
    pub async fn orders(&self) -> Vec<StoredOrder> {
        let store = OrderStore::open_sqlite(&self.dir.path().join("orders.db"))
            .await
            .expect("order database opens");
        store.orders("demo").await.expect("orders are readable")
    }

    /// Waits (bounded) until the database holds `count` orders of `demo`, and returns them.
    pub async fn orders_reaching(&self, count: usize) -> Vec<StoredOrder> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            let orders = self.orders().await;
            if orders.len() >= count || tokio::time::Instant::now() >= deadline {
                return orders;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Origin `index`'s Prometheus text.
    async fn origin_metrics(&self, index: usize) -> String {
        reqwest::Client::new()
            .get(format!("http://{}/metrics", self.origin_addrs[index]))
            .bearer_auth(ADMIN_TOKEN)
            .send()
            .await
            .expect("origin metrics answer")
            .text()
            .await
            .expect("metrics body")
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

    /// Requests origin `index` refused for lacking the edge signature.
    pub async fn origin_unsigned(&self, index: usize) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(&text, "flashgate_origin_unsigned_requests_total", "")
    }

    /// Every request any origin saw (signed, on any route, or refused unsigned).
    pub async fn origin_traffic(&self) -> u64 {
        let mut total = 0;
        for i in 0..self.origin_addrs.len() {
            for route in ["buy", "order"] {
                total += self.origin_requests(i, route).await;
            }
            total += self.origin_unsigned(i).await;
        }
        total
    }
}

/// Sums the samples of `metric` whose labels contain `label`.
fn metric_sum(text: &str, metric: &str, label: &str) -> u64 {
    text.lines()
        .filter(|line| line.starts_with(metric) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A response's status and JSON body.
pub async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// `POST /api/events/demo/token` for `session`, returning status and body.
pub async fn fetch_token(
    client: &reqwest::Client,
    stack: &Stack,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(session)
        .send()
        .await
        .expect("edge answers");
    status_and_json(response).await
}

/// Token then buy for `user`; returns the buy's status and body.
pub async fn token_and_buy(
    client: &reqwest::Client,
    stack: &Stack,
    user: &str,
) -> (u16, serde_json::Value) {
    let session = stack.session(user);
    let (status, token) = fetch_token(client, stack, &session).await;
    assert_eq!(status, 200, "token for {user}: {token}");
    let buy_url = token["buy_url"].as_str().expect("buy_url");
    let response = client
        .post(stack.url(buy_url))
        .bearer_auth(&session)
        .send()
        .await
        .expect("edge answers");
    status_and_json(response).await
}
