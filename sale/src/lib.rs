//! The sale's domain, shared by the edge and the origin: the config file and its typed values,
//! events and their sale windows, user sessions, purchase tokens and the signature the edge puts
//! on every request it forwards to an origin.
//!
//! Everything here is pure (no I/O but reading the config file) and takes the current time as an
//! argument, so callers and tests control the clock.

pub mod access_code;
#[cfg(feature = "tasks")]
pub mod background;
pub mod basket;
pub mod client_key;
pub mod config;
pub mod draw;
pub mod edge_signature;
pub mod envelope;
#[cfg(feature = "http")]
pub mod http_credentials;
pub mod ids;
pub mod key_ring;
#[cfg(feature = "tasks")]
pub mod lockout;
pub mod operator_session;
pub mod order_status;
pub mod payments;
pub mod purchase_token;
pub mod redis_keys;
#[cfg(feature = "redis")]
pub mod redis_link;
pub mod refusal;
#[cfg(feature = "http")]
pub mod refusal_response;
#[cfg(feature = "redis")]
pub mod replication;
pub mod request_id;
pub mod saturating;
pub mod seat_map;
pub mod secret_url;
pub mod session;
pub mod signed_body;
pub mod time;
pub mod venue;
pub mod wire;

pub use config::Config;
pub use ids::{EventId, OrderId, UserId};
pub use order_status::OrderStatus;
pub use refusal::Refusal;
