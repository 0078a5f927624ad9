//! The ledger: the order database and the consumer that keeps it in step with Redis. Redis decides
//! who gets a seat; the ledger makes that decision durable in the order database, exactly once
//! per order, whatever crashes in between.

pub mod consumer;
pub mod store;
pub mod trim;

pub use consumer::Ledger;
pub use store::{OrderChange, OrderStore, StoredOrder};
