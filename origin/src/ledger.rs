//! The ledger: the order database and the consumer that keeps it in step with Redis. Redis decides
//! who gets a seat; the ledger makes that decision durable in the order database, exactly once
//! per order, whatever crashes in between.

pub mod changes;
pub mod consumer;
pub mod dead_letters;
pub mod entry;
pub mod row_refusal;
pub mod store;
pub mod trim;

pub use consumer::Ledger;
pub use store::{OrderChange, OrderStore, StoredOrder};

/// Why a ledger pass stopped; the consumer logs it and starts over.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    /// Redis connection or command failure.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The order database failed.
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// A stream entry without the fields the scripts always write.
    #[error("malformed stream entry: {0}")]
    Malformed(String),
    /// The database refused one row (not the connection), at most
    /// [`MAX_ROW_ATTEMPTS`](consumer::MAX_ROW_ATTEMPTS) times.
    #[error("database refused the row: {0}")]
    Refused(String),
}
