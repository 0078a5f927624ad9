//! Payments on the wire, shared by the edge, the origins, the development provider and `rush`:
//! the checkout a webhook provider's `pay` answers, the confirmation a provider sends
//! (`payment.succeeded` / `payment.failed`), the origin route it is forwarded to, the checkout
//! URL filled from its template, and the order webhook flashgate delivers to the operator.

use serde::{Deserialize, Serialize};

use crate::order_status::OrderStatus;
use crate::wire::OrderView;

/// A provider's confirmation, forwarded by the edge: `POST`, signed by the edge (no user), the
/// provider's raw body and `x-fg-payment-signature` header passed through untouched.
pub const CONFIRM_ROUTE: &str = "/internal/payments/confirm";

/// What the provider says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentOutcome {
    /// The money was taken.
    #[serde(rename = "payment.succeeded")]
    Succeeded,
    /// The attempt failed; the buyer may try again while the reservation holds.
    #[serde(rename = "payment.failed")]
    Failed,
}

/// The body of `POST /api/payments/webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentEvent {
    /// The provider's id for this notification.
    pub id: String,
    /// What happened.
    #[serde(rename = "type")]
    pub outcome: PaymentOutcome,
    /// The payment the checkout created.
    pub payment_id: String,
    /// The order it pays.
    pub order_id: String,
    /// What was taken, in minor units.
    pub amount_cents: u64,
    /// ISO 4217.
    pub currency: String,
}

/// The 202 of `pay` with a webhook provider: the order is still reserved; the buyer goes to
/// `checkout_url`, and only the provider's confirmation marks it paid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkout {
    /// The order.
    pub order_id: String,
    /// `reserved`.
    pub status: OrderStatus,
    /// The payment to confirm; the same for every checkout of one order.
    pub payment_id: String,
    /// Where the buyer pays.
    pub checkout_url: String,
    /// What the payment must be, minor units.
    pub total_cents: u64,
}

/// The 200 of a confirmation, also for a duplicate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// Always true.
    pub received: bool,
}

/// A new payment id: `pay_` and 32 hex digits of randomness.
pub fn new_payment_id() -> String {
    format!("pay_{:032x}", rand::random::<u128>())
}

/// Whether `text` has the shape [`new_payment_id`] gives.
pub fn is_payment_id(text: &str) -> bool {
    text.strip_prefix("pay_")
        .is_some_and(|hex| hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `template` with its placeholders filled (every value is URL-safe by construction).
pub fn checkout_url(template: &str, payment_id: &str, order_id: &str, amount_cents: u64) -> String {
    template
        .replace("{payment_id}", payment_id)
        .replace("{order_id}", order_id)
        .replace("{amount_cents}", &amount_cents.to_string())
}

/// One order webhook, delivered to `[webhooks] url`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderWebhook {
    /// `ORDER_ID.vVERSION`: the same change always has the same id, so a receiver dedupes.
    pub id: String,
    /// `order.reserved`, `order.paid`, `order.canceled`, `order.expired`, `order.refund_due`,
    /// `order.finished`.
    #[serde(rename = "type")]
    pub kind: String,
    /// When the change happened, RFC 3339.
    pub created_at: String,
    /// The order after the change, as `GET /api/orders/{id}` shows it.
    pub order: OrderView,
}

/// The webhook type of a change to `status`; `reason` tells an expiry from a cancel.
pub fn webhook_type(status: OrderStatus, reason: Option<&str>) -> &'static str {
    match (status, reason) {
        (OrderStatus::Reserved, _) => "order.reserved",
        (OrderStatus::Paid, _) => "order.paid",
        (OrderStatus::Finished, _) => "order.finished",
        (OrderStatus::Canceled, Some("expired")) => "order.expired",
        (OrderStatus::Canceled, _) => "order.canceled",
        (OrderStatus::RefundDue, _) => "order.refund_due",
    }
}

/// The id of the change that brought `order_id` to `version`.
pub fn change_id(order_id: &str, version: i64) -> String {
    format!("{order_id}.v{version}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confirmation_reads_as_providers_write_it() {
        let body = r#"{"id":"evt_1","type":"payment.succeeded","payment_id":"pay_x","order_id":"demo.ab","amount_cents":4900,"currency":"EUR"}"#;
        let event: PaymentEvent = serde_json::from_str(body).expect("parses");
        assert_eq!(event.outcome, PaymentOutcome::Succeeded);
        assert_eq!(event.amount_cents, 4900);
        let failed = body.replace("succeeded", "failed");
        let event: PaymentEvent = serde_json::from_str(&failed).expect("parses");
        assert_eq!(event.outcome, PaymentOutcome::Failed);
        assert!(
            serde_json::from_str::<PaymentEvent>(&body.replace("succeeded", "refunded")).is_err()
        );
    }

    #[test]
    fn payment_ids_are_random_and_recognised() {
        let (a, b) = (new_payment_id(), new_payment_id());
        assert_ne!(a, b);
        assert!(is_payment_id(&a));
        assert!(!is_payment_id("pay_12"));
        assert!(!is_payment_id("order_0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn the_template_is_filled() {
        assert_eq!(
            checkout_url(
                "/dev/checkout/{payment_id}?o={order_id}&a={amount_cents}",
                "pay_1",
                "demo.ab",
                9800
            ),
            "/dev/checkout/pay_1?o=demo.ab&a=9800"
        );
    }

    #[test]
    fn an_expiry_is_told_from_a_cancel() {
        assert_eq!(
            webhook_type(OrderStatus::Canceled, Some("expired")),
            "order.expired"
        );
        assert_eq!(
            webhook_type(OrderStatus::Canceled, Some("canceled")),
            "order.canceled"
        );
        assert_eq!(
            webhook_type(OrderStatus::RefundDue, None),
            "order.refund_due"
        );
        assert_eq!(change_id("demo.ab", 3), "demo.ab.v3");
    }
}
