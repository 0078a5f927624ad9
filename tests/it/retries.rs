//! A buyer whose answer was lost retries, and must get what the first attempt did: the same
//! order from the same purchase link after the sell-out or the end, the paid order from a second
//! pay, the canceled order from a second cancel. Nothing a retry does may lose an order.

use reqwest::Method;

use crate::harness::{Stack, StackOptions, eventually, fetch_token, get, post, token_and_buy};

async fn buy_url(client: &reqwest::Client, stack: &Stack, user: &str) -> String {
    let (status, body) = fetch_token(client, stack, &stack.session(user)).await;
    assert_eq!(status, 200, "{body}");
    body["buy_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_retried_link_gets_its_order_back_after_the_sell_out_and_the_end() {
    let mut stack = Stack::start(StackOptions {
        stock: 1,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    let url = buy_url(&client, &stack, "alice").await;
    let (status, order) = post(&client, &stack, &url, &alice).await;
    assert_eq!(status, 201, "{order}");

    // A fresh edge has never seen this link buy (as when the answer was lost on another edge,
    // or between an origin and the edge): only Redis knows, and the event is sold out.
    stack.restart_edge();
    // Connections to the old edge are gone; a browser opens new ones.
    let client = reqwest::Client::new();
    stack.wait_until_sold_out().await;
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"]),
        (201, &order["order_id"]),
        "after the sell-out: {again}"
    );

    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/close").await;
    assert_eq!(status, 200);
    eventually(
        "the sale showing ended",
        std::time::Duration::from_secs(10),
        || async { stack.event_document().await["state"] == "ended" },
    )
    .await;
    stack.restart_edge();
    let client = reqwest::Client::new();
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"]),
        (201, &order["order_id"]),
        "after the end: {again}"
    );
    let (status, body) = post(
        &client,
        &stack,
        &buy_url_refused(&stack),
        &stack.session("bob"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (410, Some("ended")),
        "a link that never bought"
    );
    assert!(stack.reconcile().await.is_clean());
}

/// A genuine link for bob that never bought.
fn buy_url_refused(stack: &Stack) -> String {
    let token = stack.token_expiring("bob", sale::time::now_millis() + 60_000);
    format!("/api/events/demo/buy/{token}")
}

#[tokio::test]
async fn a_second_pay_or_cancel_answers_the_order_as_it_is() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    let (status, order) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201);
    let pay = format!("/api/orders/{}/pay", order["order_id"].as_str().unwrap());
    for attempt in ["first", "retried"] {
        let (status, body) = post(&client, &stack, &pay, &alice).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("paid")),
            "{attempt} pay: {body}"
        );
    }

    let bob = stack.session("bob");
    let (status, order) = token_and_buy(&client, &stack, "bob").await;
    assert_eq!(status, 201);
    let id = order["order_id"].as_str().unwrap();
    for attempt in ["first", "retried"] {
        let (status, body) = post(&client, &stack, &format!("/api/orders/{id}/cancel"), &bob).await;
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("canceled")),
            "{attempt} cancel: {body}"
        );
    }
    let (status, body) = post(&client, &stack, &format!("/api/orders/{id}/pay"), &bob).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    assert_eq!(
        stack.remaining().await,
        99,
        "the canceled seat returned once"
    );
    assert!(stack.reconcile().await.is_clean());
}

#[tokio::test]
async fn a_quantity_nobody_may_hold_is_a_bad_request_not_a_retry() {
    let stack = Stack::start(StackOptions {
        per_user_limit: 2,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    for quantity in [0, 3, 1_000_000] {
        let response = client
            .post(stack.url(&buy_url(&client, &stack, "alice").await))
            .bearer_auth(&alice)
            .json(&serde_json::json!({ "quantity": quantity }))
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let retry_after = response.headers().contains_key("retry-after");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(
            (status, body["code"].as_str(), retry_after),
            (400, Some("bad_request"), false),
            "quantity {quantity}"
        );
    }
    let response = client
        .post(stack.url(&buy_url(&client, &stack, "alice").await))
        .bearer_auth(&alice)
        .json(&serde_json::json!({ "quantity": 2 }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    assert_eq!(stack.remaining().await, 98);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_above_one_writes_every_accepted_order_and_the_ledger_keeps_flowing() {
    let mut stack = Stack::start(StackOptions {
        per_user_limit: 2,
        weights: vec![1],
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    for _ in 0..2 {
        let (status, order) = token_and_buy(&client, &stack, "alice").await;
        assert_eq!(status, 201, "{order}");
        accepted.push(order["order_id"].as_str().unwrap().to_owned());
    }
    let (status, body) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_bought"))
    );
    stack.orders_reaching(2).await;

    // A restarted origin re-reads its own pending entries and goes on to new ones.
    stack.kill_origin(0);
    stack.start_origin(0);
    stack.wait_until_origins_healthy().await;
    let (status, order) = token_and_buy(&client, &stack, "bob").await;
    assert_eq!(status, 201, "{order}");
    accepted.push(order["order_id"].as_str().unwrap().to_owned());
    let rows = stack.orders_reaching(3).await;
    for id in &accepted {
        assert_eq!(
            rows.iter().filter(|r| &r.order_id == id).count(),
            1,
            "order {id}"
        );
    }
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_link_past_its_token_expiry_still_returns_its_order_and_the_event_lists_it() {
    let stack = Stack::start(StackOptions {
        token_ttl: "1s",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    let (status, token) = fetch_token(&client, &stack, &alice).await;
    assert_eq!(status, 200, "{token}");
    let url = token["buy_url"].as_str().unwrap().to_owned();
    let expires_at = sale::time::parse_rfc3339(token["expires_at"].as_str().unwrap()).unwrap();
    let (status, order) = post(&client, &stack, &url, &alice).await;
    assert_eq!(status, 201, "{order}");
    // A link that never bought, to show the difference once both have expired.
    let (_, unused) = fetch_token(&client, &stack, &stack.session("bob")).await;
    let unused = unused["buy_url"].as_str().unwrap().to_owned();

    eventually(
        "the links expiring",
        std::time::Duration::from_secs(10),
        || async { sale::time::now_millis() > expires_at + 1_500 },
    )
    .await;
    // The answer was lost: the buyer retries after the token's expiry and gets the order.
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"], again["status"].as_str()),
        (201, &order["order_id"], Some("reserved")),
        "{again}"
    );
    let (status, body) = post(&client, &stack, &unused, &stack.session("bob")).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("token_expired"))
    );
    // A new link cannot buy a second seat for the same buyer.
    let (status, body) = crate::harness::token_and_buy(&client, &stack, "alice").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("already_bought"))
    );

    // A page that lost every answer finds what it bought.
    let (status, list) = get(&client, &stack, "/api/events/demo/orders", &alice).await;
    assert_eq!(status, 200, "{list}");
    let orders = list["orders"].as_array().unwrap();
    assert_eq!(orders.len(), 1, "{list}");
    assert_eq!(orders[0]["order_id"], order["order_id"]);
    assert_eq!(orders[0]["user"], "alice");
    assert_eq!(orders[0]["status"], "reserved");
    let (status, list) = get(
        &client,
        &stack,
        "/api/events/demo/orders",
        &stack.session("bob"),
    )
    .await;
    assert_eq!(
        (status, list["orders"].as_array().map(Vec::len)),
        (200, Some(0))
    );
    let (status, body) = get(&client, &stack, "/api/events/nope/orders", &alice).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_event"))
    );
    let (status, _) = get(&client, &stack, "/api/events/demo/orders", "").await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn a_retried_link_reports_the_order_as_it_stands_now() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    for (user, action, status) in [("alice", "pay", "paid"), ("bob", "cancel", "canceled")] {
        let session = stack.session(user);
        let url = buy_url(&client, &stack, user).await;
        let (code, order) = post(&client, &stack, &url, &session).await;
        assert_eq!(code, 201, "{order}");
        let id = order["order_id"].as_str().unwrap();
        let (code, _) = post(
            &client,
            &stack,
            &format!("/api/orders/{id}/{action}"),
            &session,
        )
        .await;
        assert_eq!(code, 200);
        // The edge saw this link buy; its retry still tells the order's state now.
        let (code, again) = post(&client, &stack, &url, &session).await;
        assert_eq!(
            (code, again["order_id"].as_str(), again["status"].as_str()),
            (201, Some(id), Some(status)),
            "{user}: {again}"
        );
    }
}
