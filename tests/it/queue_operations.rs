//! Operating a waiting room against the real stack: the audit on an honest and an altered sale,
//! pausing and resuming admission, a place nobody claims, and the room on a Redis Cluster.

use std::time::Duration;

use crate::harness::room::{ROOM, audit, buy_admitted, join, poll, until_admitted};
use crate::harness::{Stack, StackOptions, eventually};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_passes_an_honest_sale_and_fails_an_altered_list_or_record() {
    use redis::AsyncCommands;
    let stack = Stack::start(StackOptions {
        // Far enough ahead that the joins below land before the start even on a loaded machine.
        starts: "+10s",
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let mut tickets = Vec::new();
    for i in 0..4 {
        let user = format!("early-{i}");
        tickets.push((
            user.clone(),
            join(&stack, &user).await["ticket"]
                .as_str()
                .unwrap()
                .to_owned(),
        ));
    }
    for (user, ticket) in &tickets {
        until_admitted(&stack, user, ticket).await;
    }
    let late = join(&stack, "late").await;
    until_admitted(&stack, "late", late["ticket"].as_str().unwrap()).await;
    let (passed, text) = audit(&stack);
    assert!(passed, "{text}");
    assert!(
        text.contains("5 admissions checked") && text.contains("audit passed"),
        "{text}"
    );

    let keys = sale::redis_keys::EventKeys::new(&sale::EventId::parse("demo").unwrap());
    let mut redis = stack.redis().await;
    // Someone else's id in the published list: a list reordered could, by chance, draw the
    // same positions again, a list with an entrant swapped for another cannot pass.
    let first: Vec<u8> = redis.lindex(&keys.queue_order, 0).await.unwrap();
    let _: () = redis
        .lset(&keys.queue_order, 0, &[0u8; 8][..])
        .await
        .unwrap();
    let (passed, text) = audit(&stack);
    assert!(
        !passed,
        "an altered entrant list must fail the audit:\n{text}"
    );
    let _: () = redis.lset(&keys.queue_order, 0, &first).await.unwrap();
    assert!(audit(&stack).0, "restored, it passes again");

    let grants: Vec<String> = redis.lrange(&keys.queue_grants, 0, -1).await.unwrap();
    let fields: Vec<&str> = grants[0].split(':').collect();
    // Recorded as admitted one place off its drawn position (and within the counter, so only
    // the position is wrong).
    let position: u64 = fields[1].parse().unwrap();
    let other = if position == 1 { 2 } else { position - 1 };
    let serving = fields[2].parse::<u64>().unwrap().max(other);
    let moved = format!("{}:{other}:{serving}:{}", fields[0], fields[3]);
    let _: () = redis.lset(&keys.queue_grants, 0, moved).await.unwrap();
    let (passed, text) = audit(&stack);
    assert!(
        !passed,
        "an altered admission record must fail the audit:\n{text}"
    );
    assert!(text.contains("MISMATCH"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_pauses_and_resumes_admission() {
    let stack = Stack::start(StackOptions {
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let (status, _) = stack
        .admin(reqwest::Method::POST, "/admin/events/demo/queue/pause")
        .await;
    assert_eq!(status, 200);
    eventually("the pause to show", Duration::from_secs(10), || async {
        let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
        status["queues"][0]["paused"] == true
    })
    .await;
    let doc = join(&stack, "alice").await;
    assert_eq!(
        (doc["state"].as_str(), doc["position"].as_u64()),
        (Some("waiting"), Some(1))
    );
    assert_eq!(
        doc["eta_seconds"],
        serde_json::Value::Null,
        "no estimate while paused"
    );
    let ticket = doc["ticket"].as_str().unwrap().to_owned();
    // A full second of the keepers' passes (at 100 admissions a second) moves nothing.
    let since = room_number(&stack, "last_us").await;
    eventually(
        "a second of passes while paused",
        Duration::from_secs(10),
        || async { room_number(&stack, "last_us").await > since + 1_000_000.0 },
    )
    .await;
    assert_eq!(room_number(&stack, "serving").await, 0.0);
    assert_eq!(poll(&stack, "alice", &ticket).await["state"], "waiting");
    let (status, _) = stack
        .admin(reqwest::Method::POST, "/admin/events/demo/queue/resume")
        .await;
    assert_eq!(status, 200);
    until_admitted(&stack, "alice", &ticket).await;
    // The operator's status follows within a refresh.
    eventually(
        "the admission in the status",
        Duration::from_secs(10),
        || async {
            let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
            status["queues"][0]["admitted"] == 1
        },
    )
    .await;
    let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
    let room = &status["queues"][0];
    assert_eq!(room["event"], "demo");
    assert!(
        room["commitment"].as_str().is_some_and(|c| c.len() == 64),
        "{room}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_waiting_room_works_on_a_redis_cluster_too() {
    let stack = Stack::start(StackOptions {
        redis: crate::harness::RedisKind::Cluster {
            primaries: 3,
            replicas: 1,
        },
        // Forming the cluster takes a few seconds of the stack's start.
        starts: "+20s",
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let mut tickets = Vec::new();
    for i in 0..3 {
        let user = format!("early-{i}");
        let doc = join(&stack, &user).await;
        assert_eq!(doc["state"], "pre_queue", "{doc}");
        tickets.push((user, doc["ticket"].as_str().unwrap().to_owned()));
    }
    let mut positions = Vec::new();
    for (user, ticket) in &tickets {
        let doc = until_admitted(&stack, user, ticket).await;
        positions.push(doc["position"].as_u64().unwrap());
        buy_admitted(&stack, user, &doc).await;
    }
    positions.sort_unstable();
    assert_eq!(positions, [1, 2, 3]);
    let (passed, text) = audit(&stack);
    assert!(passed, "{text}");
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_place_nobody_claims_stops_holding_a_seat_and_its_turn_passes() {
    let stack = Stack::start(StackOptions {
        stock: 1,
        queue: crate::harness::room::SHORT_ADMISSIONS,
        ..StackOptions::default()
    })
    .await;
    let absent = join(&stack, "absent").await;
    assert_eq!(absent["position"], 1);
    let present = join(&stack, "present").await;
    assert_eq!(present["position"], 2);
    // One seat: place 1 is reached and holds it while its buyer is away; place 2 waits, then,
    // once place 1 has gone unclaimed for an admission's lifetime, gets its turn.
    let ticket = present["ticket"].as_str().unwrap();
    let first_look = poll(&stack, "present", ticket).await;
    assert_eq!(first_look["state"], "waiting", "{first_look}");
    let turn = until_admitted(&stack, "present", ticket).await;
    let late = poll(&stack, "absent", absent["ticket"].as_str().unwrap()).await;
    assert_eq!(
        late["state"], "expired",
        "the absent buyer's turn passed: {late}"
    );
    assert_eq!(late["admitted_until"], serde_json::Value::Null);
    buy_admitted(&stack, "present", &turn).await;
    let (passed, text) = audit(&stack);
    assert!(passed, "{text}");
}

/// A second queued event, starting with `demo` in [`a_failed_draw_releases_its_lease_and_stalls_no_other_room`].
const SECOND_ROOM: &str = r#"
[[events]]
id = "second"
name = "Second room"
price_cents = 1000
currency = "EUR"
stock = 10
starts_at = "+8s"
ends_at = "+1h"
queue = { enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "1m" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_draw_releases_its_lease_and_stalls_no_other_room() {
    use redis::AsyncCommands;
    let stack = Stack::start(StackOptions {
        starts: "+8s",
        queue: ROOM,
        extra: SECOND_ROOM,
        ..StackOptions::default()
    })
    .await;
    let keys = sale::redis_keys::EventKeys::new(&sale::EventId::parse("demo").unwrap());
    let early = join(&stack, "early").await;
    let mut redis = stack.redis().await;
    let seed: String = redis.hget(&keys.queue, "seed").await.unwrap();
    // The stored seed goes bad before the draw: the draw must fail, not draw with an empty seed.
    let _: () = redis.hset(&keys.queue, "seed", "not hex").await.unwrap();

    let drawn_seed = |event: &'static str| {
        let stack = &stack;
        async move {
            let doc = crate::harness::room::fairness(stack, event).await;
            doc["seed"].as_str().map(str::to_owned)
        }
    };
    // The other room, due at the same instant, is drawn although demo's draw fails each pass.
    eventually("the second room drawn", Duration::from_secs(30), || async {
        drawn_seed("second").await.is_some()
    })
    .await;
    let drawn: Option<String> = redis.hget(&keys.queue, "drawn").await.unwrap();
    assert_eq!(drawn, None, "a corrupt seed draws nothing");
    assert_eq!(drawn_seed("demo").await, None);

    // Mended, the room is drawn on the next pass, not a lease's minute later.
    let _: () = redis.hset(&keys.queue, "seed", &seed).await.unwrap();
    eventually(
        "demo drawn once its seed is mended",
        Duration::from_secs(10),
        || async { drawn_seed("demo").await.is_some() },
    )
    .await;
    assert_eq!(drawn_seed("demo").await, Some(seed), "the committed seed");
    let place = poll(&stack, "early", early["ticket"].as_str().unwrap()).await;
    assert_eq!(place["position"], 1, "{place}");
}

/// The room's state field `name` in Redis, as a number (0 when unset).
async fn room_number(stack: &Stack, name: &str) -> f64 {
    use redis::AsyncCommands;
    let keys = sale::redis_keys::EventKeys::new(&sale::EventId::parse("demo").unwrap());
    let value: Option<String> = stack.redis().await.hget(&keys.queue, name).await.unwrap();
    value.and_then(|v| v.parse().ok()).unwrap_or(0.0)
}

/// `user`'s buy of `quantity` seats with their admitted queue document `doc`.
async fn buy_seats(stack: &Stack, user: &str, doc: &serde_json::Value, quantity: u32) -> u16 {
    let (status, issued) = crate::harness::room::token(stack, user, doc["ticket"].as_str()).await;
    assert_eq!(status, 200, "{issued}");
    let buy = issued["buy_url"].as_str().unwrap().to_owned();
    let body = serde_json::json!({ "quantity": quantity });
    let (status, order) = crate::harness::room::call(
        stack,
        0,
        reqwest::Method::POST,
        &buy,
        user,
        None,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    status
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admissions_count_what_their_buyers_may_still_buy() {
    let stack = Stack::start(StackOptions {
        stock: 4,
        per_user_limit: 2,
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let mut tickets = Vec::new();
    for user in ["a", "b", "c", "d"] {
        let doc = join(&stack, user).await;
        tickets.push((user, doc["ticket"].as_str().unwrap().to_owned()));
    }
    let a = until_admitted(&stack, "a", &tickets[0].1).await;
    let b = until_admitted(&stack, "b", &tickets[1].1).await;
    // Four seats, and each admitted buyer may take two: the room stops at two admissions, however
    // long the counter runs (here a full second of advancing at 100 a second after both).
    let since = room_number(&stack, "last_us").await;
    eventually(
        "the counter advancing for a second",
        Duration::from_secs(10),
        || async { room_number(&stack, "last_us").await > since + 1_000_000.0 },
    )
    .await;
    assert_eq!(room_number(&stack, "serving").await.floor(), 2.0);
    for (user, ticket) in &tickets[2..] {
        let doc = poll(&stack, user, ticket).await;
        assert_eq!(doc["state"], "waiting", "{user}: {doc}");
    }
    buy_seats(&stack, "a", &a, 2).await;
    buy_seats(&stack, "b", &b, 2).await;
    for (user, ticket) in &tickets[2..] {
        eventually(
            &format!("{user} told sold out"),
            Duration::from_secs(10),
            || async { poll(&stack, user, ticket).await["state"] == "sold_out" },
        )
        .await;
    }
    assert_eq!(
        room_number(&stack, "granted").await,
        2.0,
        "nobody admitted to nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_place_reached_while_nothing_is_for_sale_is_kept_until_seats_return() {
    let stack = Stack::start(StackOptions {
        stock: 1,
        queue: crate::harness::room::SHORT_ADMISSIONS,
        ..StackOptions::default()
    })
    .await;
    let a = join(&stack, "a").await;
    let b = join(&stack, "b").await;
    let c = join(&stack, "c").await;
    let (b, c) = (b["ticket"].as_str().unwrap(), c["ticket"].as_str().unwrap());
    let admitted = until_admitted(&stack, "a", a["ticket"].as_str().unwrap()).await;
    // A takes a link while admitted, and lets the admission run out: B's place is reached...
    let (status, issued) =
        crate::harness::room::token(&stack, "a", admitted["ticket"].as_str()).await;
    assert_eq!(status, 200, "{issued}");
    eventually("b's place reached", Duration::from_secs(20), || async {
        room_number(&stack, "serving").await >= 2.0
    })
    .await;
    // ...and before B polls, A buys with the link: nothing is for sale while B waits.
    let (alice, buy) = (stack.session("a"), issued["buy_url"].as_str().unwrap());
    let (status, order) = crate::harness::post(&reqwest::Client::new(), &stack, buy, &alice).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(poll(&stack, "b", b).await["state"], "sold_out");
    // Longer than an admission's lifetime passes with nothing to sell.
    let sold_at = sale::time::now_millis();
    eventually(
        "two admission lifetimes passing",
        Duration::from_secs(20),
        || async { sale::time::now_millis() > sold_at + 6_000 },
    )
    .await;
    // The seat comes back: it is B's, who kept polling as told, not C's.
    let id = order["order_id"].as_str().unwrap();
    let (status, _) = crate::harness::post(
        &reqwest::Client::new(),
        &stack,
        &format!("/api/orders/{id}/cancel"),
        &alice,
    )
    .await;
    assert_eq!(status, 200);
    let turn = until_admitted(&stack, "b", b).await;
    assert_eq!(poll(&stack, "c", c).await["state"], "waiting");
    buy_admitted(&stack, "b", &turn).await;
    let (passed, text) = audit(&stack);
    assert!(passed, "{text}");
}
