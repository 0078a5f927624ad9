//! The edge's one Redis handle, shared by everything in the process that talks to Redis: the
//! event view refresher, the classic stored tokens, the fleet-wide caps and the operator's gate.
//! It is a [`RedisLink`] (one server or a cluster), which reconnects by itself after Redis
//! restarts or fails over, so no caller keeps a dead connection. It connects on first use, not at start: an edge starts (and serves its page
//! and honest 503s) while Redis is still down. Its URL is fixed for the life of the process; a
//! reload that changes `redis.url` is refused (see [`crate::live`]).

use std::time::Duration;

use redis::RedisResult;
use sale::config::RedisTarget;
use sale::redis_link::{LinkOptions, RedisLink};
use tokio::sync::OnceCell;

/// How long one command may wait for its reply: a request path must fail fast, not hang.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a (re)connection may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);

/// A lazily connected, self-reconnecting Redis connection.
pub struct RedisHandle {
    target: RedisTarget,
    link: OnceCell<RedisLink>,
}

impl RedisHandle {
    /// A handle on `target`; nothing connects yet.
    pub fn new(target: &RedisTarget) -> Self {
        Self {
            target: target.clone(),
            link: OnceCell::new(),
        }
    }

    /// The shared connection, connecting first if nothing has yet.
    pub async fn connection(&self) -> RedisResult<RedisLink> {
        self.link
            .get_or_try_init(|| {
                let options = LinkOptions {
                    response_timeout: Some(RESPONSE_TIMEOUT),
                    connection_timeout: CONNECTION_TIMEOUT,
                    retries: 1,
                };
                RedisLink::open(&self.target, options)
            })
            .await
            .cloned()
    }
}
