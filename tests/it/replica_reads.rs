//! The read-write split on a Redis Cluster: an edge reads its event view from a replica of the
//! event's shard (the primaries keep their capacity for the buys), and when that replica is
//! killed it reads the primary and keeps selling on a fresh view.

use std::net::SocketAddr;
use std::time::Duration;

use sale::config::RedisTarget;

use crate::harness::{RedisKind, Stack, StackOptions, eventually, token_and_buy};

/// A field of `INFO section` on the node at `addr`.
fn info(addr: SocketAddr, section: &str, field: &str) -> Option<String> {
    let client = redis::Client::open(format!("redis://{addr}")).ok()?;
    let mut con = client
        .get_connection_with_timeout(Duration::from_millis(500))
        .ok()?;
    let text: String = redis::cmd("INFO").arg(section).query(&mut con).ok()?;
    text.lines()
        .find_map(|l| l.trim().strip_prefix(field)?.strip_prefix(':'))
        .map(str::to_owned)
}

/// How many `HMGET`s the node at `addr` has served to clients (a replica serves only reads,
/// so on a replica these are the edges' view reads).
fn hmgets(addr: SocketAddr) -> u64 {
    info(addr, "commandstats", "cmdstat_hmget")
        .and_then(|stats| {
            let calls = stats.split(',').next()?.strip_prefix("calls=")?;
            calls.parse().ok()
        })
        .unwrap_or(0)
}

/// Every node of the stack's cluster (its seeds are all of them).
fn cluster_nodes(stack: &Stack) -> Vec<SocketAddr> {
    let RedisTarget::Cluster(seeds) = &stack.config.redis.target else {
        panic!("a cluster stack");
    };
    seeds
        .iter()
        .map(|seed| {
            let address = seed.expose().trim_start_matches("redis://");
            address.trim_end_matches('/').parse().unwrap()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_edge_reads_its_view_from_a_replica_and_the_primary_when_it_dies() {
    let stack = Stack::start(StackOptions {
        redis: RedisKind::Cluster {
            primaries: 3,
            replicas: 1,
        },
        // Buys need no replica here, so the shard keeps selling while its replica is dead and
        // the view can be seen to follow them.
        redis_options: "min_replica_acks = 0",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let owner = stack.primary_of("{ev:demo}").expect("the event's primary");
    let nodes = cluster_nodes(&stack);
    let replica = *nodes
        .iter()
        .find(|&&node| {
            info(node, "replication", "role").as_deref() == Some("slave")
                && info(node, "replication", "master_port") == Some(owner.port().to_string())
        })
        .expect("the event's shard has a replica");

    // The view is read on the replica, and what a buy changes on the primary shows there.
    let read_before = hmgets(replica);
    eventually(
        "the edge reading its view on the replica",
        Duration::from_secs(20),
        || async { hmgets(replica) >= read_before + 10 },
    )
    .await;
    let (status, order) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201, "{order}");
    eventually(
        "the view showing the buy",
        Duration::from_secs(20),
        || async { stack.event_document().await["remaining"] == 99 },
    )
    .await;

    // Without its replica, the edge reads the primary: the view never goes stale (every
    // document seen on the way says so) and follows the next buy.
    stack.kill_redis_node(replica);
    let (status, order) = token_and_buy(&client, &stack, "bob").await;
    assert_eq!(status, 201, "{order}");
    eventually(
        "the view showing the buy made after the replica died",
        Duration::from_secs(20),
        || async {
            let doc = stack.event_document().await;
            assert_ne!(doc["stale"], true, "the view went stale: {doc}");
            doc["remaining"] == 98
        },
    )
    .await;
}
