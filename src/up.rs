//! `flashgate up`: the whole stack on this machine. Starts a private Redis (one server, or with
//! `--redis-cluster` a real local Redis Cluster), one origin per `[[origins]]` entry and the edge
//! (or `--edges N` of them), each a child process in its own process group (so Ctrl-C reaches only
//! `up`, which then stops them in order: edges, origins, Redis). A Redis process that dies is
//! started again on its data (a cluster node rejoins as a replica of the node that took over,
//! which is what the cluster is for; one server replays its AOF) and the stack goes on; if an
//! edge or an origin dies, the rest are stopped and the message says which one and where its log
//! is.
//!
//! Over 300 lines because starting the stack is one sequence an operator reads top to bottom;
//! keeping it running (crashes, a Redis process started again, reloads) is in `up/supervisor.rs`.

use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use sale::Config;
use sale::config::Environment;
use sale::secret_url::SecretUrl;

use crate::stack::{Component, RedisCluster, RedisServer, ready};

mod banner;
mod supervisor;

use supervisor::{Stack, StackRedis, supervise};

/// How long each component gets to become ready.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The Redis address `up` must start: the config's `redis://IP:PORT`.
fn redis_addr(url: &SecretUrl) -> Result<SocketAddr> {
    let rest = url.expose().strip_prefix("redis://").unwrap_or("");
    let host_port = rest.split('/').next().unwrap_or("");
    host_port.parse().map_err(|_| {
        anyhow!("`up` runs its own redis-server, so redis.url must be redis://IP:PORT, got {url}")
    })
}

/// Rehearsal settings: override the config's events for this run of the stack.
#[derive(Debug, Clone, Default)]
pub struct Rehearsal {
    /// Every event's stock.
    pub stock: Option<u32>,
    /// Every event opens this long after start, e.g. `30s`.
    pub opens_in: Option<String>,
    /// Start from empty Redis data and order database.
    pub fresh: bool,
    /// Run on a local Redis Cluster as `[up] redis_cluster` describes, instead of one server.
    pub redis_cluster: bool,
    /// How many edges to run (at least 1).
    pub edges: u16,
}

impl Rehearsal {
    /// The variables that carry the overrides to every component (and to config reloads).
    fn vars(&self, epoch: u64) -> Vec<(&'static str, String)> {
        let mut vars = vec![(Environment::EPOCH_VAR, epoch.to_string())];
        if let Some(stock) = self.stock {
            vars.push((Environment::STOCK_VAR, stock.to_string()));
        }
        if let Some(opens_in) = &self.opens_in {
            vars.push((Environment::STARTS_AT_VAR, format!("+{opens_in}")));
        }
        vars
    }
}

fn component(config: &Path, vars: &[(&'static str, String)], args: &[&str]) -> Result<Command> {
    let exe = std::env::current_exe().context("cannot find the flashgate binary")?;
    let mut command = Command::new(exe);
    command
        .args(args)
        .arg("--config")
        .arg(config)
        .arg("--log-format")
        .arg(crate::cli::log_format().as_arg())
        .envs(vars.iter().map(|(k, v)| (*k, v)))
        .process_group(0);
    Ok(command)
}

/// Every address the stack will listen on, with its owner, for a clear message when one is
/// taken.
fn needed_addresses(
    config: &Config,
    rehearsal: &Rehearsal,
    edges: &[EdgePlace],
) -> Result<Vec<(SocketAddr, String)>> {
    let mut needs = Vec::new();
    if rehearsal.redis_cluster {
        for port in config.up.redis_cluster.ports() {
            let node = SocketAddr::from(([127, 0, 0, 1], port));
            let bus = SocketAddr::from(([127, 0, 0, 1], port + 10_000));
            needs.push((node, format!("Redis Cluster node {node}")));
            needs.push((bus, format!("the cluster bus of node {node}")));
        }
    } else {
        let sale::config::RedisTarget::Node(url) = &config.redis.target else {
            bail!("`up` starts its own Redis: give redis.url (or run with --redis-cluster)");
        };
        needs.push((redis_addr(url)?, "redis-server".to_owned()));
    }
    needs.extend(
        config
            .origins
            .iter()
            .map(|o| (o.listen, format!("origin {}", o.listen))),
    );
    for (i, place) in edges.iter().enumerate() {
        needs.push((place.listen, format!("edge {i}")));
        needs.push((place.admin, format!("edge {i}'s admin listener")));
        if let Some(https) = place.https {
            needs.push((https, format!("edge {i}'s https listener")));
        }
    }
    Ok(needs)
}

/// Where one edge of the fleet listens.
pub struct EdgePlace {
    /// The plain public listener.
    pub listen: SocketAddr,
    /// The admin listener.
    pub admin: SocketAddr,
    /// The https listener, with `[edge.tls]`.
    pub https: Option<SocketAddr>,
}

/// Where each edge of the fleet listens.
fn fleet(config: &Config, edges: u16) -> Result<Vec<EdgePlace>> {
    (0..edges)
        .map(|i| {
            let too_high = || {
                anyhow!("--edges {edges}: edge {i}'s ports would pass 65535; configure lower ones")
            };
            let (listen, admin) = config.edge.fleet_addresses(i).ok_or_else(too_high)?;
            let https = config.edge.fleet_tls_address(i).ok_or_else(too_high)?;
            Ok(EdgePlace {
                listen,
                admin,
                https,
            })
        })
        .collect()
}

fn preflight(config: &Config, rehearsal: &Rehearsal, edges: &[EdgePlace]) -> Result<()> {
    if !crate::stack::redis_server::installed(&config.up.redis_server) {
        bail!(
            "{} is not installed; run scripts/up (which installs it) or apt-get install redis-server",
            config.up.redis_server
        );
    }
    for (addr, owner) in needed_addresses(config, rehearsal, edges)? {
        ready::ensure_free(addr, &owner).map_err(|e| anyhow!(e))?;
    }
    Ok(())
}

/// Removes the Redis data and (SQLite) order database of previous runs.
fn forget_data(config: &Config, var: &Path) -> Result<()> {
    for redis_dir in [var.join("redis"), var.join("redis-cluster")] {
        if redis_dir.exists() {
            std::fs::remove_dir_all(&redis_dir)
                .with_context(|| format!("cannot remove {}", redis_dir.display()))?;
        }
    }
    if let sale::config::DatabaseUrl::Sqlite(path) = &config.origin.database_url {
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file)
                    .with_context(|| format!("cannot remove {}", file.display()))?;
            }
        }
    }
    Ok(())
}

/// The config as every component will see it, with `vars` applied.
fn load(config_path: &Path, vars: &[(&'static str, String)]) -> Result<Config> {
    let mut env = Environment::from_process();
    env.vars
        .extend(vars.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
    env.epoch = vars[0].1.parse().ok().or(env.epoch);
    Config::load(config_path, &env).with_context(|| format!("config {}", config_path.display()))
}

/// Starts the stack and supervises it until Ctrl-C, SIGTERM or a crash.
pub fn run(config_path: &Path, rehearsal: &Rehearsal) -> Result<()> {
    let config_path = std::path::absolute(config_path).context("cannot resolve the config path")?;
    if rehearsal.edges == 0 {
        bail!("--edges must be at least 1");
    }
    let mut vars = rehearsal.vars(sale::time::now_millis());
    let mut config = load(&config_path, &vars)?;
    if rehearsal.redis_cluster {
        let seeds: Vec<String> = config
            .up
            .redis_cluster
            .ports()
            .map(|port| format!("redis://127.0.0.1:{port}"))
            .collect();
        vars.push((Environment::REDIS_CLUSTER_VAR, seeds.join(",")));
        config = load(&config_path, &vars)?;
    }
    let edges = fleet(&config, rehearsal.edges)?;
    preflight(&config, rehearsal, &edges)?;

    let var = config.up.var_dir.clone();
    if rehearsal.fresh {
        forget_data(&config, &var)?;
    }
    let log_dir: PathBuf = var.join("log");
    // A cluster or a stock left by an earlier run is not what this run serves.
    let cluster_seeds = crate::stack::running::seeds_file(&var);
    let stock = crate::stack::running::stock_file(&var);
    for file in [&cluster_seeds, &stock] {
        let _ = std::fs::remove_file(file);
    }
    if let Some(rehearsal_stock) = rehearsal.stock {
        std::fs::create_dir_all(&var)
            .with_context(|| format!("cannot create {}", var.display()))?;
        std::fs::write(&stock, rehearsal_stock.to_string())
            .with_context(|| format!("cannot write {}", stock.display()))?;
    }
    let mut stack = Stack {
        left_for_tools: vec![cluster_seeds, stock],
        edges: Vec::new(),
        origins: Vec::new(),
        redis: None,
    };
    stack.redis = Some(match &config.redis.target {
        sale::config::RedisTarget::Cluster(_) => {
            println!("starting a local Redis Cluster");
            let plan = config.up.redis_cluster;
            let localhost = std::net::IpAddr::from([127, 0, 0, 1]);
            let dir = var.join("redis-cluster");
            let cluster = RedisCluster::start(&config.up.redis_server, plan, localhost, &dir)
                .map_err(|e| anyhow!(e))?;
            let seeds = crate::stack::running::seeds_file(&var);
            std::fs::write(&seeds, cluster.seeds().join(","))
                .with_context(|| format!("cannot write {}", seeds.display()))?;
            StackRedis::Cluster(cluster)
        }
        sale::config::RedisTarget::Node(url) => StackRedis::Node(
            RedisServer::start(
                &config.up.redis_server,
                redis_addr(url)?,
                &var.join("redis"),
            )
            .map_err(|e| anyhow!(e))?,
        ),
    });

    for node in &config.origins {
        let addr = node.listen.to_string();
        let command = component(&config_path, &vars, &["origin", "--listen", &addr])?;
        let log = log_dir.join(format!("origin-{}.log", node.listen.port()));
        let mut child = Component::spawn(format!("origin {addr}"), command, &log)?;
        ready::wait_until(&format!("origin {addr}"), START_TIMEOUT, || {
            // An origin that speaks TLS is ready once it listens (its key was checked at start).
            child.exited().is_none()
                && if node.tls.is_some() {
                    ready::port_open(node.listen)
                } else {
                    ready::http_ok(node.listen, "/healthz")
                }
        })
        .map_err(|e| anyhow!("{e}; see {}", log.display()))?;
        stack.origins.push(child);
    }

    let dev_ca = match &config.edge.tls {
        Some(tls) if tls.development => Some(
            crate::dev_tls::ensure(&var)
                .context("cannot make the development certificate")?
                .ca,
        ),
        _ => None,
    };
    for (i, place) in edges.iter().enumerate() {
        let listen = place.listen;
        let mut edge_vars = vars.clone();
        edge_vars.push((Environment::EDGE_INDEX_VAR, i.to_string()));
        let (name, log) = if rehearsal.edges == 1 {
            ("edge".to_owned(), log_dir.join("edge.log"))
        } else {
            (format!("edge {i}"), log_dir.join(format!("edge-{i}.log")))
        };
        let command = component(&config_path, &edge_vars, &["edge"])?;
        let mut edge = Component::spawn(name.clone(), command, &log)?;
        ready::wait_until(&name, START_TIMEOUT, || {
            edge.exited().is_none() && ready::edge_serves(listen)
        })
        .map_err(|e| anyhow!("{e}; see {}", log.display()))?;
        stack.edges.push(edge);
    }

    banner::print(&banner::Banner {
        config: &config,
        edges: &edges,
        config_path: &config_path,
        log_dir: &log_dir,
        dev_ca: dev_ca.as_deref(),
    });
    supervise(&mut stack, &config.origins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn up_needs_a_plain_redis_address() {
        let addr = |url: &str| redis_addr(&SecretUrl::new(url));
        assert_eq!(addr("redis://127.0.0.1:6390").unwrap().port(), 6390);
        assert_eq!(addr("redis://127.0.0.1:6390/0").unwrap().port(), 6390);
        assert!(addr("unix:///tmp/r.sock").is_err());
        assert!(addr("redis://localhost:6390").is_err());
    }
}
