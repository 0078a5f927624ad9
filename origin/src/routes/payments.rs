//! Payments at the origin: `pay` as the configured provider means it (the buyer's word with
//! `direct`; a checkout with `webhook`), and the provider's confirmation the edge forwards,
//! verified here against the payment secrets over the raw body before it touches an order.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sale::config::PaymentProvider;
use sale::payments::{self, Checkout, PaymentEvent, PaymentOutcome, Received};
use sale::signed_body::{self, PAYMENT_HEADER};
use sale::{OrderId, OrderStatus, Refusal};

use super::orders::{answer, order_view, pay_directly};
use crate::error::OriginError;
use crate::signature::{Admitted, ForwardedByEdge};
use crate::state::AppState;
use crate::stock::lifecycle::{Confirmed, UserAction};

/// `POST …/pay`: marks paid with the `direct` provider; with `webhook`, answers 202 with the
/// order's payment and where to pay it (200 with the order if it is paid already).
pub async fn pay(state: State<AppState>, order: Path<String>, admitted: Admitted) -> Response {
    let config = state.config();
    let PaymentProvider::Webhook { checkout_url, .. } = &config.payments else {
        return pay_directly(state, order, admitted).await;
    };
    let State(state) = state;
    let result = match OrderId::parse(&order.0) {
        Ok(order_id) => {
            let unit_cents = config
                .event(order_id.event().as_str())
                .map_or(0, |e| e.price_cents);
            state
                .lifecycle()
                .apply(
                    UserAction::Checkout { unit_cents },
                    &order_id,
                    &admitted.user,
                )
                .await
                .map(|record| (order_id, record))
        }
        Err(_) => Err(Refusal::NotFound.into()),
    };
    match result {
        Ok((order_id, record)) if record.status == OrderStatus::Reserved => {
            let payment_id = record.payment.clone().unwrap_or_default();
            let checkout = Checkout {
                order_id: order_id.to_string(),
                status: record.status,
                checkout_url: payments::checkout_url(
                    checkout_url,
                    &payment_id,
                    order_id.as_str(),
                    record.total,
                ),
                payment_id,
                total_cents: record.total,
            };
            state.metrics().record("pay", "ok");
            (StatusCode::ACCEPTED, Json(checkout)).into_response()
        }
        other => answer(
            &state,
            "pay",
            other.map(|(order_id, record)| order_view(&order_id, record)),
        ),
    }
}

/// `POST /internal/payments/confirm`: the provider's signed confirmation, as the edge forwarded it.
pub async fn confirm(
    State(state): State<AppState>,
    _edge: ForwardedByEdge,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = confirmed(&state, &headers, &body).await;
    let label = match &result {
        Ok(Confirmed::Paid) => "paid",
        Ok(Confirmed::RefundDue) => "refund_due",
        Ok(Confirmed::Unchanged) => "unchanged",
        Err(e) => e.refusal().code(),
    };
    state.metrics().payment(label);
    answer(
        &state,
        "payment",
        result.map(|_| Received { received: true }),
    )
}

async fn confirmed(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Confirmed, OriginError> {
    let config = state.config();
    let PaymentProvider::Webhook {
        secrets, tolerance, ..
    } = &config.payments
    else {
        return Err(Refusal::NotFound.into());
    };
    let header = headers
        .get(PAYMENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::BadSignature)?;
    let now = sale::time::now_millis() / 1000;
    signed_body::verify(secrets, header, body, now, *tolerance).map_err(|e| {
        tracing::info!(error = %e, "payment confirmation refused");
        Refusal::BadSignature
    })?;
    let event: PaymentEvent = serde_json::from_slice(body).map_err(|_| Refusal::BadRequest)?;
    let order = OrderId::parse(&event.order_id).map_err(|_| Refusal::BadRequest)?;
    if !payments::is_payment_id(&event.payment_id) {
        return Err(Refusal::BadRequest.into());
    }
    let sold_in = config
        .event(order.event().as_str())
        .map(|e| e.currency.clone())
        .ok_or(Refusal::BadRequest)?;
    let succeeded = event.outcome == PaymentOutcome::Succeeded;
    let (_, outcome) = state
        .lifecycle()
        .confirm(
            &order,
            &event.payment_id,
            event.amount_cents,
            event.currency == sold_in,
            succeeded,
        )
        .await
        .inspect_err(|e| {
            if e.refusal() == Refusal::AmountMismatch {
                tracing::warn!(order = %order, amount = event.amount_cents, currency = %event.currency, "payment amount or currency is not the order's");
            }
        })?;
    if outcome == Confirmed::RefundDue {
        tracing::warn!(order = %order, payment = %event.payment_id, "payment confirmed after the order ended: refund due");
    }
    Ok(outcome)
}
