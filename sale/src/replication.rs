//! Acknowledged means replicated. After a script changes an order (reserve, pay, cancel, expire)
//! or the waiting room (open, join, grant, draw), the component asks the primary that ran it,
//! through the same connection, to `WAIT` until `redis.min_replica_acks` replicas hold the change
//! or `redis.replica_ack_timeout` passes. Too few in time and the client gets 503 `unavailable`,
//! never an answer that one node alone holds: the outcome is unknown to the client, and the same
//! request retried finds what was done (replays wait for the replicas again). `WAIT` does not make Redis strongly consistent (a failover may still pick
//! a replica that missed a write acknowledged to fewer replicas than wanted); docs/scaling.md
//! says what reconcile does about that.
//!
//! `WAIT` blocks the connection it is sent on until the replicas answer, and every buy of a
//! process shares one multiplexed connection per Redis node, so one `WAIT` per buy would
//! serialise them all. Instead the waits are grouped, like a database's group commit: `WAIT`
//! covers everything the connection wrote before it, so one `WAIT` sent after many scripts have
//! answered confirms them all, and the buys that finish while it is out share the next one. On
//! one server there is one group (one connection, so at most one `WAIT` holds it at a time, within
//! `redis.replica_ack_timeout`); on a cluster there is one per event (its shard's connection), and
//! events whose shards share a primary may wait one after another.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::config::ReplicaAcks;
use crate::redis_link::{NodeInfo, RedisLink};

/// Why a change could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum ReplicationError {
    /// Redis did not answer the `WAIT`.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Fewer replicas than required confirmed the change in time.
    #[error("only {acked} of {wanted} replicas confirmed the change in time")]
    NotReplicated {
        /// Replicas that confirmed.
        acked: u32,
        /// Replicas required.
        wanted: u32,
    },
}

/// The changes written through the link for one event, and how many of them replicas confirmed.
#[derive(Debug, Default)]
struct Group {
    /// Changes whose script has answered, counted in order.
    written: AtomicU64,
    /// The highest count a `WAIT` has confirmed.
    confirmed: AtomicU64,
    /// Held by the one `WAIT` in flight.
    waiting: tokio::sync::Mutex<()>,
}

/// The replication every order change waits for.
#[derive(Debug, Clone)]
pub struct Replication {
    acks: ReplicaAcks,
    groups: Arc<Mutex<HashMap<String, Arc<Group>>>>,
}

impl Replication {
    /// Waits as `acks` says (not at all when it asks for no replica).
    pub fn new(acks: ReplicaAcks) -> Self {
        Self {
            acks,
            groups: Arc::default(),
        }
    }

    fn group(&self, key: &str) -> Arc<Group> {
        let mut groups = self.groups.lock().unwrap_or_else(|p| p.into_inner());
        groups.entry(key.to_owned()).or_default().clone()
    }

    /// Returns once enough replicas hold what `redis` wrote to the shard of `key` up to now
    /// (call it after the script's answer arrived).
    pub async fn confirm(&self, redis: &mut RedisLink, key: &str) -> Result<(), ReplicationError> {
        let wanted = self.acks.min;
        if wanted == 0 {
            return Ok(());
        }
        // One server is one connection: one `WAIT` covers every event's changes, so waits never
        // queue behind each other there. On a cluster each event's shard has its own.
        let group = match redis {
            RedisLink::Node(_) => self.group(""),
            RedisLink::Cluster(_) => self.group(key),
        };
        let mine = group.written.fetch_add(1, Ordering::SeqCst) + 1;
        if group.confirmed.load(Ordering::SeqCst) >= mine {
            return Ok(());
        }
        let _turn = group.waiting.lock().await;
        // The `WAIT` that held the turn may have covered this change already.
        if group.confirmed.load(Ordering::SeqCst) >= mine {
            return Ok(());
        }
        // Every change counted so far has had its answer, so it was sent before this WAIT.
        let covered = group.written.load(Ordering::SeqCst);
        let acked = redis
            .replicas_holding(key, wanted, self.acks.timeout)
            .await?;
        if acked < wanted {
            return Err(ReplicationError::NotReplicated { acked, wanted });
        }
        group.confirmed.fetch_max(covered, Ordering::SeqCst);
        Ok(())
    }
}

/// A primary with fewer replicas than every order change waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortfall {
    /// The primary's address.
    pub primary: String,
    /// Replicas it has (known to the cluster) or has online, whichever was counted.
    pub replicas: u32,
    /// Replicas every order change waits for.
    pub wanted: u32,
}

impl std::fmt::Display for Shortfall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} has {} of {} replicas",
            self.primary, self.replicas, self.wanted
        )
    }
}

/// The primaries among `nodes` whose replicas, counted by `count`, fall short of `wanted`.
pub fn shortfalls(nodes: &[NodeInfo], wanted: u32, count: fn(&NodeInfo) -> u32) -> Vec<Shortfall> {
    nodes
        .iter()
        .filter(|n| n.role == "primary" && count(n) < wanted)
        .map(|n| Shortfall {
            primary: n.address.clone(),
            replicas: count(n),
            wanted,
        })
        .collect()
}

impl Replication {
    /// The primaries that cannot confirm an order change now: fewer replicas online than
    /// `redis.min_replica_acks` (none when it asks for none).
    pub async fn missing(&self, redis: &mut RedisLink) -> redis::RedisResult<Vec<Shortfall>> {
        if self.acks.min == 0 {
            return Ok(Vec::new());
        }
        Ok(shortfalls(&redis.nodes().await?, self.acks.min, |n| {
            n.replicas_online
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn primary(address: &str, replicas: u32, replicas_online: u32) -> NodeInfo {
        NodeInfo {
            address: address.into(),
            role: "primary".into(),
            healthy: true,
            slots: Vec::new(),
            replicas,
            replicas_online,
        }
    }

    #[test]
    fn a_primary_short_of_replicas_is_named() {
        let nodes = [
            primary("a:1", 1, 1),
            primary("b:2", 1, 0),
            primary("c:3", 0, 0),
        ];
        let known = shortfalls(&nodes, 1, |n| n.replicas);
        assert_eq!(known.len(), 1);
        assert_eq!(known[0].to_string(), "c:3 has 0 of 1 replicas");
        let online = shortfalls(&nodes, 1, |n| n.replicas_online);
        assert_eq!(online.len(), 2);
        assert!(shortfalls(&nodes, 0, |n| n.replicas).is_empty());
    }
}
