//! The operator's hold on each waiting room: pause and resume admission (the serving counter
//! stands still while paused; everyone keeps their place), and what the status and dashboard
//! show of each room: waiting, admitted, the admission rate, the estimated wait at the back of
//! the line, and the fairness commitment.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use sale::{Config, Refusal};
use serde_json::json;

use super::{eta, store};
use crate::admin::Admin;

async fn set_paused(admin: &Admin, id: &str, paused: bool) -> Response {
    let snapshot = admin.live.snapshot();
    let Some(event) = snapshot.config.event(id) else {
        return Refusal::UnknownEvent.into_response();
    };
    if event.queue.is_none() {
        return Refusal::QueueClosed.into_response();
    }
    let written = async {
        let mut con = admin.redis.connection().await?;
        store::set_paused(&mut con, event, paused).await
    }
    .await;
    match written {
        Ok(()) => {
            tracing::info!(event = id, paused, "operator paused or resumed admission");
            Json(json!({ "event": id, "paused": paused })).into_response()
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot pause or resume the waiting room");
            Refusal::Unavailable.into_response()
        }
    }
}

/// `POST /admin/events/{id}/queue/pause`.
pub async fn pause(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    set_paused(&admin, &id, true).await
}

/// `POST /admin/events/{id}/queue/resume`.
pub async fn resume(State(admin): State<Admin>, Path(id): Path<String>) -> Response {
    set_paused(&admin, &id, false).await
}

/// Every waiting room as this edge last read it.
pub fn status(admin: &Admin, config: &Config) -> serde_json::Value {
    let rooms: Vec<_> = config
        .events
        .iter()
        .filter_map(|event| {
            let queue = event.queue?;
            let state = admin.queue.get(event.id.as_str());
            let waiting = state.joined.saturating_sub(state.serving);
            let per_second = 1.0 / queue.admit_rate.period.as_secs_f64();
            Some(json!({
                "event": event.id.as_str(),
                "joined": state.joined,
                "waiting": waiting,
                "serving": state.serving,
                "admitted": state.granted,
                "admit_rate_per_second": per_second,
                "paused": state.paused,
                "drawn": state.drawn,
                "entrants": state.frozen,
                "back_of_line_eta_seconds": eta(waiting, queue.admit_rate.period),
                "commitment": state.commitment,
            }))
        })
        .collect();
    json!(rooms)
}
