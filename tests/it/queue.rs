//! The waiting room against the real stack: the pre-queue drawn exactly as published, late
//! joiners first come first served, one place per user across edges, tokens only for a live
//! admission, sold out (or a sale the operator closes) reaching everyone waiting, and the proof
//! of work.

use std::collections::HashMap;
use std::time::Duration;

use sale::draw::EntrantId;

use crate::harness::room::{ROOM, buy_admitted, call, join, poll, token, until_admitted};
use crate::harness::{Stack, StackOptions, eventually};

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
        queue: crate::harness::room::SHORT_ADMISSIONS,
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
    // The admission lasts three seconds (the shortest allowed); after it, no token.
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sale_the_operator_closes_ends_its_waiting_room_too() {
    let stack = Stack::start(StackOptions {
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let placed = join(&stack, "alice").await;
    let ticket = placed["ticket"].as_str().unwrap().to_owned();
    let (status, _) = stack
        .admin(reqwest::Method::POST, "/admin/events/demo/close")
        .await;
    assert_eq!(status, 200);
    // Within a refresh of the view, the room says what the event document says: the sale is
    // over, and nobody else joins to wait for nothing.
    eventually("the room ending", Duration::from_secs(10), || async {
        poll(&stack, "alice", &ticket).await["state"] == "ended"
    })
    .await;
    let (status, refused) = crate::harness::room::try_join(&stack, "bob").await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (410, Some("ended")),
        "{refused}"
    );
    assert_eq!(stack.event_document().await["state"], "ended");
}
