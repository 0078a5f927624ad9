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
        queue: r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "3s" }"#,
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

    let client = reqwest::Client::new();
    let drawn_seed = |event: &'static str| {
        let (client, stack) = (&client, &stack);
        async move {
            let doc: serde_json::Value = client
                .get(stack.url(&format!("/api/events/{event}/fairness")))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
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
