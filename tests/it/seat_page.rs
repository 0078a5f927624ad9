//! The page of a seated event in headless Chromium against the real stack: the hall drawn and
//! zoomed to a section, two seats picked, one lost to another buyer (the page says which and
//! shows it taken), the best two seats left asked for instead, held with the countdown, and paid
//! (screenshots).

use serde_json::json;

use crate::harness::token_and_buy_json as buy;
use crate::harness::{Browser, Stack};
use crate::seats::seated;

fn seat(id: &str) -> String {
    format!("circle[data-seat=\"{id}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_picks_seats_loses_one_takes_the_best_left_and_pays() {
    let stack = Stack::start(seated("10m")).await;
    let mut browser =
        Browser::start("a_buyer_picks_seats_loses_one_takes_the_best_left_and_pays").await;
    browser.open_as(&stack.url("/events/demo"), "fan-1").await;
    browser
        .wait_for_text("#seat-legend", "the map's legend", |t| {
            t.contains("Category 1") && t.contains("Taken")
        })
        .await;
    browser
        .wait_for_text("#buy", "the seated buy button", |t| {
            t == "Buy the best seats"
        })
        .await;
    browser.screenshot("hall").await;
    browser.click("#seat-zoom button:nth-child(2)").await;
    let zoomed = browser
        .attribute("#seat-svg", "viewBox")
        .await
        .unwrap_or_default();
    assert!(zoomed.starts_with("0 0 11 "), "section A's box: {zoomed}");
    browser.screenshot("section-a").await;

    browser.click(&seat("A-1-5")).await;
    browser.click(&seat("A-1-6")).await;
    browser
        .wait_for_text("#buy", "two seats picked", |t| t == "Buy 2 selected seats")
        .await;
    browser.screenshot("picked").await;

    // Someone else gets A-1-6 first, while this page's looks at the map fail (a patchy mobile
    // connection): the page learns it from the buy's 409, which names the seat.
    browser
        .script(
            "window.realFetch = window.fetch; window.fetch = (url, options) => \
             String(url).endsWith('/seats') ? Promise.reject(new Error('offline')) \
             : window.realFetch(url, options); return 0;",
        )
        .await;
    let (status, rival) = buy(
        &reqwest::Client::new(),
        &stack,
        "rival",
        json!({"seats": ["A-1-6"]}),
    )
    .await;
    assert_eq!(status, 201, "{rival}");
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the lost seat named", |t| {
            t.contains("Seat A-1-6 was just taken by someone else")
        })
        .await;
    let class = browser
        .attribute(&seat("A-1-6"), "class")
        .await
        .unwrap_or_default();
    assert!(class.contains("taken"), "{class}");
    assert_eq!(
        stack.seat_counter("t:cat1:reserved").await,
        1,
        "only the rival's seat"
    );
    browser.screenshot("lost").await;
    browser
        .script("window.fetch = window.realFetch; return 0;")
        .await;

    // Instead: the best two of Category 1. A-1's best seats are nearest the stage's middle; with
    // A-1-6 gone, A-1-9 and A-1-10 sit together without stranding a seat.
    browser.click(&seat("A-1-5")).await;
    browser
        .wait_for_text("#buy", "no seat picked", |t| t == "Buy the best seats")
        .await;
    browser.type_into("#qty-cat1", "2").await;
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the held seats", |t| {
            t.starts_with("Seats A-1-9, A-1-10 reserved!")
        })
        .await;
    browser
        .wait_for_text("#hold", "the hold's countdown", |t| {
            t.starts_with("Held for you for")
        })
        .await;
    let class = browser
        .attribute(&seat("A-1-10"), "class")
        .await
        .unwrap_or_default();
    assert!(class.contains("mine"), "{class}");
    browser.screenshot("held").await;

    browser.click("#pay").await;
    browser
        .wait_for_text("#message", "the paid order", |t| t.ends_with(": paid."))
        .await;
    assert_eq!(stack.seat_counter("t:cat1:paid").await, 2);
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("paid").await;
    browser.close().await;
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}
