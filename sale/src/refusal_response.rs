//! A [`Refusal`] as an axum response, the one way every axum listener (the origin, the edge's
//! admin listener) answers a refusal: the contract's status and JSON body, the code again in
//! `x-fg-refusal` (the edge counts origin refusals by it, and strips it), and `Retry-After` on
//! every 5xx, which is always temporary. The body also carries `request_id` when the listener's
//! request-id layer set one for the request.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::Refusal;
use crate::wire::HEADER_REFUSAL;

/// Seconds a client waits before retrying a 5xx.
pub const RETRY_AFTER_SECS: u64 = 1;

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        answer(self, self.body())
    }
}

/// `refusal`'s status, code header and `Retry-After` (on a 5xx), with `body` and the request's id.
fn answer(refusal: Refusal, body: impl serde::Serialize) -> Response {
    let status =
        StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = serde_json::to_value(body).unwrap_or_default();
    if let (Some(id), Some(fields)) = (crate::request_id::current(), body.as_object_mut()) {
        fields.insert("request_id".to_owned(), id.as_str().into());
    }
    let mut response = (
        status,
        [(HEADER_REFUSAL, HeaderValue::from_static(refusal.code()))],
        Json(body),
    )
        .into_response();
    if status.is_server_error() {
        with_retry_after(&mut response, RETRY_AFTER_SECS);
    }
    response
}

/// `refusal` with what it is about added to the contract's body: `ticket_type` (a line sold
/// out or over its limit, a category without seats together) and `seats` (the seats gone).
pub fn about(refusal: Refusal, ticket_type: Option<&str>, seats: &[String]) -> Response {
    let mut body = serde_json::json!({
        "code": refusal.code(),
        "message": refusal.message(),
    });
    if let Some(ticket_type) = ticket_type {
        body["ticket_type"] = ticket_type.into();
    }
    if !seats.is_empty() {
        body["seats"] = seats.into();
    }
    answer(refusal, body)
}

/// The 429 for a client locked out for guessing the admin token, for `wait_secs` more.
pub fn locked_out(wait_secs: u64) -> Response {
    let mut response = Refusal::RateLimited.into_response();
    with_retry_after(&mut response, wait_secs);
    response
}

/// Sets `Retry-After: secs` on `response`.
pub fn with_retry_after(response: &mut Response, secs: u64) {
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
}
