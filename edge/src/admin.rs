//! The operator listener (its own port): status, live reload, opening or closing an event early,
//! Prometheus metrics, and the dashboard that shows them in a browser. Every route but the
//! sign-in form needs the admin token (see `auth`). Runs as a Pingora background service so it
//! shares the edge's lifecycle.

mod auth;
mod dashboard;
mod scrape;

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use sale::Refusal;
use sale::config::ConfigError;
use sale::redis_keys::EventKeys;
use serde::Serialize;
use serde_json::json;

use crate::live_config::{Live, LoadError};
use crate::metrics::EdgeMetrics;
use crate::upstreams::Origins;
use crate::view::{EventDocument, EventView, Seats};

pub use sale::lockout::Lockout;

/// What the admin routes act on.
#[derive(Clone)]
pub struct Admin {
    /// Config in force.
    pub live: Arc<Live>,
    /// The balancer, for health and for applying reloads at once.
    pub origins: Arc<Origins>,
    /// Seats and gates.
    pub view: Arc<EventView>,
    /// Metrics.
    pub metrics: Arc<EdgeMetrics>,
    /// Addresses that presented wrong admin credentials.
    pub lockout: Arc<Lockout>,
    /// The process's Redis.
    pub redis: Arc<crate::redis_handle::RedisHandle>,
    /// The waiting rooms as last read.
    pub queue: Arc<crate::queue::QueueView>,
}

/// The admin routes.
pub fn router(admin: Admin) -> Router {
    let api = Router::new()
        .route("/admin/status", get(status))
        .route("/admin/reload", post(reload))
        .route("/admin/events/{id}/open", post(open))
        .route("/admin/events/{id}/close", post(close))
        .route(
            "/admin/events/{id}/queue/pause",
            post(crate::queue::operator::pause),
        )
        .route(
            "/admin/events/{id}/queue/resume",
            post(crate::queue::operator::resume),
        )
        .route("/metrics", get(metrics))
        .layer(middleware::from_fn_with_state(
            admin.clone(),
            auth::require_operator,
        ));
    let pages = dashboard::signed_in_routes().layer(middleware::from_fn_with_state(
        admin.clone(),
        auth::require_signed_in,
    ));
    Router::new()
        .merge(api)
        .merge(pages)
        .merge(dashboard::public_routes())
        .with_state(admin)
        .layer(middleware::from_fn(with_request_id))
}

/// Runs an operator's request with an id of its own, which its refusal body carries as
/// `request_id` like the public listener's.
async fn with_request_id(request: axum::extract::Request, next: middleware::Next) -> Response {
    let id = sale::request_id::RequestId::generate();
    sale::request_id::CURRENT.scope(id, next.run(request)).await
}

/// One event as the operator sees it: the public document plus every seat counter, and on a
/// seated event each row's seats as `0` (free) and `1` (held or sold), for the filling map.
#[derive(Debug, Serialize)]
struct EventStatus<'a> {
    #[serde(flatten)]
    document: EventDocument<'a>,
    seats: Seats,
    seat_rows: Option<Vec<SeatRow>>,
}

/// One row of a seated event's map as the dashboard draws it.
#[derive(Debug, Serialize)]
struct SeatRow {
    /// `SECTION-ROW`.
    id: String,
    /// One character per seat, in the row's order.
    taken: String,
}

/// `event`'s rows as the view last read them (none for an unseated event, or before a read).
fn seat_rows(view: &EventView, event: &sale::config::EventConfig) -> Option<Vec<SeatRow>> {
    let map = event.venue.as_deref()?;
    let bits = view.seat_map(event)?.taken;
    let rows = map
        .venue
        .rows
        .iter()
        .map(|row| SeatRow {
            id: map.venue.seats[row.start]
                .id
                .rsplit_once('-')
                .map_or_else(String::new, |(row_id, _)| row_id.to_owned()),
            taken: row
                .clone()
                .map(|i| {
                    if sale::seat_map::is_set(&bits, i) {
                        '1'
                    } else {
                        '0'
                    }
                })
                .collect(),
        })
        .collect();
    Some(rows)
}

async fn status(State(admin): State<Admin>) -> Response {
    let snapshot = admin.live.snapshot();
    let now = sale::time::now_millis();
    let events: Vec<_> = snapshot
        .config
        .events
        .iter()
        .map(|e| EventStatus {
            document: admin
                .view
                .document(e, now, snapshot.config.edge.view_staleness),
            seats: admin.view.seats_or_configured(e),
            seat_rows: seat_rows(&admin.view, e),
        })
        .collect();
    let origins: Vec<_> = snapshot
        .config
        .origins
        .iter()
        .map(|o| {
            let healthy =
                admin.origins.backends().get_backend().iter().any(|b| {
                    b.addr.as_inet() == Some(&o.listen) && admin.origins.backends().ready(b)
                });
            json!({ "addr": o.listen.to_string(), "weight": o.weight.get(), "healthy": healthy })
        })
        .collect();
    let (user_keys, ip_keys) = snapshot.limits.sizes();
    let redis = redis_nodes(&admin, &snapshot.config).await;
    Json(json!({
        "now": sale::time::rfc3339(now),
        "config_version": snapshot.version,
        "loaded_at": sale::time::rfc3339(snapshot.loaded_at),
        "events": events,
        "origins": origins,
        "limiter_keys": { "user": user_keys, "ip": ip_keys },
        "redis": redis,
        "queues": crate::queue::operator::status(&admin, &snapshot.config),
        "tls": tls_status(&snapshot),
        "webhooks": webhook_status(&admin, &snapshot.config).await,
    }))
    .into_response()
}

/// Order webhook deliveries as the origins last counted them (`origin::webhooks`), or null
/// without `[webhooks]`.
async fn webhook_status(admin: &Admin, config: &sale::Config) -> serde_json::Value {
    let Some(hooks) = &config.webhooks else {
        return serde_json::Value::Null;
    };
    let read = async {
        let mut con = admin.redis.connection().await?;
        redis::cmd("HMGET")
            .arg("fg:webhooks")
            .arg(&["pending", "set_aside", "delivered"])
            .query_async::<(Option<u64>, Option<u64>, Option<u64>)>(&mut con)
            .await
    };
    let (pending, set_aside, delivered) = read.await.unwrap_or_default();
    json!({
        "url": hooks.url,
        "pending": pending,
        "set_aside": set_aside,
        "delivered": delivered,
    })
}

/// The HTTPS listener and each certificate's expiry, or null without `[edge.tls]`.
fn tls_status(snapshot: &crate::live_config::Snapshot) -> serde_json::Value {
    let (Some(tls), Some(certificates)) = (&snapshot.config.edge.tls, &snapshot.certificates)
    else {
        return serde_json::Value::Null;
    };
    let now = crate::live_config::unix_secs(sale::time::now_millis());
    let list: Vec<_> = certificates
        .list
        .iter()
        .map(|c| {
            json!({
                "cert": c.files.cert.display().to_string(),
                "names": c.names,
                "serial": c.serial,
                "not_after": sale::time::rfc3339(u64::try_from(c.not_after).unwrap_or(0) * 1000),
                "days_left": c.days_left(now),
            })
        })
        .collect();
    json!({
        "listen": tls.listen.to_string(),
        "http2": tls.http2,
        "development": tls.development,
        "certificates": list,
    })
}

/// The Redis servers behind the edge: each one's role, health and the events whose slot it
/// serves (on one server, every event), or why they could not be listed.
async fn redis_nodes(admin: &Admin, config: &sale::Config) -> serde_json::Value {
    let events = &config.events;
    let listed = async {
        let mut con = admin.redis.connection().await?;
        let nodes = con.nodes().await?;
        let mut slots = Vec::new();
        for event in events {
            let seats = EventKeys::new(&event.id).seats;
            slots.push((event.id.as_str(), con.slot_of(&seats).await?));
        }
        redis::RedisResult::Ok((nodes, slots))
    };
    match listed.await {
        Ok((nodes, slots)) => {
            let single = nodes.len() == 1 && nodes[0].slots.is_empty();
            let nodes: Vec<_> = nodes
                .iter()
                .map(|node| {
                    let owns: Vec<&str> = slots
                        .iter()
                        .filter(|(_, slot)| {
                            (single && node.role == "primary") || node.serves(*slot)
                        })
                        .map(|(id, _)| *id)
                        .collect();
                    let address = match &config.redis.target {
                        sale::config::RedisTarget::Node(url) => url.redacted(),
                        sale::config::RedisTarget::Cluster(_) => node.address.clone(),
                    };
                    json!({
                        "address": address,
                        "role": node.role,
                        "healthy": node.healthy,
                        "events": owns,
                    })
                })
                .collect();
            json!({ "nodes": nodes })
        }
        Err(e) => json!({ "nodes": [], "error": e.to_string() }),
    }
}

async fn reload(State(admin): State<Admin>) -> Response {
    match admin.live.reload() {
        Ok(version) => {
            if let Err(e) = admin.origins.update().await {
                tracing::warn!(error = %e, "origin list update failed after reload");
            }
            Json(json!({ "config_version": version })).into_response()
        }
        Err(e) => {
            let problems: Vec<String> = match &e {
                LoadError::Config(ConfigError::Invalid(problems)) => {
                    problems.iter().map(ToString::to_string).collect()
                }
                other => vec![other.to_string()],
            };
            let body = json!({
                "code": "invalid_config",
                "message": "The config file was refused; the running config stays in force.",
                "problems": problems,
            });
            (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
        }
    }
}

/// Sets the gate only on an event whose seats exist: a gate written into an empty hash would be a
/// half event that no origin could sell.
static SET_GATE: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
    redis::Script::new(
        "if redis.call('HEXISTS', KEYS[1], 'total') == 0 then return 0 end \
         redis.call('HSET', KEYS[1], 'gate', ARGV[1]) return 1",
    )
});

async fn set_gate(admin: &Admin, id: &str, gate: &str) -> Response {
    let snapshot = admin.live.snapshot();
    let Some(event) = snapshot.config.event(id) else {
        return Refusal::UnknownEvent.into_response();
    };
    let written: redis::RedisResult<bool> = async {
        let mut con = admin.redis.connection().await?;
        SET_GATE
            .key(EventKeys::new(&event.id).seats)
            .arg(gate)
            .invoke_async(&mut con)
            .await
    }
    .await;
    match written {
        Ok(true) => {
            tracing::info!(event = id, gate, "operator set the event gate");
            Json(json!({ "event": id, "gate": gate })).into_response()
        }
        Ok(false) => {
            let body = json!({
                "code": "not_seeded",
                "message": "No origin has put this event's seats in Redis yet; start or reload an origin with this event first.",
            });
            (StatusCode::CONFLICT, Json(body)).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot set the event gate");
            Refusal::Unavailable.into_response()
        }
    }
}

async fn open(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    set_gate(&admin, &id, "open").await
}

async fn close(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    set_gate(&admin, &id, "closed").await
}

async fn metrics(State(admin): State<Admin>) -> Response {
    scrape::refresh(&admin).await;
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        admin.metrics.render(),
    )
        .into_response()
}

/// The admin listener as a background service.
pub struct AdminService(pub Admin);

#[async_trait]
impl BackgroundService for AdminService {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let addr = self.0.live.snapshot().config.edge.admin_listen;
        // During a graceful upgrade the old edge holds the port until it has drained, so keep
        // trying until it is free (or this edge stops).
        let mut warned = false;
        let listener = loop {
            match tokio::net::TcpListener::bind(addr).await {
                Ok(listener) => break listener,
                Err(e) => {
                    if !warned {
                        tracing::warn!(%addr, error = %e, "admin listener cannot bind yet; retrying");
                        warned = true;
                    }
                    tokio::select! {
                        () = tokio::time::sleep(std::time::Duration::from_millis(250)) => {}
                        _ = shutdown.changed() => return,
                    }
                }
            }
        };
        let stop = async move {
            let _ = shutdown.changed().await;
        };
        let app = router(self.0.clone()).into_make_service_with_connect_info::<SocketAddr>();
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            tracing::error!(error = %e, "admin listener failed");
        }
    }
}
