//! `POST /internal/events/{event}/buy`: the seat is won or lost here, in one Lua call; and
//! `POST /internal/events/{event}/replay`: the same call, allowed only to return what the link
//! bought (its token can no longer buy).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use sale::UserId;
use sale::access_code;
use sale::basket::Basket;
use sale::config::{Config, EventConfig};
use sale::wire::{Created, HEADER_SOLD_OUT};
use sale::{OrderStatus, Refusal};

use crate::error::OriginError;
use crate::signature::Admitted;
use crate::state::AppState;
use crate::stock::purchase::{Order, Outcome, purchase};
use crate::stock::{Attempt, Reservation};

fn created(order: Created) -> Response {
    (StatusCode::CREATED, Json(order)).into_response()
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
    let outcome = buy_seats(&state, &event, &admitted, &body).await;
    answer(&state, "buy", outcome)
}

/// Returns the order the admitted link bought, buying nothing; refused with the edge's named
/// fallback (`token_expired` or `bad_token`) if it bought nothing.
pub async fn replay(
    State(state): State<AppState>,
    Path(event): Path<String>,
    OriginalUri(uri): OriginalUri,
    admitted: Admitted,
) -> Response {
    let otherwise = sale::wire::replay_fallback(uri.query());
    let outcome = replay_link(&state, &event, &admitted, otherwise).await;
    answer(&state, "replay", outcome)
}

async fn replay_link(
    state: &AppState,
    event: &str,
    admitted: &Admitted,
    otherwise: Refusal,
) -> Result<Outcome, OriginError> {
    let config = state.config();
    let event = config.event(event).ok_or(Refusal::UnknownEvent)?;
    let nonce = admitted.nonce.as_deref().ok_or(Refusal::BadRequest)?;
    let attempt = Attempt::Replay { otherwise };
    let reservation = state
        .stock()
        .reserve(event, &admitted.user, attempt, nonce)
        .await?;
    Ok(Outcome::Script(reservation))
}

/// The answer for a buy's or a replay's outcome, counted under `route`.
fn answer(
    state: &AppState,
    route: &'static str,
    outcome: Result<Outcome, OriginError>,
) -> Response {
    let (code, response) = match outcome {
        Ok(Outcome::Script(Reservation::Reserved {
            order_id,
            pay_by,
            remaining,
            items,
            seats,
        })) => {
            let body = Created {
                order_id: order_id.to_string(),
                status: OrderStatus::Reserved,
                pay_by: sale::time::rfc3339(pay_by),
                total_cents: sale::basket::total_cents(&items),
                items,
                seats,
            };
            ("ok", sold_out_marked(created(body), remaining == 0))
        }
        Ok(Outcome::Script(Reservation::Replayed { order_id, record })) => {
            let body = Created {
                order_id: order_id.to_string(),
                status: record.status,
                pay_by: sale::time::rfc3339(record.pay_by),
                items: record.items(),
                total_cents: record.total,
                seats: record.seats,
            };
            ("replayed", created(body))
        }
        Ok(Outcome::Script(Reservation::Refused {
            refusal,
            remaining,
            ticket_type,
            seats,
        })) => {
            let response = match (&ticket_type, seats.is_empty()) {
                (None, true) => refusal.into_response(),
                _ => sale::refusal_response::about(refusal, ticket_type.as_deref(), &seats),
            };
            (refusal.code(), sold_out_marked(response, remaining == 0))
        }
        // Nothing reserved; the allowance is refilled every 250 ms, so retry after a second.
        Ok(Outcome::LocallyExhausted) => ("busy_local", Refusal::Unavailable.into_response()),
        Err(e) => (e.outcome(), e.into_response()),
    };
    state.metrics().record(route, code);
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
    let basket = Basket::parse(body, event)?;
    let code = code_argument(
        &config,
        event,
        &admitted.user,
        basket.access_code.as_deref(),
    );
    let order = Order {
        event,
        user: &admitted.user,
        basket: &basket,
        code: &code,
        nonce: admitted.nonce.as_deref().ok_or(Refusal::BadRequest)?,
    };
    purchase(state.stock(), state.local(), order).await
}

/// The access code as the reservation script reads it: empty without one; `bound:CHANNEL` when
/// it is this user's bound code for one of the event's channels (checked here, in constant time,
/// against every token key); else `shared:SHA256`, for the script to look up. The code itself
/// goes no further than this function.
fn code_argument(
    config: &Config,
    event: &EventConfig,
    user: &UserId,
    code: Option<&str>,
) -> String {
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else {
        return String::new();
    };
    let ring = &config.secrets.token_keys;
    match event.channels().find(|channel| {
        access_code::is_bound(ring, code, event.id.as_str(), channel, user.as_str())
    }) {
        Some(channel) => format!("bound:{channel}"),
        None => format!("shared:{}", access_code::stored_hash(code)),
    }
}
