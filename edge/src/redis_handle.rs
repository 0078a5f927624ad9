//! The edge's one Redis handle, shared by everything in the process that talks to Redis: the
//! event view refresher, the classic stored tokens and the operator's gate. It is a
//! `ConnectionManager`, which reconnects by itself after Redis restarts, so no caller keeps a
//! dead connection. It connects on first use, not at start: an edge starts (and serves its page
//! and honest 503s) while Redis is still down. Its URL is fixed for the life of the process; a
//! reload that changes `redis.url` is refused (see [`crate::live`]).

use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, RedisResult};
use tokio::sync::OnceCell;

/// How long one command may wait for its reply: a request path must fail fast, not hang.
const RESPONSE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long a (re)connection may take.
const CONNECTION_TIMEOUT: Duration = Duration::from_millis(500);

/// A lazily connected, self-reconnecting Redis connection.
pub struct RedisHandle {
    client: Client,
    manager: OnceCell<ConnectionManager>,
}

impl RedisHandle {
    /// A handle on `url`; nothing connects yet.
    pub fn new(url: &str) -> RedisResult<Self> {
        Ok(Self {
            client: Client::open(url)?,
            manager: OnceCell::new(),
        })
    }

    /// The shared connection, connecting first if nothing has yet.
    pub async fn connection(&self) -> RedisResult<ConnectionManager> {
        self.manager
            .get_or_try_init(|| {
                let config = ConnectionManagerConfig::new()
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_connection_timeout(Some(CONNECTION_TIMEOUT))
                    .set_number_of_retries(1);
                ConnectionManager::new_with_config(self.client.clone(), config)
            })
            .await
            .cloned()
    }
}
