//! The waiting room against the real stack: the pre-queue drawn exactly as published, late
//! joiners first come first served, one place per user across edges, tokens only for a live
//! admission, sold out reaching everyone waiting, and the proof of work.

use std::collections::HashMap;
use std::time::Duration;

use sale::draw::EntrantId;

use crate::harness::{Stack, StackOptions, eventually, status_and_json};

/// `POST`/`GET` a queue path at edge `edge` as `user`, with `ticket` if any.
async fn call(
    stack: &Stack,
    edge: u16,
    method: reqwest::Method,
    path: &str,
    user: &str,
    ticket: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, serde_json::Value) {
    let mut request = reqwest::Client::new()
        .request(method, format!("http://{}{path}", stack.fleet_edge(edge)))
        .bearer_auth(stack.session(user));
    if let Some(ticket) = ticket {
        request = request.header("x-fg-queue", ticket);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    status_and_json(request.send().await.unwrap()).await
}

async fn join(stack: &Stack, user: &str) -> serde_json::Value {
    let (status, doc) = call(
        stack,
        0,
        reqwest::Method::POST,
        "/api/events/demo/queue",
        user,
        None,
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc
}

async fn poll(stack: &Stack, user: &str, ticket: &str) -> serde_json::Value {
    let (status, doc) = call(
        stack,
        0,
        reqwest::Method::GET,
        "/api/events/demo/queue",
        user,
        Some(ticket),
        None,
    )
    .await;
    assert_eq!(status, 200, "{doc}");
    doc
}

/// Polls until `user` is admitted; returns the last document, with the ticket in force (a poll
/// whose ticket did not change answers without one).
async fn until_admitted(stack: &Stack, user: &str, ticket: &str) -> serde_json::Value {
    let last = std::sync::Mutex::new((serde_json::Value::Null, ticket.to_owned()));
    eventually(
        &format!("{user} admitted"),
        Duration::from_secs(30),
        || async {
            let ticket = last.lock().unwrap().1.clone();
            let mut doc = poll(stack, user, &ticket).await;
            let admitted = doc["state"] == "admitted";
            let next = doc["ticket"].as_str().map_or(ticket, str::to_owned);
            doc["ticket"] = next.clone().into();
            *last.lock().unwrap() = (doc, next);
            admitted
        },
    )
    .await;
    last.into_inner().unwrap().0
}

/// A purchase token for `user`, with their queue `ticket` if any.
async fn token(stack: &Stack, user: &str, ticket: Option<&str>) -> (u16, serde_json::Value) {
    let path = "/api/events/demo/token";
    call(stack, 0, reqwest::Method::POST, path, user, ticket, None).await
}

/// An admitted buyer (`doc` is their admitted queue document) gets a token and a seat.
async fn buy_admitted(stack: &Stack, user: &str, doc: &serde_json::Value) {
    let (status, issued) = token(stack, user, doc["ticket"].as_str()).await;
    assert_eq!(status, 200, "{issued}");
    let buy = issued["buy_url"].as_str().unwrap().to_owned();
    let (status, order) = call(stack, 0, reqwest::Method::POST, &buy, user, None, None).await;
    assert_eq!(status, 201, "{order}");
}

const ROOM: &str =
    r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "1m" }"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pre_queue_is_drawn_as_published_and_late_joiners_follow_in_order() {
    let stack = Stack::start(StackOptions {
        // Far enough ahead that the joins below land before the start even on a loaded machine.
        starts: "+10s",
        stock: 50,
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let (_, fairness) = call(
        &stack,
        0,
        reqwest::Method::GET,
        "/api/events/demo/fairness",
        "x",
        None,
        None,
    )
    .await;
    assert_eq!(fairness["seed"], serde_json::Value::Null);
    let mut tickets = HashMap::new();
    let mut entrants = Vec::new();
    for i in 0..6 {
        let user = format!("early-{i}");
        let doc = join(&stack, &user).await;
        assert_eq!(doc["state"], "pre_queue", "{doc}");
        assert_eq!(doc["position"], serde_json::Value::Null);
        let again = join(&stack, &user).await;
        assert_eq!(
            again["entrant"], doc["entrant"],
            "one place however often one joins"
        );
        entrants.push(doc["entrant"].as_str().unwrap().to_owned());
        tickets.insert(user, doc["ticket"].as_str().unwrap().to_owned());
    }
    let (_, fairness) = call(
        &stack,
        0,
        reqwest::Method::GET,
        "/api/events/demo/fairness",
        "x",
        None,
        None,
    )
    .await;
    let commitment = fairness["commitment"]
        .as_str()
        .expect("committed when the pre-queue opened")
        .to_owned();

    // Before the sale no token, ticket or not.
    let early = tickets.get("early-0").map(String::as_str);
    let (status, body) = token(&stack, "early-0", early).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_started")));

    // The draw at starts_at.
    eventually("the draw", Duration::from_secs(30), || async {
        let (_, f) = call(
            &stack,
            0,
            reqwest::Method::GET,
            "/api/events/demo/fairness",
            "x",
            None,
            None,
        )
        .await;
        !f["seed"].is_null()
    })
    .await;
    let (_, fairness) = call(
        &stack,
        0,
        reqwest::Method::GET,
        "/api/events/demo/fairness",
        "x",
        None,
        None,
    )
    .await;
    let seed = hex::decode(fairness["seed"].as_str().unwrap()).unwrap();
    assert_eq!(
        sale::draw::commitment(&seed),
        commitment,
        "the seed is the one committed to"
    );
    assert_eq!(fairness["entrants"], 6);
    let (status, list) = call(
        &stack,
        0,
        reqwest::Method::GET,
        "/api/events/demo/fairness/entrants",
        "x",
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let listed: Vec<String> = serde_json::from_value(list).unwrap();
    assert_eq!(
        listed, entrants,
        "the published list is the entrants in join order"
    );
    let ids: Vec<EntrantId> = listed
        .iter()
        .map(|e| EntrantId::parse(e).unwrap())
        .collect();
    let expected = sale::draw::draw(&seed, &ids);

    // Late joiners queue behind, first come first served.
    for i in 0..2 {
        let user = format!("late-{i}");
        let doc = join(&stack, &user).await;
        tickets.insert(user, doc["ticket"].as_str().unwrap().to_owned());
    }
    let mut positions = Vec::new();
    for i in 0..6 {
        let user = format!("early-{i}");
        let doc = until_admitted(&stack, &user, &tickets[&user]).await;
        positions.push(doc["position"].as_u64().unwrap() as u32);
        // Admitted: a token, then a seat.
        buy_admitted(&stack, &user, &doc).await;
    }
    assert_eq!(
        positions, expected,
        "positions are exactly the published draw"
    );
    for (i, expected) in [(0, 7), (1, 8)] {
        let user = format!("late-{i}");
        let doc = until_admitted(&stack, &user, &tickets[&user]).await;
        assert_eq!(doc["position"], expected, "late joiners in arrival order");
    }
    // Without its ticket, an admitted buyer's token request is still refused.
    let (status, body) = token(&stack, "late-0", None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_admitted")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_place_per_user_across_two_edges_and_expired_admissions_get_no_token() {
    let stack = Stack::start(StackOptions {
        edges: 2,
        queue: r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "1s" }"#,
        ..StackOptions::default()
    })
    .await;
    let (_, here) = call(
        &stack,
        0,
        reqwest::Method::POST,
        "/api/events/demo/queue",
        "alice",
        None,
        None,
    )
    .await;
    let (_, there) = call(
        &stack,
        1,
        reqwest::Method::POST,
        "/api/events/demo/queue",
        "alice",
        None,
        None,
    )
    .await;
    assert_eq!(here["entrant"], there["entrant"]);
    // Joined after the start: first come, first served, position 1 wherever she asks.
    let doc = until_admitted(&stack, "alice", here["ticket"].as_str().unwrap()).await;
    assert_eq!(doc["position"], 1);
    let (_, there) = call(
        &stack,
        1,
        reqwest::Method::GET,
        "/api/events/demo/queue",
        "alice",
        None,
        None,
    )
    .await;
    assert_eq!(there["position"], 1, "{there}");
    let ticket = doc["ticket"].as_str().unwrap().to_owned();
    // The admission lasts a second; after it, no token.
    eventually(
        "the admission to expire",
        Duration::from_secs(10),
        || async { poll(&stack, "alice", &ticket).await["state"] == "expired" },
    )
    .await;
    let (status, body) = token(&stack, "alice", Some(&ticket)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_admitted")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sold_out_reaches_everyone_waiting() {
    let stack = Stack::start(StackOptions {
        stock: 1,
        queue: r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "1m" }"#,
        ..StackOptions::default()
    })
    .await;
    let mut tickets = Vec::new();
    for user in ["first", "second", "third"] {
        tickets.push(
            join(&stack, user).await["ticket"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // One seat: the first is admitted; the others wait, since that seat is spoken for.
    let doc = until_admitted(&stack, "first", &tickets[0]).await;
    let second = poll(&stack, "second", &tickets[1]).await;
    assert_eq!(second["state"], "waiting", "{second}");
    buy_admitted(&stack, "first", &doc).await;
    for (user, ticket) in [("second", &tickets[1]), ("third", &tickets[2])] {
        eventually(
            &format!("{user} told sold out"),
            Duration::from_secs(10),
            || async { poll(&stack, user, ticket).await["state"] == "sold_out" },
        )
        .await;
    }
}

#[tokio::test]
async fn joining_takes_the_proof_of_work_when_asked() {
    let stack = Stack::start(StackOptions {
        queue: r#"{ enabled = true, opens_before = "1h", pow_bits = 10 }"#,
        ..StackOptions::default()
    })
    .await;
    let path = "/api/events/demo/queue";
    let (status, body) = call(&stack, 0, reqwest::Method::POST, path, "alice", None, None).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("pow_required")));
    let (status, challenge) = call(
        &stack,
        0,
        reqwest::Method::GET,
        "/api/events/demo/queue/challenge",
        "alice",
        None,
        None,
    )
    .await;
    assert_eq!((status, challenge["bits"].as_u64()), (200, Some(10)));
    let text = challenge["challenge"].as_str().unwrap();
    let unsolved = (0u64..)
        .map(|n| n.to_string())
        .find(|n| edge::queue::pow::work(text, n) < 10)
        .unwrap();
    let wrong = serde_json::json!({ "pow": { "challenge": text, "nonce": unsolved } });
    let (status, body) = call(
        &stack,
        0,
        reqwest::Method::POST,
        path,
        "alice",
        None,
        Some(wrong),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (400, Some("bad_pow")));
    let nonce = edge::queue::pow::solve(text, 10);
    let solved = serde_json::json!({ "pow": { "challenge": text, "nonce": nonce } });
    let (status, body) = call(
        &stack,
        0,
        reqwest::Method::POST,
        path,
        "bob",
        None,
        Some(solved.clone()),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("bad_pow")),
        "alice's proof is not bob's"
    );
    let (status, body) = call(
        &stack,
        0,
        reqwest::Method::POST,
        path,
        "alice",
        None,
        Some(solved),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

fn audit(stack: &Stack) -> (bool, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
        .args(["audit", "--event", "demo", "--config"])
        .arg(stack.config_path())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

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
        queue: r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "1s" }"#,
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
