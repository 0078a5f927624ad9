//! The stack on a real Redis Cluster of 3 primaries with a replica each: the whole order lifecycle
//! on both ledgers (and both token schemes: the classic one keeps its tokens in Redis), the
//! operator's view of the nodes, and a primary killed in the middle of a rush.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use tokio::time::Instant;

use crate::harness::{
    Database, RedisKind, Stack, StackOptions, eventually, patient_buy, post, token_and_buy,
};

const THREE_BY_ONE: RedisKind = RedisKind::Cluster {
    primaries: 3,
    replicas: 1,
};

async fn pay_cancel_expire_and_resell(database: Database, token_scheme: &'static str) {
    let stack = Stack::start(StackOptions {
        redis: THREE_BY_ONE,
        database,
        token_scheme,
        stock: 3,
        reservation_ttl: "1s",
        ..StackOptions::default()
    })
    .await;
    assert_eq!(
        stack.config.redis.replica_acks.min, 1,
        "a cluster waits for a replica by default"
    );
    // The operator sees every node, its role and health, and which events it holds.
    let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
    let nodes = status["redis"]["nodes"]
        .as_array()
        .expect("the Redis nodes")
        .clone();
    assert_eq!(nodes.len(), 6, "{status}");
    assert!(nodes.iter().all(|n| n["healthy"] == true), "{status}");
    let primaries: Vec<_> = nodes.iter().filter(|n| n["role"] == "primary").collect();
    assert_eq!(primaries.len(), 3, "{status}");
    let owner = stack
        .primary_of("{ev:demo}")
        .expect("demo's slot has a primary");
    let holder = primaries
        .iter()
        .find(|n| n["events"].as_array().unwrap().contains(&"demo".into()))
        .expect("a primary holds demo");
    assert_eq!(holder["address"], owner.to_string());
    let client = reqwest::Client::new();
    let mut orders = Vec::new();
    for user in ["alice", "bob", "carol"] {
        let (status, body) = token_and_buy(&client, &stack, user).await;
        assert_eq!(status, 201, "{body}");
        orders.push(body["order_id"].as_str().unwrap().to_owned());
    }
    let (status, _) = token_and_buy(&client, &stack, "dave").await;
    assert_eq!(status, 410, "sold out");
    let action = |i: usize, what: &'static str, user: &'static str| {
        let (client, stack, id) = (&client, &stack, orders[i].clone());
        async move {
            let path = format!("/api/orders/{id}/{what}");
            post(client, stack, &path, &stack.session(user)).await
        }
    };
    let (status, body) = action(0, "pay", "alice").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("paid")));
    let (status, body) = action(1, "cancel", "bob").await;
    assert_eq!((status, body["status"].as_str()), (200, Some("canceled")));
    // Carol never pays: her seat expires and, with Bob's, sells again.
    stack.wait_until_selling(2).await;
    for user in ["dave", "erin"] {
        let (status, body) = token_and_buy(&client, &stack, user).await;
        assert_eq!(status, 201, "{body}");
    }
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.redis_orders.get("canceled"), Some(&2));
    assert_eq!(report.database_orders.get("canceled"), Some(&2));
    assert_eq!(stack.seat_counter("expired").await, 1);
    assert_eq!(stack.seat_counter("canceled").await, 1);
    assert_eq!(stack.remaining().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lifecycle_runs_on_a_redis_cluster_with_sqlite() {
    pay_cancel_expire_and_resell(Database::Sqlite, "hmac-sha256").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_lifecycle_runs_on_a_redis_cluster_with_postgres_and_md5_tokens() {
    pay_cancel_expire_and_resell(Database::Postgres, "md5").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_primary_killed_mid_rush_fails_over_and_loses_no_accepted_order() {
    const BUYERS: usize = 2_000;
    const STOCK: u32 = 1_500;
    let stack = Stack::start(StackOptions {
        redis: THREE_BY_ONE,
        stock: STOCK,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let retries = AtomicUsize::new(0);
    let accepted = AtomicUsize::new(0);
    let killed_at: Mutex<Option<Instant>> = Mutex::new(None);
    let sales: Mutex<Vec<Instant>> = Mutex::new(Vec::new());
    let crowd = futures::stream::iter(0..BUYERS)
        .map(|i| {
            let (client, stack, retries, accepted) = (&client, &stack, &retries, &accepted);
            let sales = &sales;
            async move {
                let outcome = patient_buy(client, stack, &format!("buyer-{i}"), retries).await;
                if outcome.0 == 201 {
                    accepted.fetch_add(1, Ordering::Relaxed);
                    sales.lock().unwrap().push(Instant::now());
                }
                outcome
            }
        })
        .buffer_unordered(32)
        .collect::<Vec<_>>();
    // A fifth of the way in, the primary owning the event dies; its replica takes over, and the
    // dead node is brought back (as a supervisor would), rejoining as the new primary's replica,
    // so `WAIT 1` can be satisfied again.
    let retries_before = AtomicUsize::new(0);
    let failover = async {
        eventually(
            "a fifth of the seats sold",
            Duration::from_secs(120),
            || async { accepted.load(Ordering::Relaxed) >= STOCK as usize / 5 },
        )
        .await;
        let owner = stack
            .primary_of("{ev:demo}")
            .expect("the event's slot has a primary");
        retries_before.store(retries.load(Ordering::Relaxed), Ordering::Relaxed);
        stack.kill_redis_node(owner);
        *killed_at.lock().unwrap() = Some(Instant::now());
        eventually(
            "the replica taking over the event's slot",
            Duration::from_secs(60),
            || async {
                stack
                    .primary_of("{ev:demo}")
                    .is_some_and(|now| now != owner)
            },
        )
        .await;
        stack.restart_redis_node(owner);
        owner
    };
    let (outcomes, owner) = futures::join!(crowd, failover);
    stack.wait_cluster_healthy();
    assert_ne!(
        stack.primary_of("{ev:demo}"),
        Some(owner),
        "the replica took over"
    );

    let mut sold = HashSet::new();
    for (status, body) in &outcomes {
        match status {
            201 => assert!(sold.insert(body["order_id"].as_str().unwrap().to_owned())),
            410 => assert_eq!(body["code"], "sold_out", "{body}"),
            _ => panic!("a buyer ended with {status}: {body}"),
        }
    }
    assert_eq!(
        sold.len(),
        STOCK as usize,
        "every seat sold once, none twice"
    );
    let during = retries.load(Ordering::Relaxed) - retries_before.load(Ordering::Relaxed);
    let killed = killed_at.lock().unwrap().expect("the primary was killed");
    let mut sales = sales.into_inner().unwrap();
    sales.sort();
    // The pause: the longest stretch without a sale from the kill on.
    let pause = sales
        .windows(2)
        .filter(|w| w[1] > killed)
        .map(|w| w[1].duration_since(w[0].max(killed)))
        .max()
        .expect("seats sold after the kill");
    println!(
        "failover: {during} answers of 503 retried after the kill; selling paused {:.1} s",
        pause.as_secs_f64()
    );
    assert!(
        during > 0,
        "the failover was felt: buys were refused 503 and retried"
    );
    let rows = stack.orders_reaching(STOCK as usize).await;
    let in_db: HashSet<String> = rows.iter().map(|r| r.order_id.clone()).collect();
    assert_eq!(
        in_db, sold,
        "every 201's order is in the database, and nothing else"
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(stack.remaining().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_origin_refuses_a_cluster_whose_replicas_can_never_acknowledge() {
    let stack = Stack::prepare(StackOptions {
        redis: RedisKind::Cluster {
            primaries: 3,
            replicas: 0,
        },
        ..StackOptions::default()
    })
    .await;
    assert_eq!(stack.config.redis.replica_acks.min, 1);
    let log = stack.origin_refusing_to_start(0);
    assert!(
        log.contains("redis.min_replica_acks can never be met")
            && log.contains("has 0 of 1 replicas"),
        "{log}"
    );
}
