//! Orders after the reservation: pay, cancel, expiry returning seats to stock, and illegal moves.

use crate::harness::{Stack, StackOptions, post, token_and_buy};

async fn order(
    client: &reqwest::Client,
    stack: &Stack,
    id: &str,
    user: &str,
) -> (u16, serde_json::Value) {
    let path = format!("/api/orders/{id}");
    crate::harness::get(client, stack, &path, &stack.session(user)).await
}

#[tokio::test]
async fn pay_and_cancel_follow_the_lifecycle() {
    let stack = Stack::start(StackOptions {
        stock: 1,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (status, alice_order) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201);
    let id = alice_order["order_id"].as_str().unwrap();

    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/orders/{id}/pay"),
        &stack.session("bob"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "another user's order"
    );
    let (status, _) = order(&client, &stack, id, "bob").await;
    assert_eq!(status, 404);

    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/orders/{id}/cancel"),
        &stack.session("alice"),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("canceled")));
    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/orders/{id}/pay"),
        &stack.session("alice"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("illegal_transition"))
    );

    // The canceled seat is for sale again, once the edge and origins have seen it return.
    stack.wait_until_selling(1).await;
    let (status, bob_order) = token_and_buy(&client, &stack, "bob").await;
    assert_eq!(status, 201, "{bob_order}");
    let bob_id = bob_order["order_id"].as_str().unwrap();
    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/orders/{bob_id}/pay"),
        &stack.session("bob"),
    )
    .await;
    assert_eq!((status, body["status"].as_str()), (200, Some("paid")));
    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/orders/{bob_id}/cancel"),
        &stack.session("bob"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("illegal_transition"))
    );
    let (_, shown) = order(&client, &stack, bob_id, "bob").await;
    assert_eq!(shown["status"], "paid");

    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.counters, [1, 0, 0, 1]);
    assert_eq!(stack.seat_counter("canceled").await, 1);
    assert_eq!(stack.seat_counter("expired").await, 0);
}

#[tokio::test]
async fn unpaid_reservations_expire_and_their_seats_sell_again() {
    let stack = Stack::start(StackOptions {
        stock: 5,
        reservation_ttl: "1s",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let mut first = Vec::new();
    for i in 0..5 {
        let (status, body) = token_and_buy(&client, &stack, &format!("early-{i}")).await;
        assert_eq!(status, 201, "{body}");
        first.push(body["order_id"].as_str().unwrap().to_owned());
    }
    let (status, _) = post(
        &client,
        &stack,
        &format!("/api/orders/{}/pay", first[0]),
        &stack.session("early-0"),
    )
    .await;
    assert_eq!(status, 200);

    // The four unpaid reservations pass their deadline; the sweeper returns their seats, and
    // the edge and the origins notice.
    stack.wait_until_selling(4).await;
    for (i, id) in first.iter().enumerate().skip(1) {
        let (_, shown) = order(&client, &stack, id, &format!("early-{i}")).await;
        assert_eq!(shown["status"], "canceled");
    }
    let (_, shown) = order(&client, &stack, &first[0], "early-0").await;
    assert_eq!(shown["status"], "paid");

    for i in 0..4 {
        let (status, body) = token_and_buy(&client, &stack, &format!("late-{i}")).await;
        assert_eq!(status, 201, "{body}");
    }
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.redis_orders.get("canceled"), Some(&4));
    assert_eq!(report.database_orders.get("canceled"), Some(&4));
    assert_eq!(stack.seat_counter("expired").await, 4);
    assert_eq!(stack.seat_counter("canceled").await, 0);
}
