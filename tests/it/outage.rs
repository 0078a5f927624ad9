//! Redis killed and restarted in the middle of a sale: origins reconnect and reload their
//! scripts, buyers retry with the same link, and no accepted order goes missing; an edge that
//! cannot read Redis says so and sells nothing from a frozen view.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;

use crate::harness::{Stack, StackOptions, eventually, patient_buy};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_mid_sale_loses_no_accepted_order() {
    let stack = Stack::start(StackOptions {
        stock: 5_000,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let accepted = AtomicUsize::new(0);
    let retries = AtomicUsize::new(0);

    let buyers = futures::stream::iter(0..2_000)
        .map(|i| {
            let (client, stack, accepted, retries) = (&client, &stack, &accepted, &retries);
            async move {
                let outcome = patient_buy(client, stack, &format!("buyer-{i}"), retries).await;
                if outcome.0 == 201 {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
                outcome
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    let chaos = async {
        let enough = || async { accepted.load(Ordering::Relaxed) >= 300 };
        eventually(
            "300 accepted orders before the restart",
            Duration::from_secs(60),
            enough,
        )
        .await;
        stack.kill_redis();
        // Down until buyers have met the outage, so the test never passes on a restart too quick
        // for anyone to notice.
        eventually(
            "a buyer meeting the outage",
            Duration::from_secs(30),
            || async { retries.load(Ordering::Relaxed) > 0 },
        )
        .await;
        stack.start_redis_again();
    };
    let (outcomes, ()) = tokio::join!(buyers, chaos);

    let sold: HashSet<String> = outcomes
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, body)| body["order_id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        sold.len(),
        2_000,
        "every buyer ends with an order: {:?}",
        outcomes.iter().find(|(s, _)| *s != 201)
    );
    let rows = stack.orders_reaching(2_000).await;
    let stored: HashSet<String> = rows.iter().map(|r| r.order_id.clone()).collect();
    assert_eq!(
        stored, sold,
        "every accepted order is in the database, and nothing else"
    );
    assert_eq!(rows.len(), 2_000);
    assert_eq!(stack.remaining().await, 3_000);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edge_cut_off_from_redis_says_so_and_stops_selling_until_it_hears_again() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    assert_eq!(stack.event_document().await["stale"], false);
    stack.kill_redis();
    eventually("the view going stale", Duration::from_secs(20), || async {
        stack.event_document().await["stale"] == true
    })
    .await;
    let response = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
    assert_eq!(status["events"][0]["stale"], true, "operators see it too");

    stack.start_redis_again();
    eventually("the view fresh again", Duration::from_secs(20), || async {
        stack.event_document().await["stale"] == false
    })
    .await;
    stack.wait_until_origins_healthy().await;
    let (status, order) = crate::harness::token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201, "{order}");
}
