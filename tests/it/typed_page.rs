//! The page of an event with ticket types and a coded presale, in headless Chromium against the
//! real stack: the phase timeline and the types with prices, two types chosen, the buyer's own
//! access code entered, bought, and paid (screenshots).

use crate::harness::{Browser, Stack, StackOptions};

const CATALOG: &str = r#"
[[events.ticket_types]]
id = "standing"
name = "Standing"
price_cents = 4900
stock = 50

[[events.ticket_types]]
id = "vip"
name = "VIP package"
price_cents = 19900
stock = 10

[[events.phases]]
id = "fanclub"
starts_at = "+0s"
ends_at = "+1h"
channel = "fans"

[[events.phases]]
id = "general"
starts_at = "+1h"
ends_at = "+2h"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fan_chooses_two_types_enters_their_code_buys_and_pays() {
    let stack = Stack::start(StackOptions {
        ends: "+2h",
        per_user_limit: 4,
        catalog: CATALOG.to_owned(),
        ..StackOptions::default()
    })
    .await;
    let mut browser =
        Browser::start("a_fan_chooses_two_types_enters_their_code_buys_and_pays").await;
    browser.open_as(&stack.url("/events/demo"), "fan-1").await;
    browser
        .wait_for_text("#type-standing .what", "the standing line", |t| {
            t.starts_with("Standing:") && t.contains("50 of 50 left")
        })
        .await;
    let timeline = browser.text("#timeline").await;
    assert!(
        timeline.contains("fanclub") && timeline.contains("(now)"),
        "{timeline}"
    );
    assert!(
        browser.displayed("#code").await,
        "a coded phase asks for the code"
    );
    browser.screenshot("presale").await;

    browser.type_into("#qty-standing", "2").await;
    browser.type_into("#qty-vip", "1").await;
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the refusal without a code", |t| {
            t.contains("access code")
        })
        .await;
    let code = sale::access_code::issue(&stack.config.secrets.token_keys, "demo", "fans", "fan-1");
    browser.type_into("#code", &code).await;
    browser.screenshot("code-entered").await;
    browser.wait_for_enabled("#buy", true).await;
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the reservation", |t| {
            t.starts_with("Seat reserved!")
        })
        .await;
    assert_eq!(stack.seat_counter("t:standing:reserved").await, 2);
    assert_eq!(stack.seat_counter("t:vip:reserved").await, 1);
    browser.screenshot("reserved").await;
    browser.click("#pay").await;
    browser
        .wait_for_text("#message", "the paid order", |t| t.ends_with(": paid."))
        .await;
    assert_eq!(stack.seat_counter("t:vip:paid").await, 1);
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.screenshot("paid").await;
    browser.close().await;
}
