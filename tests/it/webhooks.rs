//! Order webhooks to the operator: every change (reserved, paid, canceled, refund_due, ...)
//! reaches the receiver signed, at least once and in order per order, even when the receiver is
//! down for a while or the origins crash between the database commit and the delivery; and
//! `flashgate webhooks replay` sends them again.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use sale::payments::OrderWebhook;
use sale::payments::PaymentOutcome::Succeeded;

use crate::harness::{
    Receiver, Stack, StackOptions, checkout, confirm, eventually, post, token_and_buy,
};

fn with_receiver(receiver: &Receiver) -> StackOptions {
    StackOptions {
        stock: 20,
        webhook_payments: true,
        webhooks: format!(
            "url = \"{}\"\nbackoff = \"50ms\"\nmax_attempts = 100",
            receiver.url
        ),
        ..StackOptions::default()
    }
}

/// Reserves for each user, pays the first `paid`, cancels the next `canceled`; returns every
/// change id the operator must hear of, with its type.
async fn make_changes(
    client: &reqwest::Client,
    stack: &Stack,
    users: usize,
    paid: usize,
    canceled: usize,
) -> BTreeMap<String, String> {
    let mut expected = BTreeMap::new();
    for i in 0..users {
        let user = format!("buyer-{i}");
        let (status, body) = token_and_buy(client, stack, &user).await;
        assert_eq!(status, 201, "{body}");
        let order = body["order_id"].as_str().expect("an order").to_owned();
        expected.insert(format!("{order}.v1"), "order.reserved".to_owned());
        if i < paid {
            let paying = checkout(client, stack, &order, &user).await;
            let (status, _) = confirm(client, stack, Succeeded, &paying, 1000).await;
            assert_eq!(status, 200);
            expected.insert(format!("{order}.v2"), "order.paid".to_owned());
        } else if i < paid + canceled {
            let path = format!("/api/orders/{order}/cancel");
            let (status, _) = post(client, stack, &path, &stack.session(&user)).await;
            assert_eq!(status, 200);
            expected.insert(format!("{order}.v2"), "order.canceled".to_owned());
        }
    }
    expected
}

/// Checks what the receiver accepted: every expected change, with its type, and each order's
/// changes first seen in version order.
fn check_deliveries(accepted: &[OrderWebhook], expected: &BTreeMap<String, String>) {
    let ids: BTreeSet<&str> = accepted.iter().map(|w| w.id.as_str()).collect();
    for (id, kind) in expected {
        assert!(ids.contains(id.as_str()), "change {id} was never delivered");
        let delivered = accepted.iter().find(|w| &w.id == id).expect("found");
        assert_eq!(&delivered.kind, kind, "{id}");
    }
    let mut seen: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
    for webhook in accepted {
        let (order, version) = webhook.id.rsplit_once(".v").expect("ORDER.vN");
        let version: u64 = version.parse().expect("a version");
        let versions = seen.entry(order).or_default();
        if !versions.contains(&version) {
            versions.push(version);
        }
        assert_eq!(webhook.order.order_id, order);
    }
    for (order, versions) in seen {
        let mut sorted = versions.clone();
        sorted.sort_unstable();
        assert_eq!(
            versions, sorted,
            "order {order}'s changes arrived out of order"
        );
    }
}

/// Runs `flashgate webhooks replay` for `stack` since `since`; its exit and what it said.
async fn replay(stack: &Stack, since: &str) -> (bool, String) {
    // Awaited, not blocking: the receiver answers on this test's own runtime.
    let replay = tokio::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
        .args(["webhooks", "replay", "--config"])
        .arg(stack.config_path())
        .args(["--since", since])
        .output()
        .await
        .expect("replay runs");
    let said = String::from_utf8_lossy(&replay.stdout).to_string()
        + &String::from_utf8_lossy(&replay.stderr);
    (replay.status.success(), said)
}

async fn all_delivered(receiver: &Receiver, expected: &BTreeMap<String, String>) {
    eventually(
        "every change delivered",
        Duration::from_secs(60),
        || async {
            let ids: BTreeSet<String> = receiver.accepted().into_iter().map(|w| w.id).collect();
            expected.keys().all(|id| ids.contains(id))
        },
    )
    .await;
}

#[tokio::test]
async fn a_receiver_that_was_down_gets_every_change_in_order_and_a_replay_sends_them_again() {
    let receiver = Receiver::start(false).await;
    let stack = Stack::start(with_receiver(&receiver)).await;
    let started = sale::time::rfc3339(sale::time::now_millis() - 1000);
    let client = reqwest::Client::new();
    let expected = make_changes(&client, &stack, 8, 3, 2).await;
    assert_eq!(expected.len(), 13);
    eventually(
        "deliveries tried while the receiver is down",
        Duration::from_secs(30),
        || async { receiver.turned_away() >= 5 },
    )
    .await;
    assert!(receiver.accepted().is_empty());
    receiver.set_up(true);
    all_delivered(&receiver, &expected).await;
    let accepted = receiver.accepted();
    check_deliveries(&accepted, &expected);
    assert_eq!(receiver.bad_signatures(), 0);
    let paid = accepted
        .iter()
        .find(|w| w.kind == "order.paid")
        .expect("a paid change");
    assert_eq!(paid.order.status, sale::OrderStatus::Paid);
    assert_eq!(paid.order.total_cents, 1000);

    let before = receiver.accepted().len();
    let (replayed, said) = replay(&stack, &started).await;
    assert!(replayed, "{said}");
    assert!(said.contains("13 delivered"), "{said}");
    let again = &receiver.accepted()[before..];
    check_deliveries(again, &expected);
}

#[tokio::test]
async fn an_origin_crash_between_commit_and_delivery_loses_no_delivery() {
    let receiver = Receiver::start(true).await;
    receiver.set_holding(true);
    let mut stack = Stack::start(with_receiver(&receiver)).await;
    let client = reqwest::Client::new();
    let expected = make_changes(&client, &stack, 6, 2, 1).await;
    // Every change is committed to the order database, and deliveries are in flight, leased to
    // the origins and held unanswered by the receiver: then both origins die.
    stack.orders_reaching(6).await;
    eventually(
        "every change committed",
        Duration::from_secs(30),
        || async { stack.reconcile().await.is_clean() },
    )
    .await;
    eventually("deliveries in flight", Duration::from_secs(30), || async {
        receiver.held() >= 1
    })
    .await;
    stack.kill_origin(0);
    stack.kill_origin(1);
    receiver.set_holding(false);
    assert!(receiver.accepted().is_empty());
    // New origins take over once the dead ones' leases run out.
    stack.start_origin(0);
    stack.start_origin(1);
    eventually(
        "every change delivered",
        Duration::from_secs(120),
        || async {
            let ids: BTreeSet<String> = receiver.accepted().into_iter().map(|w| w.id).collect();
            expected.keys().all(|id| ids.contains(id))
        },
    )
    .await;
    check_deliveries(&receiver.accepted(), &expected);
}

#[tokio::test]
async fn a_change_set_aside_after_its_last_try_shows_on_the_dashboard_and_replays() {
    let receiver = Receiver::start(false).await;
    let stack = Stack::start(StackOptions {
        webhooks: format!(
            "url = \"{}\"\nbackoff = \"10ms\"\nmax_attempts = 2",
            receiver.url
        ),
        ..with_receiver(&receiver)
    })
    .await;
    let started = sale::time::rfc3339(sale::time::now_millis() - 1000);
    let client = reqwest::Client::new();
    let expected = make_changes(&client, &stack, 1, 0, 0).await;
    eventually(
        "the change set aside, as the dashboard shows",
        Duration::from_secs(30),
        || async {
            let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
            status["webhooks"]["set_aside"].as_u64() == Some(1)
        },
    )
    .await;
    assert_eq!(
        receiver.turned_away(),
        2,
        "tried max_attempts times, then left alone"
    );
    receiver.set_up(true);
    let (replayed, said) = replay(&stack, &started).await;
    assert!(replayed, "{said}");
    check_deliveries(&receiver.accepted(), &expected);
    eventually(
        "the dashboard shows nothing set aside or waiting",
        Duration::from_secs(30),
        || async {
            let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
            status["webhooks"]["set_aside"].as_u64() == Some(0)
                && status["webhooks"]["pending"].as_u64() == Some(0)
        },
    )
    .await;
}
