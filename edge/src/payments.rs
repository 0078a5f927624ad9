//! Payments at the edge. A provider's confirmation (`POST /api/payments/webhook`) is refused
//! here when its signature header is missing, malformed or outside the tolerance, and then when
//! the MAC over its body matches no payment secret: the edge reads that one body whole (a
//! confirmation is a few hundred bytes), so a flood of junk, forgeries or replays costs no
//! origin. A genuine one is forwarded, body and header untouched, and the origin checks the MAC
//! again before it applies anything. The development
//! provider (only beside `edge.dev_sessions = true` and a `webhook` provider) serves its
//! checkout page and signs the confirmation the page then posts to the webhook, exactly as a
//! provider would send it.

use pingora::http::RequestHeader;
use pingora::proxy::Session;
use sale::config::{Config, PaymentProvider};
use sale::payments::{PaymentEvent, PaymentOutcome};
use sale::signed_body::{self, PAYMENT_HEADER, SignedHeader};
use sale::{OrderId, Refusal};

use crate::gate::{Forward, RedisChecks};
use crate::respond::Answer;
use crate::routes::{CHECKOUT, Route};

/// Admits a provider's confirmation whose header could be genuine.
pub fn admit_webhook(
    config: &Config,
    req: &RequestHeader,
    now_ms: u64,
) -> Result<Forward, Refusal> {
    let PaymentProvider::Webhook { tolerance, .. } = &config.payments else {
        return Err(Refusal::NotFound);
    };
    let header = req
        .headers
        .get(PAYMENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::BadSignature)?;
    SignedHeader::parse(header)
        .and_then(|h| h.fresh(now_ms / 1000, *tolerance))
        .map_err(|_| Refusal::BadSignature)?;
    Ok(Forward {
        user: None,
        path: Route::PaymentWebhook
            .origin_path()
            .ok_or(Refusal::NotFound)?,
        purchase: None,
        redis_checks: RedisChecks::None,
    })
}

/// Largest confirmation body the edge reads: what Pingora keeps of a body read before the
/// request is forwarded, so that it can still send it to the origin.
pub const MAX_CONFIRMATION_BYTES: u64 = 64 * 1024;

/// Reads a confirmation's body and checks its MAC against the payment secrets: 401
/// `bad_signature` unless one matches. The body read here is what the proxy then forwards.
pub async fn check_confirmation(
    session: &mut Session,
    config: &Config,
    now_ms: u64,
) -> Result<(), Refusal> {
    let PaymentProvider::Webhook {
        secrets, tolerance, ..
    } = &config.payments
    else {
        return Err(Refusal::NotFound);
    };
    session.enable_retry_buffering();
    let limit = config.edge.max_body_bytes.min(MAX_CONFIRMATION_BYTES);
    let body = crate::request_body::read_whole(session, limit).await?;
    let header = session
        .req_header()
        .headers
        .get(PAYMENT_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(Refusal::BadSignature)?;
    signed_body::verify(secrets, header, &body, now_ms / 1000, *tolerance)
        .map(drop)
        .map_err(|_| Refusal::BadSignature)
}

/// Whether this config runs the development provider.
pub(crate) fn dev_provider(config: &Config) -> bool {
    config.edge.dev_sessions && matches!(config.payments, PaymentProvider::Webhook { .. })
}

/// The development provider's checkout page, if it runs.
pub fn checkout_page(config: &Config) -> Result<&'static str, Refusal> {
    if dev_provider(config) {
        Ok(CHECKOUT)
    } else {
        Err(Refusal::NotFound)
    }
}

/// `POST /api/dev/payments/sign?payment_id=…&order_id=…&amount_cents=…&outcome=succeeded|failed`:
/// the confirmation body and its `x-fg-payment-signature` header, signed now with the first
/// payment secret.
pub fn sign(config: &Config, req: &RequestHeader, now_ms: u64) -> Result<Answer, Refusal> {
    let PaymentProvider::Webhook { secrets, .. } = &config.payments else {
        return Err(Refusal::NotFound);
    };
    if !config.edge.dev_sessions {
        return Err(Refusal::NotFound);
    }
    let param = |name: &str| crate::gate::query_param(req, name).ok_or(Refusal::BadRequest);
    let order_id = OrderId::parse(param("order_id")?).map_err(|_| Refusal::BadRequest)?;
    let payment_id = param("payment_id")?;
    if !sale::payments::is_payment_id(payment_id) {
        return Err(Refusal::BadRequest);
    }
    let event = PaymentEvent {
        id: format!("evt_{:032x}", rand::random::<u128>()),
        outcome: match param("outcome")? {
            "succeeded" => PaymentOutcome::Succeeded,
            "failed" => PaymentOutcome::Failed,
            _ => return Err(Refusal::BadRequest),
        },
        payment_id: payment_id.to_owned(),
        order_id: order_id.to_string(),
        amount_cents: param("amount_cents")?
            .parse()
            .map_err(|_| Refusal::BadRequest)?,
        currency: config
            .event(order_id.event().as_str())
            .ok_or(Refusal::BadRequest)?
            .currency
            .clone(),
    };
    let body = serde_json::to_string(&event).map_err(|_| Refusal::Internal)?;
    let signature = signed_body::sign(secrets, now_ms / 1000, body.as_bytes());
    Ok(Answer::json(
        200,
        &serde_json::json!({ "body": body, "header": PAYMENT_HEADER, "signature": signature }),
        Vec::new(),
    ))
}
