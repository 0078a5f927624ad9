//! The origin's side of request ids: every request runs with the id the edge sent (a new one if
//! none came, as for a health probe), so refusal bodies carry it as `request_id`, the request's
//! log line names it beside the edge's line for the same request, and every line logged while
//! the request is handled (a Redis error, a payment refused) carries it in its `request` span.
//! Requests that change or read orders are logged at `info`; health probes and scrapes, which
//! arrive every second, only at `debug`.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use sale::request_id::{self, RequestId};
use tokio::time::Instant;
use tracing::Instrument;

/// Answers `request` within its id's scope and logs the answer.
pub async fn layer(request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(request_id::HEADER)
        .and_then(|value| RequestId::given(value.as_bytes()))
        .unwrap_or_else(RequestId::generate);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let started = Instant::now();
    let span = tracing::info_span!("request", request_id = %id);
    let response = request_id::CURRENT
        .scope(id, next.run(request).instrument(span))
        .await;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let status = response.status().as_u16();
    if path.starts_with("/internal/") {
        tracing::info!(request_id = %id, %method, path, status, ms, "answered");
    } else {
        tracing::debug!(request_id = %id, %method, path, status, ms, "answered");
    }
    response
}
