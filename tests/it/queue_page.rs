//! The product page with a waiting room, in headless Chromium: a buyer joins the pre-queue, is
//! told when places are drawn, waits for their turn, and buys and pays once admitted.

use crate::harness::{Browser, Stack, StackOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_walks_a_buyer_from_the_pre_queue_to_a_paid_order() {
    let stack = Stack::start(StackOptions {
        // Far enough ahead that the join lands before the start even on a loaded machine.
        starts: "+10s",
        queue: r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "2m" }"#,
        ..StackOptions::default()
    })
    .await;
    let mut browser =
        Browser::start("the_page_walks_a_buyer_from_the_pre_queue_to_a_paid_order").await;
    browser.goto(&stack.url("/events/demo")).await;
    browser
        .wait_for_text("#queue-state", "the invitation to join", |t| {
            t == "Join the queue to get your turn to buy."
        })
        .await;
    assert!(!browser.enabled("#buy").await, "no buying without a turn");
    browser.screenshot("queue-join").await;
    browser.click("#join").await;
    browser
        .wait_for_text("#queue-state", "the pre-queue", |t| {
            t.starts_with("You're in; places are drawn at ")
        })
        .await;
    browser.screenshot("queue-pre-queue").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser
        .wait_for_text("#queue-state", "the buyer's turn", |t| {
            t.starts_with("It's your turn! Buy within ")
        })
        .await;
    browser.wait_for_enabled("#buy", true).await;
    browser.screenshot("queue-turn").await;
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the reservation", |t| {
            t.starts_with("Seat reserved!")
        })
        .await;
    browser.click("#pay").await;
    let paid = browser
        .wait_for_text("#message", "the payment", |t| t.ends_with(": paid."))
        .await;
    assert!(paid.contains("demo."), "{paid}");
    browser.screenshot("queue-paid").await;
    assert_eq!(stack.seat_counter("paid").await, 1);
    browser.close().await;
}
