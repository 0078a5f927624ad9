//! The buyer's page with a payment provider, in headless Chromium against the real stack:
//! reserve, go through the development provider's checkout, pay, and come back to see the order
//! paid once the provider's signed confirmation (sent twice) has reached the shop.

use crate::harness::{Browser, Stack, StackOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_reserves_pays_at_the_provider_and_sees_the_order_paid() {
    let stack = Stack::start(StackOptions {
        stock: 5,
        webhook_payments: true,
        ..StackOptions::default()
    })
    .await;
    let mut browser =
        Browser::start("a_buyer_reserves_pays_at_the_provider_and_sees_the_order_paid").await;
    browser.goto(&stack.url("/events/demo")).await;
    browser.wait_for_enabled("#buy", true).await;
    browser.click("#buy").await;
    let reserved = browser
        .wait_for_text("#message", "the reservation", |t| {
            t.starts_with("Seat reserved!")
        })
        .await;
    let order = reserved
        .split_whitespace()
        .find(|w| w.starts_with("demo."))
        .map(|w| w.trim_end_matches('.').to_owned())
        .expect("an order id");
    browser.screenshot("reserved").await;

    browser.click("#pay").await;
    browser
        .wait_for_text("#order", "the provider's checkout", |t| t == order)
        .await;
    assert_eq!(browser.text("#amount").await, "10.00");
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("provider-checkout").await;
    assert_eq!(
        stack.seat_counter("paid").await,
        0,
        "not paid before the provider says so"
    );

    browser.click("#succeed").await;
    let paid = browser
        .wait_for_text("#message", "the paid order", |t| t.ends_with(": paid."))
        .await;
    assert!(paid.contains(&order), "{paid}");
    browser.screenshot("paid").await;
    assert_eq!(
        stack.seat_counter("paid").await,
        1,
        "paid once, though confirmed twice"
    );
    browser.close().await;
}
