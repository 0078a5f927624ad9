//! Ticket types and baskets against the real stack: each type's stock and per-user limit hold
//! under a 256-way rush, a basket is all or nothing, prices are fixed in the order, an event
//! without types sells as before, and a reload adds a type.

use std::sync::Arc;

use serde_json::json;

use crate::harness::token_and_buy_json as buy;
use crate::harness::{Stack, StackOptions, get};

const CATALOG: &str = r#"
[[events.ticket_types]]
id = "standing"
name = "Standing"
price_cents = 4900
stock = 30
per_user_limit = 2

[[events.ticket_types]]
id = "vip"
name = "VIP package"
price_cents = 19900
stock = 10
per_user_limit = 1
"#;

fn typed_stack() -> StackOptions {
    StackOptions {
        per_user_limit: 3,
        catalog: CATALOG.to_owned(),
        ..StackOptions::default()
    }
}

fn basket(lines: &[(&str, u32)]) -> serde_json::Value {
    let items: Vec<_> = lines
        .iter()
        .map(|(t, q)| json!({"ticket_type": t, "quantity": q}))
        .collect();
    json!({ "items": items })
}

#[tokio::test]
async fn a_basket_is_all_or_nothing_and_priced_as_reserved() {
    let stack = Stack::start(StackOptions {
        catalog: CATALOG.replace("stock = 10", "stock = 1"),
        ..typed_stack()
    })
    .await;
    let client = reqwest::Client::new();
    let (status, document) = get(&client, &stack, "/api/events/demo", "").await;
    assert_eq!(status, 200);
    let listed: Vec<&str> = document["ticket_types"]
        .as_array()
        .expect("ticket types")
        .iter()
        .map(|t| t["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, ["standing", "vip"]);
    assert_eq!(document["ticket_types"][1]["price_cents"], 19900);

    let (status, order) = buy(
        &client,
        &stack,
        "alice",
        basket(&[("vip", 1), ("standing", 2)]),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["total_cents"], 19900 + 2 * 4900);
    assert_eq!(
        order["items"][0],
        json!({"ticket_type": "vip", "quantity": 1, "unit_price_cents": 19900})
    );

    // The last VIP package is gone: a basket with one takes nothing, standing included.
    let (status, refused) = buy(
        &client,
        &stack,
        "bob",
        basket(&[("standing", 1), ("vip", 1)]),
    )
    .await;
    assert_eq!(
        (
            status,
            refused["code"].as_str(),
            refused["ticket_type"].as_str()
        ),
        (410, Some("sold_out"), Some("vip")),
        "{refused}"
    );
    assert_eq!(
        stack.seat_counter("t:standing:remaining").await,
        28,
        "bob's standing line took nothing"
    );
    let (status, refused) = buy(&client, &stack, "bob", basket(&[("standing", 3)])).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("limit_reached")),
        "over the type's limit: {refused}"
    );
    let (status, refused) = buy(&client, &stack, "bob", basket(&[("balcony", 1)])).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("unknown_ticket_type")),
        "{refused}"
    );
    let (status, refused) = buy(&client, &stack, "bob", json!({"quantity": 1})).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request")),
        "which type? {refused}"
    );
    let (status, refused) = buy(&client, &stack, "alice", basket(&[("standing", 1)])).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("already_bought")),
        "over the event's limit of 3: {refused}"
    );

    let id = order["order_id"].as_str().unwrap();
    let (status, shown) = get(
        &client,
        &stack,
        &format!("/api/orders/{id}"),
        &stack.session("alice"),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(shown["items"], order["items"]);
    assert_eq!(shown["quantity"], 3);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_type_stock_and_limits_hold_under_a_256_way_rush() {
    let stack = Arc::new(Stack::start(typed_stack()).await);
    let client = reqwest::Client::new();
    let mut buyers = Vec::new();
    for i in 0..256u32 {
        let (stack, client) = (stack.clone(), client.clone());
        buyers.push(tokio::spawn(async move {
            let lines: Vec<(&str, u32)> = match i % 4 {
                0 => vec![("vip", 1)],
                1 => vec![("standing", 2)],
                2 => vec![("standing", 1), ("vip", 1)],
                _ => vec![("standing", 2), ("vip", 1)],
            };
            // Two buys per fan at once (two tokens): the limits are contended too.
            let (status, body) =
                buy(&client, &stack, &format!("fan-{}", i / 2), basket(&lines)).await;
            assert!(
                status == 201
                    || (status == 410 && body["code"] == "sold_out")
                    || (status == 409
                        && (body["code"] == "limit_reached" || body["code"] == "already_bought")),
                "{status} {body}"
            );
            (status == 201).then_some(lines)
        }));
    }
    let mut sold = [0u32; 2];
    for buyer in buyers {
        if let Some(lines) = buyer.await.expect("buyer ran") {
            for (t, q) in lines {
                sold[usize::from(t == "vip")] += q;
            }
        }
    }
    assert!(sold[0] <= 30 && sold[1] <= 10, "oversold: {sold:?}");
    assert_eq!(sold[1], 10, "every VIP package went");
    for (t, stock, count) in [("standing", 30, sold[0]), ("vip", 10, sold[1])] {
        let remaining = stack.seat_counter(&format!("t:{t}:remaining")).await;
        let reserved = stack.seat_counter(&format!("t:{t}:reserved")).await;
        assert_eq!(remaining + reserved, stock, "{t}");
        assert_eq!(reserved, u64::from(count), "{t}: every 201 holds its seats");
    }
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn an_event_without_types_sells_its_one_general_type() {
    let stack = Stack::start(StackOptions {
        stock: 2,
        per_user_limit: 2,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (_, document) = get(&client, &stack, "/api/events/demo", "").await;
    assert_eq!(document["ticket_types"][0]["id"], "general");
    assert_eq!(document["ticket_types"][0]["stock"], 2);
    let (status, order) = buy(&client, &stack, "alice", json!({"quantity": 2})).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(
        order["items"],
        json!([{"ticket_type": "general", "quantity": 2, "unit_price_cents": 1000}])
    );
    assert_eq!(order["total_cents"], 2000);
    assert_eq!(stack.seat_counter("t:general:remaining").await, 0);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_reload_adds_a_type_and_keeps_the_prices_of_orders_made() {
    let mut stack = Stack::start(typed_stack()).await;
    let client = reqwest::Client::new();
    let (status, before) = buy(&client, &stack, "alice", basket(&[("standing", 1)])).await;
    assert_eq!(status, 201, "{before}");
    stack.rewrite_config(|o| {
        o.catalog = CATALOG.replace("price_cents = 4900", "price_cents = 5900")
            + "\n[[events.ticket_types]]\nid = \"balcony\"\nname = \"Balcony\"\nprice_cents = 2900\nstock = 5\n";
    });
    stack.reload_everything().await;
    let (status, added) = buy(
        &client,
        &stack,
        "bob",
        basket(&[("balcony", 2), ("standing", 1)]),
    )
    .await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(
        added["total_cents"],
        2 * 2900 + 5900,
        "the new price for a new order"
    );
    let id = before["order_id"].as_str().unwrap();
    let (_, shown) = get(
        &client,
        &stack,
        &format!("/api/orders/{id}"),
        &stack.session("alice"),
    )
    .await;
    assert_eq!(shown["total_cents"], 4900, "the price fixed when reserved");
    assert_eq!(stack.seat_counter("t:balcony:remaining").await, 3);
    assert_eq!(
        stack.seat_counter("total").await,
        45,
        "the event's stock grew by the new type's"
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn an_event_sold_before_types_hands_its_seats_to_general() {
    let mut stack = Stack::start(StackOptions {
        stock: 10,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    for user in ["u1", "u2", "u3"] {
        let (status, order) = buy(&client, &stack, user, json!({})).await;
        assert_eq!(status, 201, "{order}");
    }
    // As Redis was before ticket types: the event's counters and no type's.
    let mut redis = stack.redis().await;
    let _: () = redis::AsyncCommands::hdel(
        &mut redis,
        "{ev:demo}:seats",
        &[
            "t:general:total",
            "t:general:remaining",
            "t:general:reserved",
            "t:general:paid",
            "t:general:limit",
        ],
    )
    .await
    .expect("fields dropped");
    stack.rewrite_config(|o| {
        o.catalog = "[[events.ticket_types]]\nid = \"general\"\nname = \"General\"\nprice_cents = 1000\nstock = 10\n\
                     [[events.ticket_types]]\nid = \"vip\"\nname = \"VIP\"\nprice_cents = 5000\nstock = 5\n"
            .to_owned();
    });
    stack.reload_everything().await;
    assert_eq!(
        stack.seat_counter("t:general:remaining").await,
        7,
        "the seats sold stay sold"
    );
    assert_eq!(stack.seat_counter("t:general:reserved").await, 3);
    assert_eq!(stack.seat_counter("t:vip:remaining").await, 5);
    assert_eq!(stack.seat_counter("total").await, 15);
    assert_eq!(stack.seat_counter("remaining").await, 12);
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn a_basket_over_what_is_left_of_the_event_limit_is_limit_reached() {
    let stack = Stack::start(typed_stack()).await;
    let client = reqwest::Client::new();
    let (status, order) = buy(&client, &stack, "alice", basket(&[("standing", 2)])).await;
    assert_eq!(status, 201, "{order}");
    let (status, refused) = buy(
        &client,
        &stack,
        "alice",
        basket(&[("vip", 1), ("standing", 0)]),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request")),
        "a zero line: {refused}"
    );
    let (status, refused) = buy(
        &client,
        &stack,
        "alice",
        basket(&[("standing", 1), ("vip", 1)]),
    )
    .await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("limit_reached")),
        "two more would make four of the event's three: {refused}"
    );
    let (status, order) = buy(&client, &stack, "alice", basket(&[("vip", 1)])).await;
    assert_eq!(status, 201, "one more fits: {order}");
}
