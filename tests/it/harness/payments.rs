//! Paying as a buyer and confirming as a payment provider: a checkout through the stack's `pay`,
//! confirmations signed with the test provider secret (or forged, or stale), sent to the edge's
//! webhook exactly as a provider would.

use sale::key_ring::{KeyId, KeyRing, Secret, SigningKey};
use sale::payments::{PaymentEvent, PaymentOutcome};
use sale::signed_body::{self, PAYMENT_HEADER};

use super::{PAYMENT_SECRET, Stack, post, send, status_and_json};

/// A ring of one secret.
pub fn ring(id: &str, secret: &str) -> KeyRing {
    KeyRing::new(vec![SigningKey {
        id: KeyId::parse(id).expect("a key id"),
        secret: Secret::parse(secret).expect("a secret"),
    }])
    .expect("one key")
}

/// What a checkout answered: the payment to confirm and its amount.
#[derive(Debug, Clone)]
pub struct Checkout {
    /// The order.
    pub order_id: String,
    /// Its payment.
    pub payment_id: String,
    /// Where the buyer was sent.
    pub checkout_url: String,
}

/// `user`'s `pay` on `order_id`, expected to start a checkout (202).
pub async fn checkout(
    client: &reqwest::Client,
    stack: &Stack,
    order_id: &str,
    user: &str,
) -> Checkout {
    let path = format!("/api/orders/{order_id}/pay");
    let (status, body) = post(client, stack, &path, &stack.session(user)).await;
    assert_eq!(status, 202, "a checkout starts: {body}");
    assert_eq!(body["status"], "reserved", "{body}");
    Checkout {
        order_id: order_id.to_owned(),
        payment_id: body["payment_id"]
            .as_str()
            .expect("a payment id")
            .to_owned(),
        checkout_url: body["checkout_url"]
            .as_str()
            .expect("a checkout URL")
            .to_owned(),
    }
}

/// The provider's confirmation body.
pub fn confirmation(outcome: PaymentOutcome, checkout: &Checkout, amount_cents: u64) -> String {
    serde_json::to_string(&PaymentEvent {
        id: format!("evt_{:032x}", rand::random::<u128>()),
        outcome,
        payment_id: checkout.payment_id.clone(),
        order_id: checkout.order_id.clone(),
        amount_cents,
        currency: "EUR".into(),
    })
    .expect("serialises")
}

/// The provider's signature over `body` at `unix_seconds`, with the stack's payment secret.
pub fn provider_signature(body: &str, unix_seconds: u64) -> String {
    signed_body::sign(&ring("p1", PAYMENT_SECRET), unix_seconds, body.as_bytes())
}

/// Now, Unix seconds.
pub fn unix_now() -> u64 {
    sale::time::now_millis() / 1000
}

/// Posts `body` to the edge's payment webhook with `signature` (none: no header).
pub async fn deliver_confirmation(
    client: &reqwest::Client,
    stack: &Stack,
    body: &str,
    signature: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = client
        .post(stack.url("/api/payments/webhook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header(PAYMENT_HEADER, signature);
    }
    status_and_json(send(stack, request).await).await
}

/// Confirms `checkout` as the provider does, signed now.
pub async fn confirm(
    client: &reqwest::Client,
    stack: &Stack,
    outcome: PaymentOutcome,
    checkout: &Checkout,
    amount_cents: u64,
) -> (u16, serde_json::Value) {
    let body = confirmation(outcome, checkout, amount_cents);
    let signature = provider_signature(&body, unix_now());
    deliver_confirmation(client, stack, &body, Some(&signature)).await
}
