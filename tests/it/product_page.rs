//! The buyer's product page in headless Chromium against the real stack: the countdown follows
//! the server's clock, the button opens with the sale, a double click buys exactly one seat, Pay
//! pays it, a second buy from another tab is told "already bought", a page left open while others
//! take every seat ends up saying sold out (on a phone-sized screen), a visitor over the cap
//! sees the retry countdown, and a buy that met no origin is retried with the same link.

use reqwest::Method;

use crate::harness::{Browser, Stack, StackOptions, metric_sum, token_and_buy};

/// The order id in the page's success message, e.g. "Seat reserved! Order demo.3f…. Please…".
fn order_id(message: &str) -> String {
    message
        .split_whitespace()
        .find(|word| word.starts_with("demo."))
        .map(|word| word.trim_end_matches('.').to_owned())
        .unwrap_or_else(|| panic!("no order id in {message:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_waits_for_the_sale_buys_once_and_pays() {
    let stack = Stack::start(StackOptions {
        starts: "+1h",
        ends: "+2h",
        ..StackOptions::default()
    })
    .await;
    let mut browser = Browser::start("a_visitor_waits_for_the_sale_buys_once_and_pays").await;
    browser.goto(&stack.url("/")).await;
    browser
        .wait_for_text("#name", "the event name", |t| t == "Test event")
        .await;
    let countdown = browser
        .wait_for_text("#countdown", "a countdown", |t| {
            t.starts_with("Sale opens in")
        })
        .await;
    // About an hour: 1:00:00 within the first second, 59:59 and down after.
    assert!(
        countdown.ends_with("1:00:00") || countdown.contains(" 59:"),
        "{countdown}"
    );
    assert!(
        !browser.enabled("#buy").await,
        "Buy is disabled before the sale"
    );
    assert_eq!(browser.text("#remaining").await, "100");
    browser.screenshot("countdown").await;

    // Move this browser's clock two hours ahead, past the opening: the page must keep counting
    // against the edge's clock and keep the button shut.
    let after_skew = browser
        .script(
            "const real = Date.now; Date.now = () => real() + 2 * 3600 * 1000; \
             return refresh().then(() => { tick(); return [ \
               document.getElementById('countdown').textContent, \
               document.getElementById('buy').disabled ]; });",
        )
        .await;
    assert!(
        after_skew[0].as_str().unwrap().starts_with("Sale opens in"),
        "{after_skew}"
    );
    assert_eq!(after_skew[1], true, "Buy stays disabled: {after_skew}");

    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/open").await;
    assert_eq!(status, 200);
    browser.wait_for_enabled("#buy", true).await;
    assert_eq!(browser.text("#countdown").await, "On sale now.");
    browser.screenshot("on-sale").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    // The check itself notices faint text.
    browser
        .script(
            "const p = document.createElement('p'); p.id = 'faint'; p.textContent = 'faint'; \
             p.style.color = '#bbbbbb'; document.querySelector('main').append(p);",
        )
        .await;
    let problems = browser.accessibility_problems().await;
    assert!(
        problems.iter().any(|p| p.starts_with("p#faint")),
        "{problems:?}"
    );
    browser
        .script("document.getElementById('faint').remove();")
        .await;

    // An impatient double click: the first click disables the button before the second lands.
    browser
        .script("const buy = document.getElementById('buy'); buy.click(); buy.click();")
        .await;
    let message = browser
        .wait_for_text("#message", "the reservation", |t| {
            t.starts_with("Seat reserved!")
        })
        .await;
    assert!(message.contains("Please pay by"), "{message}");
    let order = order_id(&message);
    let metrics = stack.edge_metrics().await;
    assert_eq!(
        metric_sum(&metrics, "flashgate_edge_requests_total", "route=\"buy\""),
        1,
        "one buy request for two clicks"
    );
    assert!(!browser.enabled("#buy").await, "one seat per visitor");
    assert!(browser.displayed("#pay").await);
    browser.screenshot("reserved").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    let rows = stack.orders_reaching(1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].order_id, order);

    browser.click("#pay").await;
    browser
        .wait_for_text("#message", "the payment", |t| t.ends_with(": paid."))
        .await;
    assert!(!browser.displayed("#pay").await);
    browser.screenshot("paid").await;

    // The same visitor in a second tab, which never saw the buy's answer: the session cookie is
    // shared, and the page finds the order (GET /api/events/{id}/orders) instead of offering Buy.
    browser.new_tab().await;
    browser.goto(&stack.url("/")).await;
    browser
        .wait_for_text("#message", "the order found again", |t| {
            t == format!("Order {order}: paid.")
        })
        .await;
    assert!(!browser.enabled("#buy").await, "one seat per visitor");
    assert!(!browser.displayed("#pay").await);
    browser.screenshot("order-found-in-a-new-tab").await;

    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(stack.remaining().await, 99);
    assert_eq!(stack.store().await.orders("demo").await.unwrap().len(), 1);
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_left_open_shows_sold_out_once_others_took_every_seat() {
    let stack = Stack::start(StackOptions {
        stock: 3,
        ..StackOptions::default()
    })
    .await;
    let mut browser = Browser::start("a_page_left_open_shows_sold_out").await;
    // A phone's viewport: the button must fit the screen.
    browser.resize(390, 844).await;
    browser.goto(&stack.url("/")).await;
    browser.wait_for_enabled("#buy", true).await;
    let (button, viewport) = browser.width_and_viewport("#buy").await;
    assert!(
        button <= viewport && button >= viewport * 0.6,
        "the button spans a phone's screen: {button} of {viewport}"
    );
    browser.screenshot("phone-on-sale").await;

    let client = reqwest::Client::new();
    for user in ["ann", "bob", "cyd"] {
        let (status, body) = token_and_buy(&client, &stack, user).await;
        assert_eq!(status, 201, "{body}");
    }
    browser
        .wait_for_text("#countdown", "the sold-out notice", |t| t == "Sold out.")
        .await;
    assert_eq!(browser.text("#remaining").await, "0");
    assert!(!browser.enabled("#buy").await, "nothing left to buy");
    browser.screenshot("phone-sold-out").await;
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_over_the_cap_sees_a_retry_countdown() {
    let stack = Stack::start(StackOptions {
        limits: r#"{ per_user = { rate = "1/m", burst = 1 }, per_ip = { rate = "1000000/s" }, origin_rate = { rate = "1000000/s" } }"#,
        ..StackOptions::default()
    })
    .await;
    let mut browser = Browser::start("a_visitor_over_the_cap_sees_a_retry_countdown").await;
    browser.goto(&stack.url("/")).await;
    browser.wait_for_enabled("#buy", true).await;
    // The purchase token spends the visitor's one request a minute; the buy is refused 429.
    browser.click("#buy").await;
    let message = browser
        .wait_for_text("#message", "the retry countdown", |t| {
            t.starts_with("Too many attempts. Try again in ")
        })
        .await;
    let seconds: u64 = message
        .trim_start_matches("Too many attempts. Try again in ")
        .trim_end_matches(" s.")
        .parse()
        .unwrap_or_else(|_| panic!("a number of seconds in {message:?}"));
    assert!((1..=60).contains(&seconds), "{message}");
    assert!(
        !browser.enabled("#buy").await,
        "no retry before Retry-After"
    );
    browser.screenshot("retry-countdown").await;
    assert_eq!(stack.remaining().await, 100, "nothing was reserved");
    browser.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buy_without_an_answer_is_retried_with_the_same_link() {
    let mut stack = Stack::start(StackOptions::default()).await;
    let mut browser = Browser::start("a_buy_without_an_answer_is_retried_with_the_same_link").await;
    browser.goto(&stack.url("/")).await;
    browser.wait_for_enabled("#buy", true).await;

    stack.kill_origin(0);
    stack.kill_origin(1);
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the busy notice", |t| {
            t.starts_with("The shop is busy.")
        })
        .await;
    browser.screenshot("no-origin").await;

    stack.start_origin(0);
    stack.start_origin(1);
    stack.wait_until_origins_healthy().await;
    browser.wait_for_enabled("#buy", true).await;
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the reservation", |t| {
            t.starts_with("Seat reserved!")
        })
        .await;
    browser.screenshot("reserved-on-retry").await;

    // Two buys, one purchase link: the retry reused the link instead of asking for another.
    let metrics = stack.edge_metrics().await;
    assert_eq!(
        metric_sum(&metrics, "flashgate_edge_requests_total", "route=\"buy\""),
        2
    );
    assert_eq!(
        metric_sum(
            &metrics,
            "flashgate_edge_requests_total",
            "route=\"token\",code=\"ok\""
        ),
        1,
        "{metrics}"
    );
    assert_eq!(stack.orders_reaching(1).await.len(), 1);
    browser.close().await;
}
