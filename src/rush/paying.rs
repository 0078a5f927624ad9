//! Paying through the development provider, as a buyer and the provider together would: after
//! `pay` answers a checkout (202), the buyer pays or the payment fails, and the provider's signed
//! confirmation reaches the edge's webhook, sometimes twice, sometimes only after the reservation
//! ran out. What was sent is recorded for the invariants ([`super::invariants`]).

use std::time::Duration;

use rand::Rng;
use serde::Serialize;
use tokio::time::Instant;

use super::stats::Recorder;
use super::user::{Flow, micros, outcome};

/// How payments go wrong in a rush.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PaymentMix {
    /// Share of checkouts whose payment fails (the buyer then lets the reservation run out).
    pub fail: f64,
    /// Share of successful payments confirmed twice.
    pub repeat: f64,
    /// Share confirmed only after the reservation expired, when it expires within
    /// [`LATE_WITHIN`]; such an order must become `refund_due`, its seat not sold.
    pub late: f64,
}

/// A late confirmation waits for the deadline only when it is this close.
pub const LATE_WITHIN: Duration = Duration::from_secs(30);

/// One payment a rush buyer made through the provider.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentSent {
    /// The order.
    pub order_id: String,
    /// The checkout's payment.
    pub payment_id: String,
    /// The amount confirmed (the checkout's total).
    pub amount_cents: u64,
    /// A success was confirmed (once or more); false: only a failure.
    pub succeeded: bool,
    /// The success was sent after the deadline on purpose.
    pub late: bool,
}

impl Flow {
    /// Completes the checkout `checkout` (the 202 of `pay`) at the development provider.
    pub async fn pay_at_provider(
        &self,
        base: &str,
        address: &str,
        checkout: &serde_json::Value,
        pay_by_ms: Option<u64>,
        recorder: &mut Recorder,
    ) {
        let (Some(order_id), Some(payment_id), Some(amount)) = (
            checkout["order_id"].as_str(),
            checkout["payment_id"].as_str(),
            checkout["total_cents"].as_u64(),
        ) else {
            return;
        };
        let (fails, repeats, late) = {
            let mut rng = rand::rng();
            let fails = rng.random::<f64>() < self.payments.fail;
            (
                fails,
                rng.random::<f64>() < self.payments.repeat,
                !fails && rng.random::<f64>() < self.payments.late,
            )
        };
        let now = sale::time::now_millis();
        let late =
            late && pay_by_ms.is_some_and(|p| p > now && p - now <= LATE_WITHIN.as_millis() as u64);
        if late && let Some(pay_by) = pay_by_ms {
            // The sweeper runs about once a second: past it, the order has surely expired.
            tokio::time::sleep(Duration::from_millis(pay_by - now + 2_500)).await;
        }
        let outcome_name = if fails { "failed" } else { "succeeded" };
        let start = Instant::now();
        let signed = self
            .client
            .post(format!(
                "{base}/api/dev/payments/sign?payment_id={payment_id}&order_id={order_id}&amount_cents={amount}&outcome={outcome_name}"
            ))
            .header("x-forwarded-for", address)
            .send()
            .await;
        let (code, body) = outcome(signed).await;
        recorder.record("provider", &code, micros(start), self.second());
        let Some(signed) = body.filter(|_| code == "200") else {
            return;
        };
        let (Some(body), Some(header), Some(signature)) = (
            signed["body"].as_str(),
            signed["header"].as_str(),
            signed["signature"].as_str(),
        ) else {
            return;
        };
        for _ in 0..if repeats { 2 } else { 1 } {
            let start = Instant::now();
            let response = self
                .client
                .post(format!("{base}/api/payments/webhook"))
                .header("x-forwarded-for", address)
                .header("content-type", "application/json")
                .header(header, signature)
                .body(body.to_owned())
                .send()
                .await;
            let (code, _) = outcome(response).await;
            recorder.record("confirm", &code, micros(start), self.second());
        }
        recorder.payments.push(PaymentSent {
            order_id: order_id.to_owned(),
            payment_id: payment_id.to_owned(),
            amount_cents: amount,
            succeeded: !fails,
            late,
        });
    }
}
