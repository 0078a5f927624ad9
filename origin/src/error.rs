//! The origin's error boundary: one enum, each variant documented with the status it answers, and
//! the single place where errors become HTTP responses. Internals (Redis and database messages)
//! go to the log, never to the client.

use axum::response::{IntoResponse, Response};
use sale::Refusal;
use thiserror::Error;

/// Everything a request to the origin can fail with.
#[derive(Debug, Error)]
pub enum OriginError {
    /// The contract refusal named; status and code from [`Refusal`].
    #[error("refused: {}", .0.code())]
    Refused(Refusal),
    /// 503 `unavailable`: Redis did not answer in time. A buy may or may not have reserved; a retry
    /// with the same purchase token finds the order instead of reserving twice.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// 503 `unavailable`: the change was made but fewer replicas than `redis.min_replica_acks`
    /// confirmed it in time (or Redis did not answer the `WAIT`). A retry of the same link returns
    /// the order once they do.
    #[error("{0}")]
    NotReplicated(#[from] sale::replication::ReplicationError),
    /// 503 `unavailable`: the order database did not answer.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// 500 `internal`: a script or stored record was not what this code expects.
    #[error("unexpected data: {0}")]
    Unexpected(String),
}

impl From<Refusal> for OriginError {
    fn from(refusal: Refusal) -> Self {
        Self::Refused(refusal)
    }
}

impl OriginError {
    /// The contract refusal this error answers with.
    pub fn refusal(&self) -> Refusal {
        match self {
            Self::Refused(refusal) => *refusal,
            Self::Redis(_) | Self::NotReplicated(_) | Self::Database(_) => Refusal::Unavailable,
            Self::Unexpected(_) => Refusal::Internal,
        }
    }
}

impl OriginError {
    /// The outcome label it is counted under in `flashgate_origin_requests_total`: the refusal
    /// code, except that the causes of a 503 are told apart (`not_replicated`: replicas did not
    /// acknowledge in time; `redis_error`; `database_error`), since each calls for another
    /// alert.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::NotReplicated(_) => "not_replicated",
            Self::Redis(_) => "redis_error",
            Self::Database(_) => "database_error",
            Self::Refused(_) | Self::Unexpected(_) => self.refusal().code(),
        }
    }
}

impl IntoResponse for OriginError {
    fn into_response(self) -> Response {
        match &self {
            Self::Refused(_) => {}
            Self::Redis(_) | Self::NotReplicated(_) | Self::Database(_) => {
                tracing::warn!(error = %self, "dependency unavailable")
            }
            Self::Unexpected(_) => tracing::error!(error = %self, "internal error"),
        }
        self.refusal().into_response()
    }
}
