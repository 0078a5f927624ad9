//! Acknowledged means replicated: with `redis.min_replica_acks = 1` and no replica in sync, a buy
//! is answered 503 (never a 201 that one node alone holds), and the same link retried once a
//! replica holds the change returns that very order.

use std::time::Duration;

use flashgate::stack::RedisServer;

use crate::harness::{Stack, StackOptions, eventually, fetch_token, post};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buy_no_replica_confirmed_is_503_and_its_retry_returns_the_order() {
    let stack = Stack::start(StackOptions {
        redis_options: "min_replica_acks = 1",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let session = stack.session("alice");
    let (status, token) = fetch_token(&client, &stack, &session).await;
    assert_eq!(status, 200, "{token}");
    let buy_url = token["buy_url"].as_str().unwrap().to_owned();

    let response = client
        .post(stack.url(&buy_url))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "unavailable");
    // The seat is held all the same: the outcome was unknown, not "nothing happened".
    assert_eq!(stack.seat_counter("reserved").await, 1);
    // The origin says why, without looking dead to the edge.
    let health = origin_health(&client, &stack).await;
    assert_eq!(health.0, 200);
    assert!(
        health
            .1
            .contains("replicas missing: redis has 0 of 1 replicas"),
        "{health:?}"
    );

    // A replica joins and catches up; the retried link finds its order, now replicated.
    let replica = start_replica(&stack).await;
    // Retried like the page does, until the replica confirms in time.
    let retried = std::sync::Mutex::new(serde_json::Value::Null);
    eventually(
        "the retried link answered 201",
        Duration::from_secs(20),
        || async {
            let (status, body) = post(&client, &stack, &buy_url, &session).await;
            assert!(status == 201 || status == 503, "{status}: {body}");
            *retried.lock().unwrap() = body;
            status == 201
        },
    )
    .await;
    let retried = retried.into_inner().unwrap();
    assert_eq!(
        origin_health(&client, &stack).await,
        (200, "ok 1".to_owned())
    );
    assert_eq!(
        stack.seat_counter("reserved").await,
        1,
        "one seat, one order"
    );
    let rows = stack.orders_reaching(1).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(retried["order_id"], rows[0].order_id.as_str());
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    drop(replica);
}

async fn origin_health(client: &reqwest::Client, stack: &Stack) -> (u16, String) {
    let response = client
        .get(format!("http://{}/healthz", stack.origin_addrs[0]))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

/// Starts a replica of the stack's one Redis and waits until it is in sync.
async fn start_replica(stack: &Stack) -> RedisServer {
    let primary = match &stack.config.redis.target {
        sale::config::RedisTarget::Node(url) => {
            url.expose().trim_start_matches("redis://").to_owned()
        }
        sale::config::RedisTarget::Cluster(_) => unreachable!("one server"),
    };
    let (host, port) = primary.split_once(':').unwrap();
    let replica = tokio::task::block_in_place(|| {
        RedisServer::start(
            "redis-server",
            crate::harness::free_addr(),
            &stack.scratch("replica"),
        )
        .expect("the replica starts")
    });
    let mut con = redis::Client::open(replica.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let _: () = redis::cmd("REPLICAOF")
        .arg(host)
        .arg(port)
        .query_async(&mut con)
        .await
        .unwrap();
    eventually("the replica in sync", Duration::from_secs(20), || async {
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut stack.redis().await)
            .await
            .unwrap();
        info.contains("state=online")
    })
    .await;
    replica
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_room_publishes_and_places_only_what_replicas_hold() {
    let stack = Stack::start(StackOptions {
        redis_options: "min_replica_acks = 1",
        queue: crate::harness::room::ROOM,
        starts: "+1h",
        ends: "+2h",
        ..StackOptions::default()
    })
    .await;
    let fairness =
        || async { crate::harness::room::fairness(&stack, "demo").await["commitment"].clone() };
    // The pre-queue is open, but with no replica to hold the seed nothing is published and
    // nobody is given a place a failover could take back.
    let (status, body) = crate::harness::room::try_join(&stack, "alice").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("unavailable")),
        "{body}"
    );
    assert_eq!(fairness().await, serde_json::Value::Null);

    let replica = start_replica(&stack).await;
    eventually(
        "the commitment published",
        Duration::from_secs(20),
        || async { fairness().await.is_string() },
    )
    .await;
    // Joined as a client does (a 503 while a replica is slow to confirm is retried); joining
    // again returns the same place.
    let joined = crate::harness::room::join(&stack, "alice").await;
    assert_eq!(joined["state"], "pre_queue", "{joined}");
    let again = crate::harness::room::join(&stack, "alice").await;
    assert_eq!(again["entrant"], joined["entrant"], "the same place");
    drop(replica);
}
