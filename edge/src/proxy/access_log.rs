//! The log line of each request, carrying its id. Requests that reached an origin (buys, orders,
//! payments) are logged at `info`: they are bounded by the origin rate, and they are what a
//! buyer's complaint is about. The answers the edge gives itself, nearly all of a flash crowd's
//! requests, are counted in the metrics and logged only at `debug` (`RUST_LOG=info,edge=debug`),
//! so a million refusals do not become a million lines unless an operator asks for them.

use super::RequestCtx;

/// Logs the end of the request `ctx`, answered with `outcome` after `seconds`.
pub(super) fn record(ctx: &RequestCtx, outcome: &str, seconds: f64) {
    let ms = seconds * 1000.0;
    if ctx.forward.is_some() {
        let origin = ctx.current.map(|addr| addr.to_string());
        tracing::info!(
            request_id = %ctx.request_id,
            route = ctx.route,
            outcome,
            origin = origin.as_deref().unwrap_or("none"),
            ms,
            "forwarded"
        );
    } else {
        tracing::debug!(
            request_id = %ctx.request_id,
            route = ctx.route,
            outcome,
            ms,
            "answered"
        );
    }
}
