//! An origin dies in the middle of a sale: buyers keep succeeding on the others, and no accepted
//! order is lost.

use std::collections::HashSet;
use std::sync::atomic::AtomicUsize;

use futures::StreamExt;

use crate::harness::{Stack, StackOptions, patient_buy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_origin_loses_no_accepted_order() {
    let mut stack = Stack::start(StackOptions {
        weights: vec![1, 1],
        stock: 2_000,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    // Buyers keep their token and retry on 5xx: a buy cut off by the crash is answered with the
    // same order on retry if it did reserve.
    let retries = AtomicUsize::new(0);
    let before: Vec<_> = futures::stream::iter(0..200)
        .map(|i| {
            let (client, stack, retries) = (&client, &stack, &retries);
            async move { patient_buy(client, stack, &format!("early-{i}"), retries).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    stack.kill_origin(1);
    let after: Vec<_> = futures::stream::iter(0..800)
        .map(|i| {
            let (client, stack, retries) = (&client, &stack, &retries);
            async move { patient_buy(client, stack, &format!("late-{i}"), retries).await }
        })
        .buffer_unordered(16)
        .collect()
        .await;

    let sold: HashSet<String> = before
        .iter()
        .chain(&after)
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body}");
            body["order_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(sold.len(), 1_000);
    assert!(
        stack.origin_requests(0, "buy").await >= 900,
        "the survivor took over"
    );
    let rows = stack.orders_reaching(1_000).await;
    assert_eq!(
        rows.iter()
            .map(|r| r.order_id.clone())
            .collect::<HashSet<_>>(),
        sold
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn an_answer_after_which_the_edge_drops_the_connection_says_so() {
    let mut stack = Stack::start(StackOptions {
        weights: vec![1],
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let session = stack.session("alice");
    let (status, token) = crate::harness::fetch_token(&client, &stack, &session).await;
    assert_eq!(status, 200);
    stack.kill_origin(0);
    // With its only origin gone the edge cannot proxy; it answers itself and will not reuse the
    // connection, so the answer must tell the client, or its next request meets a reset.
    let response = client
        .post(stack.url(token["buy_url"].as_str().unwrap()))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["connection"], "close");
    assert_eq!(response.headers()["retry-after"], "1");
}
