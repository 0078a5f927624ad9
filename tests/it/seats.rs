//! Reserved seating against the real stack (the sample hall: 60 seats of `cat1` in rows 1-3 of
//! sections A and B, 60 of `cat2` in rows 4-6): one seat and 200 buyers, best available side by
//! side, picked seats in two categories all or nothing, holds that expire and sell again, the
//! map the edge serves, and reconcile catching a seat taken without its order.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use crate::harness::token_and_buy_json as buy;
use crate::harness::{Stack, StackOptions, eventually, get, post};

fn hall() -> String {
    format!("{}/config/venues/hall.json", env!("CARGO_MANIFEST_DIR"))
}

/// The demo event selling the sample hall, reservations held for `reservation_ttl`.
pub fn seated(reservation_ttl: &'static str) -> StackOptions {
    StackOptions {
        per_user_limit: 6,
        reservation_ttl,
        catalog: format!(
            r#"venue = "{}"

[[events.ticket_types]]
id = "cat1"
name = "Category 1"
price_cents = 8900

[[events.ticket_types]]
id = "cat2"
name = "Category 2"
price_cents = 5900
"#,
            hall()
        ),
        ..StackOptions::default()
    }
}

/// The seats the edge's map shows taken, by id.
async fn taken_on_map(client: &reqwest::Client, stack: &Stack) -> Vec<String> {
    let (status, venue) = get(client, stack, "/api/venues/hall", "").await;
    assert_eq!(status, 200, "{venue}");
    let (status, map) = get(client, stack, "/api/events/demo/seats", "").await;
    assert_eq!(status, 200, "{map}");
    assert_eq!(map["venue"], "hall");
    let bits = base64::engine::general_purpose::STANDARD
        .decode(map["taken"].as_str().expect("taken"))
        .expect("base64");
    let ids = venue["sections"]
        .as_array()
        .expect("sections")
        .iter()
        .flat_map(|s| s["rows"].as_array().expect("rows").iter())
        .flat_map(|r| r["seats"].as_array().expect("seats").iter())
        .map(|s| s["id"].as_str().expect("id").to_owned());
    ids.enumerate()
        .filter(|(i, _)| bits.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0))
        .map(|(_, id)| id)
        .collect()
}

async fn map_shows(client: &reqwest::Client, stack: &Stack, mut expected: Vec<String>) {
    expected.sort();
    eventually("the map shows the seats", Duration::from_secs(10), || {
        let expected = expected.clone();
        async move {
            let mut shown = taken_on_map(client, stack).await;
            shown.sort();
            shown == expected
        }
    })
    .await;
}

/// Moves `order`'s payment deadline to the past, as time would: the sweeper then expires it as
/// it expires any unpaid reservation (a hold of minutes, not seconds, keeps a loaded machine from
/// expiring it before the test looked).
async fn deadline_passes(stack: &Stack, order: &serde_json::Value) {
    let id = order["order_id"].as_str().expect("order id");
    let deadlines =
        sale::redis_keys::EventKeys::new(&sale::EventId::parse("demo").unwrap()).deadlines;
    let moved: u8 = redis::cmd("ZADD")
        .arg(&deadlines)
        .arg("XX")
        .arg("CH")
        .arg(0)
        .arg(id)
        .query_async(&mut stack.redis().await)
        .await
        .expect("zadd");
    assert_eq!(moved, 1, "{id} was waiting for payment");
}

fn seats_of(order: &serde_json::Value) -> Vec<String> {
    order["seats"]
        .as_array()
        .expect("seats")
        .iter()
        .map(|s| s.as_str().expect("seat id").to_owned())
        .collect()
}

#[tokio::test]
async fn two_hundred_buyers_for_one_seat_make_one_order() {
    let stack = Arc::new(Stack::start(seated("10m")).await);
    let client = reqwest::Client::new();
    let mut buyers = Vec::new();
    for i in 0..200 {
        let (stack, client) = (stack.clone(), client.clone());
        buyers.push(tokio::spawn(async move {
            buy(
                &client,
                &stack,
                &format!("fan-{i}"),
                json!({"seats": ["A-1-5"]}),
            )
            .await
        }));
    }
    let mut winners = Vec::new();
    for buyer in buyers {
        let (status, body) = buyer.await.expect("buyer ran");
        match status {
            201 => winners.push(body),
            409 => {
                assert_eq!(body["code"], "seat_taken", "{body}");
                assert_eq!(body["seats"], json!(["A-1-5"]), "{body}");
            }
            _ => panic!("{status} {body}"),
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(seats_of(&winners[0]), ["A-1-5"]);
    assert_eq!(winners[0]["items"][0]["ticket_type"], "cat1");
    map_shows(&client, &stack, vec!["A-1-5".into()]).await;
    // The operator's dashboard draws the same map row by row.
    let (status, admin) = stack.admin(reqwest::Method::GET, "/admin/status").await;
    assert_eq!(status, 200);
    let demo = admin["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|e| e["id"] == "demo")
        .expect("demo");
    assert_eq!(demo["seat_rows"][0]["id"], "A-1");
    assert_eq!(demo["seat_rows"][0]["taken"], "0000100000");
    assert_eq!(demo["seat_rows"].as_array().expect("rows").len(), 12);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn best_available_seats_sit_together_and_picked_baskets_are_all_or_nothing() {
    let stack = Stack::start(seated("10m")).await;
    let client = reqwest::Client::new();
    // The hall's focus is between the sections' first rows: the best four of cat1 are the four
    // nearest it in one row, A-1 or B-1.
    let (status, order) = buy(
        &client,
        &stack,
        "ann",
        json!({"items": [{"ticket_type": "cat1", "quantity": 4}], "together": true}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let best = seats_of(&order);
    assert!(
        best == ["A-1-7", "A-1-8", "A-1-9", "A-1-10"]
            || best == ["B-1-1", "B-1-2", "B-1-3", "B-1-4"],
        "{best:?}"
    );
    assert_eq!(order["total_cents"], 4 * 8900);

    // A basket of picked seats in two categories, one of them held: nothing is taken.
    let (status, held) = buy(&client, &stack, "bob", json!({"seats": ["A-4-1"]})).await;
    assert_eq!(status, 201, "{held}");
    let (status, refused) = buy(
        &client,
        &stack,
        "cat",
        json!({"seats": ["A-2-1", "A-4-1", "A-4-2"]}),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("seat_taken"))
    );
    assert_eq!(refused["seats"], json!(["A-4-1"]));
    let (status, order) = buy(&client, &stack, "cat", json!({"seats": ["A-2-1", "A-4-2"]})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(seats_of(&order), ["A-2-1", "A-4-2"]);
    assert_eq!(order["total_cents"], 8900 + 5900);

    // Unknown seats and impossible groups are named.
    let (status, refused) = buy(&client, &stack, "dan", json!({"seats": ["Z-9-9"]})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("unknown_seat"))
    );
    let mut expected = best.clone();
    expected.extend(["A-4-1".into(), "A-2-1".into(), "A-4-2".into()]);
    map_shows(&client, &stack, expected).await;
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn no_row_with_enough_seats_together_is_not_together_unless_split_is_allowed() {
    let stack = Stack::start(seated("10m")).await;
    let client = reqwest::Client::new();
    // Leave every cat2 row with at most two free seats side by side: buyers take seats 1-2,
    // 4-5 and 7-8 of each of the six rows (3 and 6 and 9-10 stay free).
    let mut n = 0;
    for section in ["A", "B"] {
        for row in 4..=6 {
            for first in [1, 4, 7] {
                let seats = [
                    format!("{section}-{row}-{first}"),
                    format!("{section}-{row}-{}", first + 1),
                ];
                let (status, body) = buy(
                    &client,
                    &stack,
                    &format!("filler-{n}"),
                    json!({"seats": seats}),
                )
                .await;
                assert_eq!(status, 201, "{body}");
                n += 1;
            }
        }
    }
    let three = json!({"items": [{"ticket_type": "cat2", "quantity": 3}]});
    let (status, refused) = buy(&client, &stack, "eve", three).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("not_together"))
    );
    assert_eq!(refused["ticket_type"], "cat2");
    let split = json!({"items": [{"ticket_type": "cat2", "quantity": 3}], "together": false});
    let (status, order) = buy(&client, &stack, "eve", split).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(seats_of(&order).len(), 3);
    // A pair still fits together: in a row's 9-10, which strands nothing (3 and 6 are alone
    // already).
    let pair = json!({"items": [{"ticket_type": "cat2", "quantity": 2}]});
    let (status, order) = buy(&client, &stack, "fay", pair).await;
    assert_eq!(status, 201, "{order}");
    let seats = seats_of(&order);
    assert!(
        seats[0].ends_with("-9") && seats[1].ends_with("-10"),
        "{seats:?}"
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn holds_free_their_seats_on_cancel_and_expiry_and_the_seats_sell_again() {
    let stack = Stack::start(seated("10m")).await;
    let client = reqwest::Client::new();
    let pair = json!({"seats": ["B-2-3", "B-2-4"]});
    let (status, order) = buy(&client, &stack, "gus", pair.clone()).await;
    assert_eq!(status, 201, "{order}");
    let (status, canceled) = post(
        &client,
        &stack,
        &format!("/api/orders/{}/cancel", order["order_id"].as_str().unwrap()),
        &stack.session("gus"),
    )
    .await;
    assert_eq!(
        (status, canceled["status"].as_str()),
        (200, Some("canceled"))
    );
    map_shows(&client, &stack, Vec::new()).await;

    let (status, order) = buy(&client, &stack, "hal", pair.clone()).await;
    assert_eq!(status, 201, "{order}");
    map_shows(&client, &stack, vec!["B-2-3".into(), "B-2-4".into()]).await;
    // Unpaid, the hold runs out and the map shows the seats free again.
    deadline_passes(&stack, &order).await;
    map_shows(&client, &stack, Vec::new()).await;
    let (status, order) = buy(&client, &stack, "ivy", pair).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(seats_of(&order), ["B-2-3", "B-2-4"]);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.redis_orders.get("canceled"), Some(&2));
}

#[tokio::test]
async fn reconcile_catches_a_seat_taken_without_its_order() {
    let stack = Stack::start(seated("10m")).await;
    let client = reqwest::Client::new();
    let (status, order) = buy(&client, &stack, "joe", json!({"seats": ["A-3-3"]})).await;
    assert_eq!(status, 201, "{order}");
    assert!(stack.reconcile().await.is_clean());
    // Someone writes a bit by hand: a seat gone from sale with nobody holding it.
    let event = stack.config.event("demo").expect("demo");
    let map = event.venue.as_deref().expect("seated");
    let (bit, _) = map.bit("B-5-5").expect("seat");
    let key = sale::redis_keys::EventKeys::new(&event.id).seat_map;
    let _: u8 = redis::cmd("SETBIT")
        .arg(&key)
        .arg(bit)
        .arg(1)
        .query_async(&mut stack.redis().await)
        .await
        .expect("setbit");
    let report = stack.reconcile().await;
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("seat B-5-5 is taken on the map without a live order")),
        "{report}"
    );
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("category cat2: 1 seats taken on the map but reserved 0 + paid 0")),
        "{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seats_sell_on_a_redis_cluster_and_the_edge_maps_them() {
    let stack = Stack::start(StackOptions {
        redis: crate::harness::RedisKind::Cluster {
            primaries: 3,
            replicas: 1,
        },
        ..seated("10m")
    })
    .await;
    let client = reqwest::Client::new();
    let (status, order) = buy(
        &client,
        &stack,
        "kim",
        json!({"items": [{"ticket_type": "cat2", "quantity": 3}]}),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let held = seats_of(&order);
    let (status, refused) = buy(&client, &stack, "lee", json!({"seats": [held[1].clone()]})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("seat_taken"))
    );
    map_shows(&client, &stack, held.clone()).await;
    // Unpaid, the hold runs out on the cluster too, and the seats sell again.
    deadline_passes(&stack, &order).await;
    map_shows(&client, &stack, Vec::new()).await;
    let (status, order) = buy(&client, &stack, "lee", json!({"seats": [held[1].clone()]})).await;
    assert_eq!(status, 201, "{order}");
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_lost_seat_id_entry_is_written_again_and_the_seat_sells() {
    let stack = Stack::start(seated("10m")).await;
    let client = reqwest::Client::new();
    // The bit -> id table is written outside the scripts; lose one entry, as a failover before
    // it reached a replica could.
    let event = stack.config.event("demo").expect("demo");
    let map = event.venue.as_deref().expect("seated");
    let (bit, _) = map.bit("B-6-10").expect("seat");
    let keys = sale::redis_keys::EventKeys::new(&event.id);
    let removed: u8 = redis::AsyncCommands::hdel(
        &mut stack.redis().await,
        keys.seat_ids(&map.fingerprint),
        bit,
    )
    .await
    .expect("hdel");
    assert_eq!(removed, 1);
    let (status, order) = buy(&client, &stack, "max", json!({"seats": ["B-6-10"]})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(seats_of(&order), ["B-6-10"]);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}
