//! What `/healthz` reports: whether this origin can reach Redis, and whether every order change
//! can get the replica acknowledgements it waits for. Asked over a connection of its own, so a
//! `WAIT` holding the buys' connection (a lagging replica) never makes the origin look dead.

use sale::redis_link::RedisLink;

use sale::replication::{Replication, Shortfall};

/// The probe's own Redis connection and the replication order changes wait for.
#[derive(Debug, Clone)]
pub struct Health {
    probe: RedisLink,
    replication: Replication,
}

impl Health {
    /// Probes over `probe`, which carries no order change.
    pub fn new(probe: RedisLink, replication: Replication) -> Self {
        Self { probe, replication }
    }

    /// Whether Redis answers and, if so, the primaries short of the replicas order changes
    /// wait for.
    pub async fn check(&self) -> redis::RedisResult<Vec<Shortfall>> {
        let mut probe = self.probe.clone();
        let () = redis::cmd("PING").query_async(&mut probe).await?;
        self.replication.missing(&mut probe).await
    }

    /// The probe's connection, for reads that must not queue behind an order change's `WAIT`
    /// (the metrics' ledger backlog).
    pub fn probe(&self) -> RedisLink {
        self.probe.clone()
    }
}
