//! A real local Redis Cluster for the stack and the tests: `primaries × (1 + replicas)`
//! `redis-server --cluster-enabled yes` nodes on consecutive ports, each with AOF `appendfsync
//! always` and a short node timeout (so a killed primary's replica takes over within seconds),
//! joined by `redis-cli --cluster create`. Starting it waits until every node reports
//! `cluster_state:ok`, every node's slot map names every replica (a client connecting then routes
//! reads to them) and every primary has its replicas connected, so the first `WAIT` after it can be
//! satisfied. A folder that already holds a formed cluster (every node's `nodes.conf`) is
//! restarted as it was, not created again.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use sale::config::ClusterPlan;

use super::{RedisServer, ready};

/// How long a node may be unreachable before the cluster fails it over.
pub const NODE_TIMEOUT: Duration = Duration::from_millis(2000);
/// How long forming (or re-forming) the cluster may take.
const FORM_TIMEOUT: Duration = Duration::from_secs(60);

/// The running cluster; its nodes stop when it is dropped.
#[derive(Debug)]
pub struct RedisCluster {
    /// Every node, in port order (primaries first when it was created).
    pub nodes: Vec<RedisServer>,
    plan: ClusterPlan,
}

fn query<T: redis::FromRedisValue>(addr: SocketAddr, cmd: &mut redis::Cmd) -> Option<T> {
    let client = redis::Client::open(format!("redis://{addr}")).ok()?;
    let mut con = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .ok()?;
    cmd.query(&mut con).ok()
}

/// Whether the slot map `addr` hands a connecting client lists every slot range with its
/// primary and all `replicas` of it. Gossip announces a replica to the other nodes some time
/// after its primary sees it in sync, and a client routes reads only to the replicas in the map it
/// read when it connected.
fn slot_map_complete(addr: SocketAddr, replicas: u16) -> bool {
    let Some(redis::Value::Array(ranges)) = query(addr, redis::cmd("CLUSTER").arg("SLOTS")) else {
        return false;
    };
    // Each range is its first and last slot, then its primary, then its replicas.
    let fields = 3 + usize::from(replicas);
    !ranges.is_empty()
        && ranges
            .iter()
            .all(|range| matches!(range, redis::Value::Array(f) if f.len() == fields))
}

fn info_field(text: &str, field: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix(field)?.strip_prefix(':'))
        .map(str::to_owned)
}

impl RedisCluster {
    /// Starts (or restarts) the cluster `plan` describes on `ip`, data under `dir`.
    pub fn start(program: &str, plan: ClusterPlan, ip: IpAddr, dir: &Path) -> Result<Self, String> {
        let mut nodes = Vec::new();
        let mut formed = true;
        for port in plan.ports() {
            let node_dir = dir.join(format!("node-{port}"));
            formed &= node_dir.join("nodes.conf").exists();
            let addr = SocketAddr::new(ip, port);
            nodes.push(RedisServer::start_cluster_node(
                program,
                addr,
                &node_dir,
                NODE_TIMEOUT,
            )?);
        }
        let cluster = Self { nodes, plan };
        if !formed {
            cluster.create(program)?;
        }
        cluster.wait_healthy()?;
        Ok(cluster)
    }

    fn create(&self, program: &str) -> Result<(), String> {
        let cli = Path::new(program).with_file_name("redis-cli");
        let cli = if cli.exists() {
            cli.into_os_string()
        } else {
            "redis-cli".into()
        };
        let output = Command::new(&cli)
            .arg("--cluster")
            .arg("create")
            .args(self.nodes.iter().map(|n| n.addr.to_string()))
            .arg("--cluster-replicas")
            .arg(self.plan.replicas.to_string())
            .arg("--cluster-yes")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", cli.to_string_lossy()))?;
        if !output.status.success() {
            return Err(format!(
                "redis-cli --cluster create failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(())
    }

    /// Whether every node says the cluster is ok and maps every slot to its primary and all its
    /// replicas, and every primary has all its replicas in sync.
    pub fn healthy(&self) -> bool {
        let wanted = self.plan.replicas.to_string();
        let mut primaries = 0;
        for node in &self.nodes {
            let Some(info) = query::<String>(node.addr, redis::cmd("CLUSTER").arg("INFO")) else {
                return false;
            };
            if info_field(&info, "cluster_state").as_deref() != Some("ok")
                || !slot_map_complete(node.addr, self.plan.replicas)
            {
                return false;
            }
            let Some(replication) =
                query::<String>(node.addr, redis::cmd("INFO").arg("replication"))
            else {
                return false;
            };
            if info_field(&replication, "role").as_deref() == Some("master") {
                primaries += 1;
                // A replica counts once its first sync is done (`state=online`), not when it
                // merely connected: until then a `WAIT` cannot count it.
                let online = replication
                    .lines()
                    .filter(|l| l.starts_with("slave") && l.contains("state=online"))
                    .count();
                if online.to_string() != wanted {
                    return false;
                }
            }
        }
        primaries == usize::from(self.plan.primaries)
    }

    /// Waits until [`Self::healthy`].
    pub fn wait_healthy(&self) -> Result<(), String> {
        ready::wait_until("the Redis Cluster to form", FORM_TIMEOUT, || self.healthy())
    }

    /// The seed URLs a client needs (every node: any of them will do).
    pub fn seeds(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// The node listening on `addr`.
    pub fn node_mut(&mut self, addr: SocketAddr) -> Option<&mut RedisServer> {
        self.nodes.iter_mut().find(|n| n.addr == addr)
    }

    /// The primary that serves `key`'s slot now.
    pub fn primary_of(&self, key: &str) -> Option<SocketAddr> {
        let first = self.nodes.iter().find(|n| ready::port_open(n.addr))?;
        let slot: u16 = query(first.addr, redis::cmd("CLUSTER").arg("KEYSLOT").arg(key))?;
        let text: String = query(first.addr, redis::cmd("CLUSTER").arg("NODES"))?;
        sale::redis_link::parse_cluster_nodes(&text)
            .into_iter()
            .find(|n| n.role == "primary" && n.healthy && n.serves(slot))?
            .address
            .parse()
            .ok()
    }
}
