//! Redis killed and restarted in the middle of a sale: origins reconnect and reload their
//! scripts, buyers retry with the same link, and no accepted order goes missing.

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
