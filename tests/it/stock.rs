//! The stock engine under a crowd: no oversell, no duplicate, nothing lost, and no stranded seats.

use std::collections::HashSet;
use std::time::Duration;

use futures::StreamExt;

use crate::harness::{Stack, StackOptions, fetch_token, post, token_and_buy};

/// Every user's outcome: (user, status, body).
type Outcomes = Vec<(String, u16, serde_json::Value)>;

async fn crowd(stack: &Stack, users: impl Iterator<Item = String>, concurrency: usize) -> Outcomes {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    futures::stream::iter(users)
        .map(|user| {
            let (client, stack) = (&client, stack);
            async move {
                let (status, body) = token_and_buy(client, stack, &user).await;
                (user, status, body)
            }
        })
        .buffer_unordered(concurrency)
        .collect()
        .await
}

fn order_ids(outcomes: &Outcomes) -> Vec<String> {
    outcomes
        .iter()
        .filter(|(_, status, _)| *status == 201)
        .map(|(_, _, body)| body["order_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crowd_of_50000_buys_exactly_the_10000_seats() {
    let stack = Stack::start(StackOptions {
        stock: 10_000,
        ..StackOptions::default()
    })
    .await;
    let outcomes = crowd(&stack, (0..50_000).map(|i| format!("fan-{i}")), 256).await;

    let sold = order_ids(&outcomes);
    assert_eq!(sold.len(), 10_000, "201s");
    assert_eq!(
        sold.iter().collect::<HashSet<_>>().len(),
        10_000,
        "distinct order ids"
    );
    // Refused buyers hear "sold out", or, from an origin whose local share is spent while seats
    // may remain, "busy, retry" (503 with Retry-After): nothing else.
    for (user, status, body) in &outcomes {
        assert!(
            *status == 201
                || (*status == 410 && body["code"] == "sold_out")
                || (*status == 503 && body["code"] == "unavailable"),
            "{user}: {status} {body}"
        );
    }
    let rows = stack.orders_reaching(10_000).await;
    assert_eq!(rows.len(), 10_000);
    let buyers: HashSet<&str> = rows.iter().map(|r| r.user_id.as_str()).collect();
    assert_eq!(buyers.len(), 10_000, "no user twice");
    assert_eq!(
        rows.iter()
            .map(|r| r.order_id.clone())
            .collect::<HashSet<_>>(),
        sold.into_iter().collect()
    );
    assert_eq!(stack.remaining().await, 0);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_user_with_1000_tokens_gets_one_order() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let session = stack.session("greedy");
    let urls: Vec<String> = futures::stream::iter(0..1_000)
        .map(|_| {
            let (client, stack, session) = (&client, &stack, &session);
            async move {
                let (status, token) = fetch_token(client, stack, session).await;
                assert_eq!(status, 200, "{token}");
                token["buy_url"].as_str().unwrap().to_owned()
            }
        })
        .buffer_unordered(64)
        .collect()
        .await;
    let statuses: Vec<(u16, serde_json::Value)> = futures::stream::iter(urls.iter())
        .map(|url| {
            let (client, stack, session) = (&client, &stack, &session);
            async move { post(client, stack, url, session).await }
        })
        .buffer_unordered(1_000)
        .collect()
        .await;

    let created = statuses.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(created, 1, "exactly one order");
    // The others are refused: by the script (`already_bought`), or, while more buys are in flight
    // at one origin than its local allowance holds, by that origin's pre-deduction (503
    // `unavailable`, retry after the refill). With 99 seats left nobody is told "sold out", and
    // no second order exists.
    let unexpected: Vec<_> = statuses
        .iter()
        .filter(|(s, b)| {
            !(*s == 201
                || (*s == 409 && b["code"] == "already_bought")
                || (*s == 503 && b["code"] == "unavailable"))
        })
        .collect();
    assert!(unexpected.is_empty(), "{unexpected:?}");
    let rows = stack.orders_reaching(1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(stack.remaining().await, 99);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surviving_origin_sells_every_seat() {
    let mut stack = Stack::start(StackOptions {
        weights: vec![1, 1],
        stock: 200,
        ..StackOptions::default()
    })
    .await;
    stack.kill_origin(1);

    // Fresh buyers keep coming until Redis is empty: the survivor's own share (100 + buffer)
    // runs out first, and it must refill from Redis rather than strand the dead node's seats.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut next = 0;
    let mut sold = 0;
    while stack.remaining().await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "seats stranded: {} left",
            stack.remaining().await
        );
        let outcomes = crowd(&stack, (next..next + 50).map(|i| format!("buyer-{i}")), 16).await;
        next += 50;
        sold += order_ids(&outcomes).len();
    }
    assert_eq!(sold, 200);
    assert_eq!(stack.orders_reaching(200).await.len(), 200);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}
