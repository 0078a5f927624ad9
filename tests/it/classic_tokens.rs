//! The classic md5 token scheme, as an option: tokens live in Redis, bound to user and event,
//! buying once (a retry of the link gets the same order), and refused when missing or wrong.

use redis::AsyncCommands;
use sale::EventId;
use sale::redis_keys::EventKeys;

use crate::harness::{Stack, StackOptions, fetch_token, post};

#[tokio::test]
async fn md5_tokens_buy_once_for_their_user_only() {
    let stack = Stack::start(StackOptions {
        token_scheme: "md5",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (alice, bob) = (stack.session("alice"), stack.session("bob"));
    let (status, token) = fetch_token(&client, &stack, &alice).await;
    assert_eq!(status, 200, "{token}");
    let alices = token["token"].as_str().unwrap().to_owned();
    assert_eq!(alices.len(), 32, "an md5 in hex");
    let (status, _) = fetch_token(&client, &stack, &bob).await;
    assert_eq!(status, 200);

    let url = format!("/api/events/demo/buy/{alices}");
    let (status, body) = post(&client, &stack, &url, &bob).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("bad_token")),
        "alice's token is not bob's"
    );
    let (status, body) = post(&client, &stack, "/api/events/demo/buy/not-an-md5", &alice).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("bad_token")));

    let (status, first) = post(&client, &stack, &url, &alice).await;
    assert_eq!(status, 201, "{first}");
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"]),
        (201, &first["order_id"]),
        "a retried link gets the same order"
    );

    // Once the stored token has lapsed (its Redis key expired), it no longer buys.
    let (_, token) = fetch_token(&client, &stack, &stack.session("carol")).await;
    let carols = token["token"].as_str().unwrap().to_owned();
    let key = EventKeys::new(&EventId::parse("demo").unwrap()).stored_token("carol");
    let _: () = stack.redis().await.del(key).await.unwrap();
    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/events/demo/buy/{carols}"),
        &stack.session("carol"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("token_expired"))
    );

    assert_eq!(stack.orders_reaching(1).await.len(), 1);
    assert_eq!(
        stack.origin_traffic().await,
        2,
        "only the one good buy and its retry (answered as the order stands) reached an origin"
    );
}

#[tokio::test]
async fn an_md5_link_returns_its_order_to_its_buyer_only_even_once_replaced() {
    let mut stack = Stack::start(StackOptions {
        token_scheme: "md5",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (alice, bob) = (stack.session("alice"), stack.session("bob"));
    let (_, token) = fetch_token(&client, &stack, &alice).await;
    let url = token["buy_url"].as_str().unwrap().to_owned();
    let (status, order) = post(&client, &stack, &url, &alice).await;
    assert_eq!(status, 201, "{order}");

    // Somebody else holding alice's link gets nothing of hers, from this edge's memory or
    // (after a restart, memory gone) from an origin.
    let (status, body) = post(&client, &stack, &url, &bob).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("wrong_user")),
        "{body}"
    );
    stack.restart_edge();
    let client = reqwest::Client::new();
    let (status, body) = post(&client, &stack, &url, &bob).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("wrong_user")),
        "{body}"
    );

    // Asking for a new link replaces the stored token; the old link still returns the order.
    let (status, _) = fetch_token(&client, &stack, &alice).await;
    assert_eq!(status, 200);
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"]),
        (201, &order["order_id"]),
        "{again}"
    );
    // And once it has lapsed in Redis too.
    let key = EventKeys::new(&EventId::parse("demo").unwrap()).stored_token("alice");
    let _: () = stack.redis().await.del(key).await.unwrap();
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"]),
        (201, &order["order_id"]),
        "{again}"
    );
    assert_eq!(stack.orders_reaching(1).await.len(), 1);
}

#[tokio::test]
async fn md5_junk_tokens_spend_no_origin_rate() {
    let stack = Stack::start(StackOptions {
        token_scheme: "md5",
        limits: r#"{ per_user = { rate = "100000/s" }, per_ip = { rate = "1000000/s" }, origin_rate = { rate = "1/m", burst = 1 } }"#,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    // Junk of the right shape is refused by the Redis lookup, before the origin rate.
    for i in 0..5 {
        let junk = format!("/api/events/demo/buy/{i:032x}");
        let (status, body) = post(&client, &stack, &junk, &alice).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (403, Some("token_expired")),
            "{body}"
        );
    }
    let (status, token) = fetch_token(&client, &stack, &alice).await;
    assert_eq!(status, 200, "{token}");
    let url = format!("/api/events/demo/buy/{}", token["token"].as_str().unwrap());
    let (status, body) = post(&client, &stack, &url, &alice).await;
    assert_eq!(status, 201, "the one forward went to the real buy: {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn md5_tokens_work_again_after_a_redis_restart_without_restarting_the_edge() {
    let stack = Stack::start(StackOptions {
        token_scheme: "md5",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (status, body) = crate::harness::token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201, "{body}");
    stack.kill_redis();
    stack.start_redis_again();
    let retries = std::sync::atomic::AtomicUsize::new(0);
    let (status, body) = crate::harness::patient_buy(&client, &stack, "bob", &retries).await;
    assert_eq!(status, 201, "{body}");
}
