//! The operator dashboard in headless Chromium against the real stack: signing in with the admin
//! token (a wrong one is refused on the form), the seat counters, charts and origin table moving
//! as buyers buy, a dead origin showing as down, and a refused reload showing the validation
//! error while the old config stays.

use reqwest::Method;

use crate::harness::{ADMIN_TOKEN, Browser, Stack, StackOptions, post, token_and_buy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_shows_the_sale_moving() {
    let mut stack = Stack::start(StackOptions {
        stock: 20,
        ..StackOptions::default()
    })
    .await;
    let admin = format!("http://{}", stack.admin_addr);
    let mut browser = Browser::start("the_dashboard_shows_the_sale_moving").await;
    // Tall enough that each screenshot shows the whole dashboard.
    browser.resize(1280, 1500).await;

    browser.goto(&format!("{admin}/admin/dashboard")).await;
    browser.type_into("#token", "not-the-admin-token").await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text(".error", "the sign-in refusal", |t| {
            t == "That is not the admin token."
        })
        .await;
    browser.screenshot("sign-in-refused").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());
    browser.type_into("#token", ADMIN_TOKEN).await;
    browser.click("button[type=submit]").await;
    browser
        .wait_for_text("#seats-remaining", "the seat counters", |t| t == "20")
        .await;
    assert_eq!(browser.text("#config-version").await, "1");
    let types = browser
        .wait_for_text("#event-types", "the ticket types", |t| {
            t.contains("general")
        })
        .await;
    assert!(types.contains("10.00") && types.contains("20"), "{types}");
    assert!(
        browser
            .text("#event-phase")
            .await
            .contains("open to everyone")
    );
    let origins = browser
        .wait_for_text("#origins", "two healthy origins", |t| {
            t.matches("healthy").count() == 2
        })
        .await;
    for addr in &stack.origin_addrs {
        assert!(origins.contains(&addr.to_string()), "{origins}");
    }
    let redis = browser
        .wait_for_text("#redis-nodes", "the Redis node", |t| t.contains("healthy"))
        .await;
    assert!(
        redis.contains("primary") && redis.contains("demo, other"),
        "{redis}"
    );

    // Five buyers, one of whom tries twice, and one who pays.
    let client = reqwest::Client::new();
    let mut orders = Vec::new();
    for user in ["u1", "u2", "u3", "u4", "u5"] {
        let (status, body) = token_and_buy(&client, &stack, user).await;
        assert_eq!(status, 201, "{body}");
        orders.push(body["order_id"].as_str().unwrap().to_owned());
    }
    let (status, body) = token_and_buy(&client, &stack, "u1").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_bought"))
    );
    let pay = format!("/api/orders/{}/pay", orders[0]);
    let (status, _) = post(&client, &stack, &pay, &stack.session("u1")).await;
    assert_eq!(status, 200);

    browser
        .wait_for_text("#seats-remaining", "remaining seats to fall", |t| t == "15")
        .await;
    browser
        .wait_for_text("#seats-paid", "the payment", |t| t == "1")
        .await;
    assert_eq!(browser.text("#seats-reserved").await, "4");
    browser
        .wait_for_text("#forwarded-total", "the buys forwarded", |t| {
            t.parse::<u64>().is_ok_and(|n| n >= 6)
        })
        .await;
    browser
        .wait_for_text("#refusals-legend", "the refusal by reason", |t| {
            t.contains("already_bought")
        })
        .await;
    let points: u32 = browser
        .attribute("#seats-chart", "data-points")
        .await
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    assert!(points >= 2, "the seat chart has a history: {points}");
    browser.screenshot("sale-moving").await;
    assert_eq!(browser.accessibility_problems().await, Vec::<String>::new());

    // An origin dies: its row says so, and its health strip records the outage.
    stack.kill_origin(1);
    let down = stack.origin_addrs[1].to_string();
    browser
        .wait_for_text("#origins tr:nth-child(2)", "the dead origin", |t| {
            t.contains(&down) && t.contains("down")
        })
        .await;
    let outage: u32 = browser
        .attribute("#origins tr:nth-child(2) canvas.strip", "data-down")
        .await
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    assert!(outage >= 1, "the strip shows the outage");
    assert!(
        browser
            .text("#origins tr:nth-child(1)")
            .await
            .contains("healthy")
    );
    browser.screenshot("origin-down").await;

    // An invalid weight: the reload is refused, the page says why, version 1 stays in force.
    stack.rewrite_config(|o| o.weights = vec![0, 1]);
    browser.click("#reload").await;
    let refusal = browser
        .wait_for_text("#reload-result", "the reload refusal", |t| {
            t.contains("refused")
        })
        .await;
    assert!(
        refusal.contains("origins[0].weight") && refusal.contains("got 0"),
        "{refusal}"
    );
    browser.screenshot("reload-refused").await;
    let (_, status) = stack.admin(Method::GET, "/admin/status").await;
    assert_eq!(status["config_version"], 1);
    browser.close().await;
}
