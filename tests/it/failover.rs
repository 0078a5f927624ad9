//! An origin dies in the middle of a sale, with buys in flight: buyers retrying their links
//! keep succeeding on the others, and no accepted order is lost.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;

use nix::sys::signal::Signal;

use crate::harness::{Stack, StackOptions, eventually, patient_buy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_dying_with_buys_in_flight_loses_no_accepted_order() {
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
    let accepted = AtomicUsize::new(0);
    let crowd = futures::stream::iter(0..1_000)
        .map(|i| {
            let (client, stack, retries, accepted) = (&client, &stack, &retries, &accepted);
            async move {
                let outcome = patient_buy(client, stack, &format!("buyer-{i}"), retries).await;
                accepted.fetch_add(usize::from(outcome.0 == 201), Ordering::Relaxed);
                outcome
            }
        })
        .buffer_unordered(16)
        .collect::<Vec<_>>();
    // A fifth of the way in, origin 1 freezes: every buy the edge sends it hangs there until the
    // edge's health check gives up on it, and then it dies with those buys in flight.
    let crash = async {
        eventually(
            "a fifth of the buyers served",
            Duration::from_secs(60),
            || async { accepted.load(Ordering::Relaxed) >= 200 },
        )
        .await;
        let before = retries.load(Ordering::Relaxed);
        stack.signal_origin(1, Signal::SIGSTOP);
        eventually(
            "the edge giving up on origin 1",
            Duration::from_secs(30),
            || async {
                let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
                status["origins"][1]["healthy"] == false
            },
        )
        .await;
        stack.signal_origin(1, Signal::SIGKILL);
        before
    };
    let (outcomes, before) = futures::join!(crowd, crash);
    stack.kill_origin(1);

    let sold: HashSet<String> = outcomes
        .iter()
        .map(|(status, body)| {
            assert_eq!(*status, 201, "{body}");
            body["order_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(sold.len(), 1_000);
    let retried = retries.load(Ordering::Relaxed) - before;
    assert!(retried > 0, "buys cut off by the crash were retried");
    println!("{retried} retries after the crash");
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
