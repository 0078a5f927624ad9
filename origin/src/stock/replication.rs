//! Acknowledged means replicated. After a script changes an order (reserve, pay, cancel, expire)
//! the origin asks the primary that ran it, through the same connection, to `WAIT` until
//! `redis.min_replica_acks` replicas hold the change or `redis.replica_ack_timeout` passes. Too
//! few in time and the buyer gets 503 `unavailable`, never a 201 that one node alone holds: the
//! outcome is unknown to the buyer, and the same link retried returns the order (replays wait for
//! the replicas again). `WAIT` does not make Redis strongly consistent (a failover may still pick
//! a replica that missed a write acknowledged to fewer replicas than wanted); docs/scaling.md
//! says what reconcile does about that.

use sale::config::ReplicaAcks;
use sale::redis_link::RedisLink;

use crate::error::OriginError;

/// The replication every order change waits for.
#[derive(Debug, Clone, Copy)]
pub struct Replication {
    acks: ReplicaAcks,
}

impl Replication {
    /// Waits as `acks` says (not at all when it asks for no replica).
    pub fn new(acks: ReplicaAcks) -> Self {
        Self { acks }
    }

    /// Returns once enough replicas hold what `redis` last wrote to the shard of `key`.
    pub async fn confirm(&self, redis: &mut RedisLink, key: &str) -> Result<(), OriginError> {
        let wanted = self.acks.min;
        if wanted == 0 {
            return Ok(());
        }
        let acked = redis
            .replicas_holding(key, wanted, self.acks.timeout)
            .await?;
        if acked >= wanted {
            Ok(())
        } else {
            Err(OriginError::NotReplicated { acked, wanted })
        }
    }
}
