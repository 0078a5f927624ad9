//! A user's own orders: `GET /internal/orders/{order}` reads it live from Redis, and
//! `POST …/pay` and `POST …/cancel` move it along its lifecycle. Another user's order is answered
//! exactly like a missing one, so ids cannot be probed.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use sale::wire::{EventOrders, OrderView};
use sale::{OrderId, Refusal};

use crate::error::OriginError;
use crate::orders::OrderRecord;
use crate::signature::Admitted;
use crate::state::AppState;
use crate::stock::lifecycle::UserAction;

/// Shows one of the admitted user's orders.
pub async fn get_order(
    State(state): State<AppState>,
    Path(order): Path<String>,
    admitted: Admitted,
) -> Response {
    let result = view(&state, &order, &admitted).await;
    answer(&state, "order", result)
}

/// Counts the outcome under `route` and turns it into the response.
pub(super) fn answer(
    state: &AppState,
    route: &'static str,
    result: Result<impl serde::Serialize, OriginError>,
) -> Response {
    state.metrics().record(
        route,
        result.as_ref().map_or_else(OriginError::outcome, |_| "ok"),
    );
    match result {
        Ok(view) => Json(view).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn view(
    state: &AppState,
    order: &str,
    admitted: &Admitted,
) -> Result<OrderView, OriginError> {
    let order_id = OrderId::parse(order).map_err(|_| Refusal::NotFound)?;
    let record = state
        .stock()
        .find_order(&order_id)
        .await?
        .filter(|r| r.user == admitted.user.as_str())
        .ok_or(Refusal::NotFound)?;
    Ok(order_view(&order_id, record))
}

/// The contract's view of `record`.
pub(super) fn order_view(order_id: &OrderId, record: OrderRecord) -> OrderView {
    OrderView {
        event_id: order_id.event().to_string(),
        order_id: order_id.to_string(),
        items: record.items(),
        seats: record.seats,
        user: record.user,
        quantity: record.qty,
        status: record.status,
        pay_by: sale::time::rfc3339(record.pay_by),
        total_cents: record.total,
    }
}

/// The admitted user's orders at `event`, oldest first: what a page that lost every answer
/// finds its purchases by.
pub async fn event_orders(
    State(state): State<AppState>,
    Path(event): Path<String>,
    admitted: Admitted,
) -> Response {
    let config = state.config();
    let result = match config.event(&event) {
        Some(event) => state.stock().orders_of(&event.id, &admitted.user).await,
        None => Err(Refusal::UnknownEvent.into()),
    };
    let listed = result.map(|orders| EventOrders {
        orders: orders
            .into_iter()
            .map(|(id, record)| order_view(&id, record))
            .collect(),
    });
    answer(&state, "event_orders", listed)
}

/// Pays the admitted user's reservation on the buyer's word: the `direct` provider.
pub(super) async fn pay_directly(
    state: State<AppState>,
    order: Path<String>,
    admitted: Admitted,
) -> Response {
    transition(state, order, admitted, UserAction::Pay, "pay").await
}

/// Cancels the admitted user's reservation; its seats return to stock.
pub async fn cancel(state: State<AppState>, order: Path<String>, admitted: Admitted) -> Response {
    transition(state, order, admitted, UserAction::Cancel, "cancel").await
}

async fn transition(
    State(state): State<AppState>,
    Path(order): Path<String>,
    admitted: Admitted,
    action: UserAction,
    route: &'static str,
) -> Response {
    let result = match OrderId::parse(&order) {
        Ok(order_id) => state
            .lifecycle()
            .apply(action, &order_id, &admitted.user)
            .await
            .map(|record| order_view(&order_id, record)),
        Err(_) => Err(Refusal::NotFound.into()),
    };
    answer(&state, route, result)
}
