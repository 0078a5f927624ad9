//! The protocol between the edge and the origins, written once for both sides: the origin's
//! paths (as axum route patterns for the origin, as builders for the edge), the response headers
//! an origin uses to tell the edge what it learnt, and the order documents an origin answers
//! (which the edge relays as they are). The request signature lives in [`crate::edge_signature`].

use serde::{Deserialize, Serialize};

use crate::basket::OrderItem;
use crate::order_status::OrderStatus;
use crate::refusal::Refusal;

/// Reserve seats: `POST`, signed with the user and the purchase token's nonce.
pub const BUY_ROUTE: &str = "/internal/events/{event}/buy";
/// Return the order a token's nonce bought, buying nothing: `POST`, signed like a buy. Used
/// for a link whose token can no longer buy (expired, or replaced under the md5 scheme); a nonce
/// that bought nothing is refused with the [`OTHERWISE`] refusal.
pub const REPLAY_ROUTE: &str = "/internal/events/{event}/replay";
/// The signed-in user's orders for an event: `GET`.
pub const EVENT_ORDERS_ROUTE: &str = "/internal/events/{event}/orders";
/// One order of the signed-in user: `GET`.
pub const ORDER_ROUTE: &str = "/internal/orders/{order}";
/// Pay an order: `POST`.
pub const PAY_ROUTE: &str = "/internal/orders/{order}/pay";
/// Cancel an order: `POST`.
pub const CANCEL_ROUTE: &str = "/internal/orders/{order}/cancel";

/// The query parameter of a replay naming the refusal to answer when the nonce bought nothing.
pub const OTHERWISE: &str = "otherwise";

/// Set by an origin on a response once Redis says the event is sold out, so the edge can answer
/// `sold_out` itself from then on. Removed before the answer reaches the client.
pub const HEADER_SOLD_OUT: &str = "x-fg-sold-out";
/// Set by an origin on a refusal, naming its code, so the edge counts origin refusals by reason
/// without parsing bodies. Removed before the answer reaches the client.
pub const HEADER_REFUSAL: &str = "x-fg-refusal";
/// Every response header an origin sets for the edge alone.
pub const RESPONSE_HEADERS: [&str; 2] = [HEADER_SOLD_OUT, HEADER_REFUSAL];

fn fill(route: &str, value: &str) -> String {
    let start = route.find('{').unwrap_or(route.len());
    let end = route.find('}').map_or(route.len(), |i| i + 1);
    format!("{}{value}{}", &route[..start], &route[end..])
}

/// The origin path of a buy at `event`.
pub fn buy_path(event: &str) -> String {
    fill(BUY_ROUTE, event)
}

/// The origin path of a replay at `event`, refused with `otherwise` if the nonce bought nothing.
pub fn replay_path(event: &str, otherwise: Refusal) -> String {
    format!(
        "{}?{OTHERWISE}={}",
        fill(REPLAY_ROUTE, event),
        otherwise.code()
    )
}

/// What a replay answers when its nonce bought nothing: the refusal the edge named, if it is one
/// a replay may give (a link that cannot buy any more), else `token_expired`.
pub fn replay_fallback(query: Option<&str>) -> Refusal {
    let named = query
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|pair| pair.strip_prefix(OTHERWISE)?.strip_prefix('='))
        .and_then(Refusal::from_code);
    match named {
        Some(refusal @ (Refusal::TokenExpired | Refusal::BadToken)) => refusal,
        _ => Refusal::TokenExpired,
    }
}

/// The origin path of the user's orders at `event`.
pub fn event_orders_path(event: &str) -> String {
    fill(EVENT_ORDERS_ROUTE, event)
}

/// The origin path of one order.
pub fn order_path(order: &str) -> String {
    fill(ORDER_ROUTE, order)
}

/// The origin path paying one order.
pub fn pay_path(order: &str) -> String {
    fill(PAY_ROUTE, order)
}

/// The origin path canceling one order.
pub fn cancel_path(order: &str) -> String {
    fill(CANCEL_ROUTE, order)
}

/// The 201 of a buy (and of a replay of its link): the order as it stands now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Created {
    /// The order.
    pub order_id: String,
    /// `reserved` for a fresh order; a replay reports the order's current state.
    pub status: OrderStatus,
    /// Payment deadline, RFC 3339.
    pub pay_by: String,
    /// What was bought, at the prices charged.
    pub items: Vec<OrderItem>,
    /// What it costs.
    pub total_cents: u64,
    /// Its seats, on a seated event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<String>,
}

/// An order as `GET /api/orders/{id}` shows it (and each entry of the event's order list).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderView {
    /// The order.
    pub order_id: String,
    /// Its event.
    pub event_id: String,
    /// Its buyer.
    pub user: String,
    /// Seats.
    pub quantity: u32,
    /// Current state.
    pub status: OrderStatus,
    /// Payment deadline, RFC 3339.
    pub pay_by: String,
    /// What the order costs, in minor units: what a payment confirmation must name.
    pub total_cents: u64,
    /// What was bought, at the prices charged.
    pub items: Vec<OrderItem>,
    /// Its seats, on a seated event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seats: Vec<String>,
}

/// `GET /api/events/{id}/orders`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventOrders {
    /// The user's orders for the event, oldest first.
    pub orders: Vec<OrderView>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_fill_the_routes_the_origin_serves() {
        assert_eq!(buy_path("demo"), "/internal/events/demo/buy");
        assert_eq!(
            replay_path("demo", Refusal::BadToken),
            "/internal/events/demo/replay?otherwise=bad_token"
        );
        assert_eq!(event_orders_path("demo"), "/internal/events/demo/orders");
        assert_eq!(order_path("demo.ab"), "/internal/orders/demo.ab");
        assert_eq!(pay_path("demo.ab"), "/internal/orders/demo.ab/pay");
        assert_eq!(cancel_path("demo.ab"), "/internal/orders/demo.ab/cancel");
    }

    #[test]
    fn a_replay_falls_back_only_to_a_link_refusal() {
        assert_eq!(
            replay_fallback(Some("otherwise=bad_token")),
            Refusal::BadToken
        );
        assert_eq!(
            replay_fallback(Some("x=1&otherwise=token_expired")),
            Refusal::TokenExpired
        );
        assert_eq!(
            replay_fallback(Some("otherwise=sold_out")),
            Refusal::TokenExpired
        );
        assert_eq!(replay_fallback(None), Refusal::TokenExpired);
    }
}
