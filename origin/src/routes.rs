//! The origin's HTTP surface. Everything under `/internal/` is reachable only with the edge's
//! signature (the [`Admitted`](crate::signature::Admitted) extractor); `/healthz` is open so the
//! edge can probe it; `/metrics` needs the admin token. Every request runs with its id
//! ([`request_log`]).

mod buy;
mod ops;
mod orders;
mod payments;
mod request_log;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::routing::{get, post};
use sale::wire;

use crate::state::AppState;

/// Largest request body an origin reads: the most any edge may let through, so a body an edge
/// forwarded is never refused here with the framework's plain-text 413. The edge's own limit
/// (`edge.max_body_bytes`, 16 KiB by default) is what bounds a client.
const BODY_LIMIT: u64 = sale::config::MAX_BODY_BYTES;

/// The origin's routes.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(ops::health))
        .route("/metrics", get(ops::metrics))
        .route(wire::BUY_ROUTE, post(buy::buy))
        .route(wire::REPLAY_ROUTE, post(buy::replay))
        .route(wire::EVENT_ORDERS_ROUTE, get(orders::event_orders))
        .route(wire::ORDER_ROUTE, get(orders::get_order))
        .route(wire::PAY_ROUTE, post(payments::pay))
        .route(sale::payments::CONFIRM_ROUTE, post(payments::confirm))
        .route(wire::CANCEL_ROUTE, post(orders::cancel))
        .layer(DefaultBodyLimit::max(
            usize::try_from(BODY_LIMIT).unwrap_or(usize::MAX),
        ))
        .layer(middleware::from_fn(request_log::layer))
        .with_state(state)
}
