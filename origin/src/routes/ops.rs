//! Operational endpoints: the health probe the edge's balancer polls, and metrics.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use sale::Refusal;
use std::time::Duration;
use tokio::time::Instant;

use crate::state::AppState;

/// 200 while this origin can reach Redis; 503 otherwise, so the edge stops sending it buys it
/// could only refuse. The first line is `ok N` (N: the configs put in force, so a supervisor sees
/// a reload land); a second line names the primaries short of the replicas every order change
/// waits for, whose buys answer 503 `unavailable` until their replicas are back.
pub async fn health(State(state): State<AppState>) -> Response {
    match state.health().check().await {
        Ok(short) if short.is_empty() => {
            (StatusCode::OK, format!("ok {}", state.config_version())).into_response()
        }
        Ok(short) => {
            let named: Vec<String> = short.iter().map(ToString::to_string).collect();
            tracing::warn!(short = %named.join(", "), "health check: replicas missing");
            let body = format!(
                "ok {}\nreplicas missing: {}",
                state.config_version(),
                named.join(", ")
            );
            (StatusCode::OK, body).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "health check: redis unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "redis unreachable").into_response()
        }
    }
}

/// Prometheus metrics, behind the admin token. Wrong tokens count against their client like on
/// the edge's admin listener, and a locked-out client is refused before its token is checked.
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    let lockout = state.lockout();
    if let Some(wait) = lockout.locked(ip, Instant::now()) {
        return sale::refusal_response::locked_out(wait);
    }
    let presented = sale::http_credentials::bearer(request.headers()).unwrap_or("");
    if !state
        .config()
        .secrets
        .admin_token
        .matches(presented.as_bytes())
    {
        tracing::warn!(%ip, "wrong admin credential on the origin's metrics");
        lockout.failed(ip, Instant::now());
        return Refusal::BadAdminToken.into_response();
    }
    refresh_gauges(&state).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics().render(),
    )
        .into_response()
}

/// How long a scrape waits for Redis before answering with the gauges as they were.
const SCRAPE_REDIS_TIMEOUT: Duration = Duration::from_secs(1);

/// Reads what the gauges show from Redis: each event's ledger backlog and the primaries short
/// of replicas. A Redis that does not answer leaves them as they were (the health check and
/// `flashgate_edge_origin_healthy` say Redis is gone).
async fn refresh_gauges(state: &AppState) {
    let metrics = state.metrics();
    if let Ok(Ok(short)) = tokio::time::timeout(SCRAPE_REDIS_TIMEOUT, state.health().check()).await
    {
        metrics
            .replicas_missing
            .set(sale::saturating::to_i64(short.len()));
    }
    let mut probe = state.health().probe();
    let config = state.config();
    // One bound for all the events together, so a slow Redis cannot stretch a scrape past
    // Prometheus' own timeout however many events there are.
    let _ = tokio::time::timeout(SCRAPE_REDIS_TIMEOUT, async {
        for event in &config.events {
            let Ok(backlog) = crate::reconcile::ledger_backlog(&mut probe, event).await else {
                continue;
            };
            let label = crate::metrics::EventLabel {
                event: event.id.to_string(),
            };
            let backlog = sale::saturating::to_i64(backlog);
            metrics.ledger_backlog.get_or_create(&label).set(backlog);
        }
    })
    .await;
}
