//! `POST /internal/events/{event}/buy`: the seat is won or lost here, in one Lua call.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sale::edge_signature::{HEADER_ORDER, HEADER_SOLD_OUT};
use sale::{OrderStatus, Refusal};
use serde::{Deserialize, Serialize};

use crate::error::OriginError;
use crate::signature::Admitted;
use crate::state::AppState;
use crate::stock::Reservation;
use crate::stock::purchase::{Order, Outcome, purchase};

/// The optional buy body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuyBody {
    /// Seats wanted; 1 when absent.
    quantity: Option<u32>,
}

/// The 201 body.
#[derive(Debug, Serialize)]
pub struct Reserved {
    /// The order.
    pub order_id: String,
    /// Always `reserved` for a fresh order; a replay reports the order's current state.
    pub status: OrderStatus,
    /// Payment deadline, RFC 3339.
    pub pay_by: String,
}

fn quantity(body: &[u8]) -> Result<u32, Refusal> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(1);
    }
    let parsed: BuyBody = serde_json::from_slice(body).map_err(|_| Refusal::BadRequest)?;
    Ok(parsed.quantity.unwrap_or(1))
}

/// A 201 for `order`, with the order header the edge remembers it by.
fn created(order: Reserved) -> Response {
    let header = format!("{} {}", order.order_id, order.pay_by);
    let mut response = (StatusCode::CREATED, Json(order)).into_response();
    if let Ok(value) = axum::http::HeaderValue::from_str(&header) {
        response.headers_mut().insert(HEADER_ORDER, value);
    }
    response
}

fn sold_out_marked(mut response: Response, sold_out: bool) -> Response {
    if sold_out {
        response
            .headers_mut()
            .insert(HEADER_SOLD_OUT, axum::http::HeaderValue::from_static("1"));
    }
    response
}

/// Reserves seats for the admitted user.
pub async fn buy(
    State(state): State<AppState>,
    Path(event): Path<String>,
    admitted: Admitted,
    body: Bytes,
) -> Response {
    let (code, response) = match buy_seats(&state, &event, &admitted, &body).await {
        Ok(Outcome::Script(Reservation::Reserved {
            order_id,
            pay_by,
            remaining,
        })) => {
            let body = Reserved {
                order_id: order_id.to_string(),
                status: OrderStatus::Reserved,
                pay_by: sale::time::rfc3339(pay_by),
            };
            ("ok", sold_out_marked(created(body), remaining == 0))
        }
        Ok(Outcome::Script(Reservation::Replayed { order_id, record })) => {
            let body = Reserved {
                order_id: order_id.to_string(),
                status: record.status,
                pay_by: sale::time::rfc3339(record.pay_by),
            };
            ("replayed", created(body))
        }
        Ok(Outcome::Script(Reservation::Refused { refusal, remaining })) => (
            refusal.code(),
            sold_out_marked(refusal.into_response(), remaining == 0),
        ),
        // Nothing reserved; the allowance is refilled every 250 ms, so retry after a second.
        Ok(Outcome::LocallyExhausted) => ("busy_local", Refusal::Unavailable.into_response()),
        Err(e) => (e.refusal().code(), e.into_response()),
    };
    state.metrics().record("buy", code);
    response
}

async fn buy_seats(
    state: &AppState,
    event: &str,
    admitted: &Admitted,
    body: &[u8],
) -> Result<Outcome, OriginError> {
    let config = state.config();
    let event = config.event(event).ok_or(Refusal::UnknownEvent)?;
    let order = Order {
        event,
        user: &admitted.user,
        quantity: quantity(body)?,
        nonce: admitted.nonce.as_deref().ok_or(Refusal::BadRequest)?,
    };
    purchase(state.stock(), state.local(), order).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_defaults_to_one_and_rejects_junk() {
        assert_eq!(quantity(b""), Ok(1));
        assert_eq!(quantity(b"{}"), Ok(1));
        assert_eq!(quantity(br#"{"quantity":2}"#), Ok(2));
        assert_eq!(quantity(br#"{"quantity":-1}"#), Err(Refusal::BadRequest));
        assert_eq!(quantity(br#"{"qty":2}"#), Err(Refusal::BadRequest));
        assert_eq!(quantity(b"not json"), Err(Refusal::BadRequest));
    }
}
