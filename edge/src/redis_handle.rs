//! The edge's one Redis handle, shared by everything in the process that talks to Redis: the
//! event view refresher, the classic stored tokens, the fleet-wide caps and the operator's gate
//! on one connection; the waiting room's writes on a second one, since each is confirmed by
//! replicas (`WAIT`, which holds the connection it is sent on) before it is answered; and on a
//! cluster with `redis.replica_reads`, the event view's reads on a third, routed to replicas.
//! It is a [`RedisLink`] (one server or a cluster), which reconnects by itself after Redis
//! restarts or fails over, so no caller keeps a dead connection. It connects on first use, not at start: an edge starts (and serves its page
//! and honest 503s) while Redis is still down. Its URL is fixed for the life of the process; a
//! reload that changes `redis.url` is refused (see [`crate::live`]).

use std::time::Duration;

use redis::RedisResult;
use sale::config::{RedisConfig, RedisTarget};
use sale::redis_link::{LinkOptions, RedisLink};
use sale::replication::{Replication, ReplicationError};
use tokio::sync::OnceCell;

/// How long one command may wait for its reply: a request path must fail fast, not hang.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// The same for the waiting room's connection, whose `WAIT` may take up to
/// `redis.replica_ack_timeout` (at most 1 s).
const ROOM_RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a (re)connection may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);

/// Lazily connected, self-reconnecting Redis connections.
pub struct RedisHandle {
    target: RedisTarget,
    link: OnceCell<RedisLink>,
    room: OnceCell<RedisLink>,
    view: OnceCell<RedisLink>,
    replica_reads: bool,
    replication: Replication,
}

impl RedisHandle {
    /// A handle on the Redis `config` names; nothing connects yet.
    pub fn new(config: &RedisConfig) -> Self {
        Self {
            target: config.target.clone(),
            link: OnceCell::new(),
            room: OnceCell::new(),
            view: OnceCell::new(),
            replica_reads: config.replica_reads && matches!(config.target, RedisTarget::Cluster(_)),
            replication: Replication::new(config.replica_acks),
        }
    }

    async fn open(
        &self,
        cell: &OnceCell<RedisLink>,
        timeout: Duration,
        read_from_replicas: bool,
    ) -> RedisResult<RedisLink> {
        cell.get_or_try_init(|| {
            let options = LinkOptions {
                response_timeout: Some(timeout),
                connection_timeout: CONNECTION_TIMEOUT,
                retries: 1,
                read_from_replicas,
            };
            RedisLink::open(&self.target, options)
        })
        .await
        .cloned()
    }

    /// The shared connection, connecting first if nothing has yet.
    pub async fn connection(&self) -> RedisResult<RedisLink> {
        self.open(&self.link, RESPONSE_TIMEOUT, false).await
    }

    /// The connection the event view is read on: its reads go to replicas when the config asks
    /// for it on a cluster; otherwise the shared connection.
    pub async fn view_connection(&self) -> RedisResult<RedisLink> {
        if !self.replica_reads {
            return self.connection().await;
        }
        self.open(&self.view, RESPONSE_TIMEOUT, true).await
    }

    /// Whether the view is read from replicas.
    pub fn reads_from_replicas(&self) -> bool {
        self.replica_reads
    }

    /// The waiting room's connection: its writes and the `WAIT`s that confirm them.
    pub async fn room_connection(&self) -> RedisResult<RedisLink> {
        self.open(&self.room, ROOM_RESPONSE_TIMEOUT, false).await
    }

    /// Returns once enough replicas hold what `con` wrote to the shard of `key` up to now.
    pub async fn confirm(&self, con: &mut RedisLink, key: &str) -> Result<(), ReplicationError> {
        self.replication.confirm(con, key).await
    }

    /// The replication the room's writes wait for.
    pub fn replication(&self) -> &Replication {
        &self.replication
    }
}
