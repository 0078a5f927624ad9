//! The ledger on both databases: idempotent, version-ordered writes, a consumer killed in the
//! middle of draining a backlog loses nothing and writes nothing twice, and an entry that cannot
//! be written is set aside instead of stalling the orders behind it.
//!
//! Over 400 lines because each failure of the ledger has its own test on a real stream.

use std::collections::HashSet;

use futures::StreamExt;
use origin::ledger::OrderChange;
use origin::stock::{Attempt, Reservation, StockEngine};
use redis::AsyncCommands;
use redis::streams::StreamRangeReply;
use sale::UserId;
use sale::redis_keys::EventKeys;
use sale::replication::Replication;

use crate::harness::{Database, Stack, StackOptions};

/// One seat of the event's only type.
fn one_seat() -> Vec<sale::basket::OrderItem> {
    vec![sale::basket::OrderItem {
        ticket_type: "general".into(),
        quantity: 1,
        unit_price_cents: 4900,
    }]
}

fn change(order: &str, user: &str, status: &str, version: i64) -> OrderChange {
    OrderChange {
        order_id: order.into(),
        event_id: "demo".into(),
        user_id: user.into(),
        quantity: 1,
        status: sale::OrderStatus::parse(status).unwrap(),
        pay_by_ms: 10,
        version,
        at_ms: 1,
        reason: String::new(),
        total_cents: 4900,
        items: Vec::new(),
        seats: Vec::new(),
    }
}

/// Redis and a config for one origin (not started yet), with `demo` seeded through the origin's
/// own engine.
async fn one_origin_seeded() -> (Stack, StockEngine, sale::config::EventConfig) {
    let stack = Stack::prepare(StackOptions {
        weights: vec![1],
        ..StackOptions::default()
    })
    .await;
    let (engine, event) = seeded_engine(&stack).await;
    (stack, engine, event)
}

/// The origin's own engine on `stack`'s Redis, with `demo` seeded through it.
async fn seeded_engine(stack: &Stack) -> (StockEngine, sale::config::EventConfig) {
    let replication = Replication::new(stack.config.redis.replica_acks);
    let engine = StockEngine::new(stack.redis().await, replication);
    let event = stack.config.event("demo").unwrap().clone();
    engine.seed(&event).await.unwrap();
    (engine, event)
}

/// Reserves one seat for buyer `i` through the origin's own script, as a buy would.
async fn reserve(engine: &StockEngine, event: &sale::config::EventConfig, i: usize) {
    let user = UserId::parse(&format!("u{i}")).unwrap();
    let reply = engine
        .reserve(
            event,
            &user,
            Attempt::Buy {
                items: &one_seat(),
                code: "",
                seats: &sale::basket::Seats::Unseated,
            },
            &format!("nonce-{i}"),
        )
        .await
        .unwrap();
    assert!(matches!(reply, Reservation::Reserved { .. }), "{reply:?}");
}

async fn writes_are_idempotent_and_ordered(database: Database) {
    let stack = Stack::prepare(StackOptions {
        database,
        ..StackOptions::default()
    })
    .await;
    let store = stack.store().await;
    let reserved = change("demo.1", "alice", "reserved", 1);
    store.apply(std::slice::from_ref(&reserved)).await.unwrap();
    store.apply(std::slice::from_ref(&reserved)).await.unwrap();
    store
        .apply_one(&change("demo.1", "alice", "paid", 2))
        .await
        .unwrap();
    store.apply_one(&reserved).await.unwrap();
    let rows = store.orders("demo").await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].status.as_str(), rows[0].version), ("paid", 2));
    // Every accepted order has its row: how many seats a user may hold is Redis's rule (kept
    // atomically by the script, checked by reconcile), not one live row per user.
    store
        .apply_one(&change("demo.2", "alice", "reserved", 1))
        .await
        .unwrap();
    assert_eq!(store.orders("demo").await.unwrap().len(), 2);
}

#[tokio::test]
async fn sqlite_writes_are_idempotent_and_ordered() {
    writes_are_idempotent_and_ordered(Database::Sqlite).await;
}

#[tokio::test]
async fn postgres_writes_are_idempotent_and_ordered() {
    writes_are_idempotent_and_ordered(Database::Postgres).await;
}

const BACKLOG: usize = 30_000;

async fn a_consumer_killed_mid_drain_loses_and_duplicates_nothing(database: Database) {
    let mut stack = Stack::prepare(StackOptions {
        weights: vec![1],
        stock: BACKLOG as u32,
        database,
        ..StackOptions::default()
    })
    .await;

    // Fill the stream while no consumer runs: reserve through the same script the origin uses.
    let (engine, _) = seeded_engine(&stack).await;
    let (engine, event) = (engine, stack.config.event("demo").unwrap().clone());
    let reserved: usize = futures::stream::iter(0..BACKLOG)
        .map(|i| {
            let engine = engine.clone();
            let event = event.clone();
            async move {
                let user = UserId::parse(&format!("u{i}")).unwrap();
                let reply = engine
                    .reserve(
                        &event,
                        &user,
                        Attempt::Buy {
                            items: &one_seat(),
                            code: "",
                            seats: &sale::basket::Seats::Unseated,
                        },
                        &format!("nonce-{i}"),
                    )
                    .await
                    .unwrap();
                usize::from(matches!(reply, Reservation::Reserved { .. }))
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .sum();
    assert_eq!(reserved, BACKLOG);

    stack.start_origin(0);
    let store = stack.store().await;
    crate::harness::eventually(
        "the first rows written",
        std::time::Duration::from_secs(30),
        || async { !store.orders("demo").await.unwrap().is_empty() },
    )
    .await;
    stack.kill_origin(0);
    let at_kill = store.orders("demo").await.unwrap().len();
    assert!(
        at_kill < BACKLOG,
        "the backlog drained before the kill; make it larger"
    );

    stack.start_origin(0);
    let rows = stack.orders_reaching(BACKLOG).await;
    assert_eq!(rows.len(), BACKLOG);
    let ids: HashSet<&str> = rows.iter().map(|r| r.order_id.as_str()).collect();
    assert_eq!(ids.len(), BACKLOG, "every order exactly once");
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_consumer_killed_mid_drain_loses_and_duplicates_nothing() {
    a_consumer_killed_mid_drain_loses_and_duplicates_nothing(Database::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_consumer_killed_mid_drain_loses_and_duplicates_nothing() {
    a_consumer_killed_mid_drain_loses_and_duplicates_nothing(Database::Postgres).await;
}

#[tokio::test]
async fn an_unreadable_entry_is_set_aside_and_the_orders_around_it_are_written() {
    let (mut stack, engine, event) = one_origin_seeded().await;
    // One entry no script would write, between real orders, all in the consumer's first batch.
    reserve(&engine, &event, 0).await;
    reserve(&engine, &event, 1).await;
    let keys = EventKeys::new(&event.id);
    let _: String = stack
        .redis()
        .await
        .xadd(
            &keys.stream,
            "*",
            &[("order", "demo.junk"), ("qty", "lots")],
        )
        .await
        .unwrap();
    reserve(&engine, &event, 2).await;
    reserve(&engine, &event, 3).await;

    stack.start_origin(0);
    let rows = stack.orders_reaching(4).await;
    assert_eq!(rows.len(), 4);

    let report = stack.reconcile().await;
    assert_eq!(
        report.ledger_backlog, 0,
        "the bad entry does not stay pending"
    );
    assert_eq!(report.dead_letters, 1);
    assert_eq!(report.problems.len(), 1, "{report}");
    assert!(report.problems[0].contains("set aside"), "{report}");
    let dead: StreamRangeReply = stack
        .redis()
        .await
        .xrange_all(&keys.dead_letters)
        .await
        .unwrap();
    let entry = &dead.ids[0];
    assert_eq!(
        entry.get::<String>("original.order").as_deref(),
        Some("demo.junk")
    );
    assert!(
        entry
            .get::<String>("problem")
            .unwrap()
            .contains("has no user")
    );
    assert_eq!(stack.origin_dead_letters(0).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_the_database_keeps_refusing_is_set_aside_and_the_orders_behind_it_flow() {
    let (mut stack, engine, event) = one_origin_seeded().await;
    stack.store().await;
    let sale::config::DatabaseUrl::Sqlite(path) = &stack.config.origin.database_url else {
        panic!("the default test database is SQLite");
    };
    // A row this database will never take, whatever the consumer does.
    let mut db = <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!(
        "sqlite://{}",
        path.display()
    ))
    .await
    .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_poison BEFORE INSERT ON orders WHEN NEW.order_id = 'demo.poison'
         BEGIN SELECT RAISE(ABORT, 'poison'); END",
    )
    .execute(&mut db)
    .await
    .unwrap();
    let keys = EventKeys::new(&event.id);
    let poison = [
        ("order", "demo.poison"),
        ("user", "mallory"),
        ("qty", "1"),
        ("status", "reserved"),
        ("pay_by", "10"),
        ("version", "1"),
        ("at", "1"),
    ];
    let _: String = stack
        .redis()
        .await
        .xadd(&keys.stream, "*", &poison)
        .await
        .unwrap();
    for i in 0..3 {
        reserve(&engine, &event, i).await;
    }

    stack.start_origin(0);
    assert_eq!(stack.orders_reaching(3).await.len(), 3);
    crate::harness::eventually(
        "the refused row set aside",
        std::time::Duration::from_secs(30),
        || async { stack.origin_dead_letters(0).await == 1 },
    )
    .await;
    let report = stack.reconcile().await;
    assert_eq!(report.ledger_backlog, 0, "nothing stays pending");
    assert_eq!(report.dead_letters, 1, "{report}");
    let dead: StreamRangeReply = stack
        .redis()
        .await
        .xrange_all(&keys.dead_letters)
        .await
        .unwrap();
    let problem = dead.ids[0].get::<String>("problem").unwrap();
    assert!(problem.contains("poison"), "{problem}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_is_trimmed_of_what_the_ledger_acknowledged_and_nothing_pending() {
    let (mut stack, engine, event) = one_origin_seeded().await;
    let keys = EventKeys::new(&event.id);
    let mut redis = stack.redis().await;
    // Ten entries the group starts after (never needed by it), then one that stays pending on a
    // consumer that never comes back, then ten for the ledger.
    for i in 0..10 {
        reserve(&engine, &event, i).await;
    }
    let _: () = redis::cmd("XGROUP")
        .arg("CREATE")
        .arg(&keys.stream)
        .arg(origin::ledger::consumer::GROUP)
        .arg("$")
        .query_async(&mut redis)
        .await
        .unwrap();
    reserve(&engine, &event, 10).await;
    let options = redis::streams::StreamReadOptions::default()
        .group(origin::ledger::consumer::GROUP, "gone")
        .count(1);
    let taken: redis::streams::StreamReadReply = redis
        .xread_options(&[&keys.stream], &[">"], &options)
        .await
        .unwrap();
    let pending_id = taken.keys[0].ids[0].id.clone();
    // A live consumer claims an entry idle for 15 s; the gone consumer keeps its entry fresh
    // (XCLAIM to itself, idle back to 0) until the check below, so it is pending then for sure.
    let keep_pending = tokio::spawn({
        let (mut redis, stream, id) = (redis.clone(), keys.stream.clone(), pending_id.clone());
        async move {
            for _ in 0..120 {
                let _: redis::Value = redis::cmd("XCLAIM")
                    .arg(&stream)
                    .arg(origin::ledger::consumer::GROUP)
                    .arg("gone")
                    .arg(0)
                    .arg(&id)
                    .arg("JUSTID")
                    .query_async(&mut redis)
                    .await
                    .unwrap();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    });
    for i in 11..21 {
        reserve(&engine, &event, i).await;
    }

    stack.start_origin(0);
    stack.orders_reaching(10).await;
    crate::harness::eventually(
        "the entries nobody needs trimmed",
        std::time::Duration::from_secs(30),
        || {
            let mut redis = redis.clone();
            let stream = keys.stream.clone();
            async move { redis.xlen::<_, usize>(&stream).await.unwrap() <= 11 }
        },
    )
    .await;
    // Read in one step: the entry is pending, so it (and everything after it) is still in the
    // stream.
    let (pending, first): (redis::streams::StreamPendingCountReply, StreamRangeReply) =
        redis::pipe()
            .atomic()
            .cmd("XPENDING")
            .arg(&keys.stream)
            .arg(origin::ledger::consumer::GROUP)
            .arg("-")
            .arg("+")
            .arg(10)
            .cmd("XRANGE")
            .arg(&keys.stream)
            .arg("-")
            .arg("+")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut redis)
            .await
            .unwrap();
    keep_pending.abort();
    assert!(
        pending.ids.iter().any(|p| p.id == pending_id),
        "the entry is pending when checked"
    );
    assert_eq!(
        first.ids.first().map(|e| e.id.as_str()),
        Some(pending_id.as_str()),
        "the pending entry and what follows it stay"
    );
}
