//! How every component reaches Redis, one server or a Redis Cluster alike. A [`RedisLink`] is
//! either a `ConnectionManager` (one server; reconnects by itself after a restart) or the `redis`
//! crate's cluster connection (learns the slot map from the seed nodes, follows `MOVED` and
//! failovers). Both implement `ConnectionLike`, so scripts, streams and reads are written once.
//! A command of one event routes by the event's hash tag to the primary owning its slot; the few
//! commands that concern a node rather than a key (`WAIT`, `CONFIG GET`, the node list) have
//! their own methods here, because on a cluster they must name the node they mean.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr,
};
use redis::{Cmd, FromRedisValue, Pipeline, RedisFuture, RedisResult, Value};

use crate::config::RedisTarget;
use crate::secret_url::SecretUrl;

/// A connection to the configured Redis, cheap to clone (clones share it).
#[derive(Clone)]
pub enum RedisLink {
    /// One server.
    Node(ConnectionManager),
    /// A Redis Cluster.
    Cluster(ClusterConnection),
}

impl std::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Node(_) => "RedisLink::Node",
            Self::Cluster(_) => "RedisLink::Cluster",
        })
    }
}

/// How patient a link is.
#[derive(Debug, Clone, Copy)]
pub struct LinkOptions {
    /// How long one command may wait for its reply (`None`: forever, for blocking reads that
    /// set their own bound).
    pub response_timeout: Option<Duration>,
    /// How long a (re)connection may take.
    pub connection_timeout: Duration,
    /// How often a command that failed on a connection error is tried again before the caller
    /// sees the error. Kept small: a request path must answer 503 soon rather than hang, and
    /// every script is safe to retry (each is keyed by a nonce or an order id).
    pub retries: u32,
    /// On a cluster, read-only commands go to a replica of the slot's shard (a random one), and
    /// to its primary only when the shard has none. Writes always go to primaries. For reads
    /// that may lag a little: the edges' event view, never a buy.
    pub read_from_replicas: bool,
}

/// One Redis server as a cluster member (or the one server) sees itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// `host:port` (on one server, which does not know the address clients use: `redis`).
    pub address: String,
    /// `primary` or `replica`.
    pub role: String,
    /// False when the cluster marks it failing, or it cannot be reached.
    pub healthy: bool,
    /// The slot ranges it serves (primaries of a cluster), as `start-end`.
    pub slots: Vec<(u16, u16)>,
    /// Of a primary: the replicas it has, as the cluster knows them (failing ones too; on one
    /// server, the connected ones, since it forgets the rest).
    pub replicas: u32,
    /// Of a primary: the replicas that are reachable and in sync.
    pub replicas_online: u32,
}

impl RedisLink {
    /// Connects to `target`.
    pub async fn open(target: &RedisTarget, options: LinkOptions) -> RedisResult<Self> {
        match target {
            RedisTarget::Node(url) => {
                let mut config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(options.connection_timeout))
                    .set_number_of_retries(options.retries as usize);
                if let Some(timeout) = options.response_timeout {
                    config = config.set_response_timeout(Some(timeout));
                }
                let client = redis::Client::open(url.expose())?;
                Ok(Self::Node(
                    ConnectionManager::new_with_config(client, config).await?,
                ))
            }
            RedisTarget::Cluster(seeds) => {
                let mut builder = ClusterClientBuilder::new(seeds.iter().map(SecretUrl::expose))
                    .connection_timeout(options.connection_timeout)
                    .retries(options.retries)
                    .min_retry_wait(20)
                    .max_retry_wait(250);
                if let Some(timeout) = options.response_timeout {
                    builder = builder.response_timeout(timeout);
                }
                if options.read_from_replicas {
                    builder = builder
                        .read_routing_strategy(redis::cluster_read_routing::RandomReplicaStrategy);
                }
                Ok(Self::Cluster(
                    builder.build()?.get_async_connection().await?,
                ))
            }
        }
    }

    /// `WAIT wanted timeout` on the primary that holds `key`: how many of its replicas have
    /// acknowledged everything this link has written there so far (at least the write just
    /// made through it, since a link sends its commands to a node in order).
    pub async fn replicas_holding(
        &mut self,
        key: &str,
        wanted: u32,
        timeout: Duration,
    ) -> RedisResult<u32> {
        let mut wait = redis::cmd("WAIT");
        wait.arg(wanted)
            .arg(u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX));
        match self {
            Self::Node(con) => wait.query_async(con).await,
            Self::Cluster(con) => {
                let owner = Route::with_key(key, SlotAddr::Master);
                let routing = RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(owner));
                u32::from_redis_value(con.route_command(wait, routing).await?)
                    .map_err(redis::RedisError::from)
            }
        }
    }

    /// `cmd` on every primary (the one server, or each primary of a cluster): its address and
    /// its reply, for settings that every shard must have, such as persistence.
    pub async fn on_every_primary(&mut self, cmd: Cmd) -> RedisResult<Vec<(String, Value)>> {
        match self {
            Self::Node(con) => Ok(vec![("redis".into(), cmd.query_async(con).await?)]),
            Self::Cluster(con) => {
                let routing = RoutingInfo::MultiNode((MultipleNodeRoutingInfo::AllMasters, None));
                let replies: Vec<(String, Value)> =
                    FromRedisValue::from_redis_value(con.route_command(cmd, routing).await?)?;
                Ok(replies)
            }
        }
    }

    /// The servers behind this link, with their roles and health.
    pub async fn nodes(&mut self) -> RedisResult<Vec<NodeInfo>> {
        match self {
            Self::Node(con) => {
                let info: String = redis::cmd("INFO")
                    .arg("replication")
                    .query_async(con)
                    .await?;
                Ok(vec![node_of_info(&info)])
            }
            Self::Cluster(con) => {
                let text: String = redis::cmd("CLUSTER").arg("NODES").query_async(con).await?;
                Ok(parse_cluster_nodes(&text))
            }
        }
    }

    /// The cluster slot of `key` (0 on one server, which has no slots).
    pub async fn slot_of(&mut self, key: &str) -> RedisResult<u16> {
        match self {
            Self::Node(_) => Ok(0),
            Self::Cluster(con) => {
                redis::cmd("CLUSTER")
                    .arg("KEYSLOT")
                    .arg(key)
                    .query_async(con)
                    .await
            }
        }
    }
}

impl NodeInfo {
    /// Whether this node serves `slot`.
    pub fn serves(&self, slot: u16) -> bool {
        self.slots.iter().any(|(a, b)| (*a..=*b).contains(&slot))
    }
}

/// One server as its `INFO replication` describes it.
fn node_of_info(info: &str) -> NodeInfo {
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name)?.strip_prefix(':'))
    };
    let replicas = field("connected_slaves")
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let online = info
        .lines()
        .filter(|l| l.starts_with("slave") && l.contains("state=online"))
        .count();
    NodeInfo {
        address: "redis".into(),
        role: if field("role") == Some("slave") {
            "replica"
        } else {
            "primary"
        }
        .into(),
        healthy: true,
        slots: Vec::new(),
        replicas,
        replicas_online: u32::try_from(online).unwrap_or(u32::MAX),
    }
}

/// Parses `CLUSTER NODES`: `id host:port@bus flags primary-id ping pong epoch link slots...`.
pub fn parse_cluster_nodes(text: &str) -> Vec<NodeInfo> {
    // (node id, the primary it replicates, healthy) of every replica.
    let replicas: Vec<(&str, bool)> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let flags = fields.get(2)?;
            (flags.contains("slave") && !flags.contains("noaddr")).then_some((
                *fields.get(3)?,
                !flags.contains("fail") && fields.get(7) == Some(&"connected"),
            ))
        })
        .collect();
    let mut nodes: Vec<NodeInfo> = text
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let id = fields.first()?;
            let mine = replicas.iter().filter(|(primary, _)| primary == id);
            let known = u32::try_from(mine.clone().count()).unwrap_or(u32::MAX);
            let online = u32::try_from(mine.filter(|(_, up)| *up).count()).unwrap_or(u32::MAX);
            let address = fields.get(1)?.split('@').next()?.to_owned();
            let flags = fields.get(2)?;
            let link = fields.get(7)?;
            let slots = fields
                .iter()
                .skip(8)
                .filter_map(|range| {
                    let (start, end) = range.split_once('-').unwrap_or((range, range));
                    Some((start.parse().ok()?, end.parse().ok()?))
                })
                .collect();
            Some(NodeInfo {
                address,
                role: if flags.contains("master") {
                    "primary"
                } else {
                    "replica"
                }
                .into(),
                healthy: !flags.contains("fail") && *link == "connected",
                slots,
                replicas: known,
                replicas_online: online,
            })
        })
        .collect();
    nodes.sort_by(|a, b| a.address.cmp(&b.address));
    nodes
}

impl ConnectionLike for RedisLink {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Node(con) => con.req_packed_command(cmd),
            Self::Cluster(con) => con.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Node(con) => con.req_packed_commands(cmd, offset, count),
            Self::Cluster(con) => con.req_packed_commands(cmd, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Node(con) => con.get_db(),
            Self::Cluster(con) => con.get_db(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_are_read_with_roles_health_and_slots() {
        let text = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460
b2 127.0.0.1:7003@17003 slave a1 0 1 1 connected
c3 127.0.0.1:7001@17001 master,fail - 0 1 2 disconnected 5461-10922 12000
";
        let nodes = parse_cluster_nodes(text);
        assert_eq!(nodes.len(), 3);
        assert_eq!(nodes[0].address, "127.0.0.1:7000");
        assert_eq!(nodes[0].role, "primary");
        assert!(nodes[0].healthy);
        assert_eq!(nodes[0].slots, [(0, 5460)]);
        assert!(nodes[0].serves(5460) && !nodes[0].serves(5461));
        assert_eq!(nodes[1].address, "127.0.0.1:7001");
        assert!(!nodes[1].healthy);
        assert_eq!(nodes[1].slots, [(5461, 10922), (12000, 12000)]);
        assert_eq!(nodes[2].role, "replica");
        assert!(nodes[2].slots.is_empty());
        assert_eq!((nodes[0].replicas, nodes[0].replicas_online), (1, 1));
        assert_eq!((nodes[1].replicas, nodes[1].replicas_online), (0, 0));
    }

    #[test]
    fn failing_replicas_are_known_but_not_online() {
        let text = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16383
b2 127.0.0.1:7003@17003 slave,fail a1 0 1 1 disconnected
";
        let nodes = parse_cluster_nodes(text);
        assert_eq!((nodes[0].replicas, nodes[0].replicas_online), (1, 0));
    }

    #[test]
    fn one_server_counts_its_connected_and_online_replicas() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
slave0:ip=127.0.0.1,port=7001,state=online,offset=1,lag=0\r\n\
slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=0\r\n";
        let node = node_of_info(info);
        assert_eq!(node.role, "primary");
        assert_eq!((node.replicas, node.replicas_online), (2, 1));
        assert_eq!(node_of_info("role:slave\r\n").role, "replica");
    }
}
