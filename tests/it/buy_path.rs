//! The thin real path: page → token → buy through the edge → Redis → the order database, and the
//! weighted split of buys over two origins.

use futures::StreamExt;

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::harness::{Stack, StackOptions, patient_buy, token_and_buy};

#[tokio::test]
async fn a_buy_through_the_edge_lands_in_the_order_database() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();

    let page = client.get(stack.url("/events/demo")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("<button"));

    let (status, order) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["status"], "reserved");
    let order_id = order["order_id"].as_str().unwrap().to_owned();

    let rows = stack.orders_reaching(1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].order_id, order_id);
    assert_eq!(rows[0].user_id, "alice");
    assert_eq!(rows[0].status, sale::OrderStatus::Reserved);

    let shown = client
        .get(stack.url(&format!("/api/orders/{order_id}")))
        .bearer_auth(stack.session("alice"))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    let shown: serde_json::Value = shown.json().await.unwrap();
    assert_eq!(shown["user"], "alice");
    assert_eq!(shown["quantity"], 1);

    let event: serde_json::Value = stack.event_document().await;
    assert_eq!(event["stock"], 100);
}

#[tokio::test]
async fn buys_split_over_origins_by_weight() {
    let stack = Stack::start(StackOptions {
        weights: vec![1, 3],
        stock: 1_000,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let users: Vec<String> = (0..400).map(|i| format!("user-{i}")).collect();
    // Buyers retry a 5xx like the page does: on a loaded machine (the suite runs Redis Clusters
    // beside this test) a reply can miss its deadline; the split is what is under test.
    let retries = AtomicUsize::new(0);
    let statuses: Vec<u16> = futures::stream::iter(users.iter())
        .map(|user| {
            let (client, stack, retries) = (&client, &stack, &retries);
            async move { patient_buy(client, stack, user, retries).await.0 }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
    // A retried buy is one more forwarded request; the balancer splits every forwarded request,
    // retries included, so the split is checked on what the origins received, in a fixed band.
    let retried = retries.load(Ordering::Relaxed) as u64;
    let light = stack.origin_requests(0, "buy").await;
    let heavy = stack.origin_requests(1, "buy").await;
    let total = light + heavy;
    assert!(
        (400..=400 + retried).contains(&total),
        "{light} + {heavy} buys for 400 buyers and {retried} retries"
    );
    assert!(
        light.abs_diff(total / 4) <= 2,
        "weight 1 origin got {light} of {total}"
    );

    let rows = stack.orders_reaching(400).await;
    assert_eq!(rows.len(), 400);
}
