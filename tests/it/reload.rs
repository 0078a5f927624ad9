//! Live reload: new weights shift traffic, a broken file changes nothing, and a rotated purchase
//! token key keeps accepting tokens signed with the previous key until that key is removed.

use futures::StreamExt;
use reqwest::Method;

use crate::harness::{Stack, StackOptions, post, token_and_buy};

/// An event a file adds beside the stack's own.
const LATE_EVENT: &str = r#"
[[events]]
id = "late"
name = "Added to the file"
price_cents = 500
currency = "EUR"
stock = 5
starts_at = "+0s"
ends_at = "+1h"
"#;

async fn buys(stack: &Stack, from: usize, count: usize) {
    let client = reqwest::Client::new();
    let statuses: Vec<u16> = futures::stream::iter(from..from + count)
        .map(|i| {
            let (client, stack) = (&client, stack);
            async move { token_and_buy(client, stack, &format!("user-{i}")).await.0 }
        })
        .buffer_unordered(16)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
}

#[tokio::test]
async fn new_weights_shift_the_split_live() {
    let mut stack = Stack::start(StackOptions {
        weights: vec![1, 1],
        stock: 1_000,
        ..StackOptions::default()
    })
    .await;
    buys(&stack, 0, 200).await;
    assert_eq!(stack.origin_requests(0, "buy").await, 100);
    assert_eq!(stack.origin_requests(1, "buy").await, 100);

    stack.rewrite_config(|o| o.weights = vec![1, 3]);
    stack.hangup_edge();
    stack.wait_for_config_version(2).await;
    buys(&stack, 200, 400).await;
    let light = stack.origin_requests(0, "buy").await - 100;
    let heavy = stack.origin_requests(1, "buy").await - 100;
    assert!((98..=102).contains(&light), "weight 1 got {light} of 400");
    assert!((298..=302).contains(&heavy), "weight 3 got {heavy} of 400");
}

#[tokio::test]
async fn a_broken_file_is_refused_and_the_running_config_stays() {
    let stack = Stack::start(StackOptions::default()).await;
    stack.write_config_text("[edge]\nlisten = \"nowhere\"\n");
    let (status, body) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_config"))
    );
    assert!(
        body["problems"]
            .to_string()
            .contains("not a valid config file"),
        "{body}"
    );

    // The SIGHUP's reload is refused too: once the edge says so, the first config still runs.
    let refusals = stack.edge_log().matches("config reload refused").count();
    stack.hangup_edge();
    crate::harness::eventually(
        "the edge refusing the file on SIGHUP",
        std::time::Duration::from_secs(10),
        || async { stack.edge_log().matches("config reload refused").count() > refusals },
    )
    .await;
    let (_, status) = stack.admin(Method::GET, "/admin/status").await;
    assert_eq!(status["config_version"], 1);
    buys(&stack, 0, 20).await;

    let (status, _) = stack.admin(Method::GET, "/admin/status").await;
    assert_eq!(status, 200);
    let denied = reqwest::Client::new()
        .get(format!("http://{}/admin/status", stack.admin_addr))
        .bearer_auth("wrong-token-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 401);
}

#[tokio::test]
async fn a_rotated_token_key_accepts_old_tokens_until_removed() {
    let mut stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let session = stack.session("alice");
    let old_token = stack.token_expiring("alice", sale::time::now_millis() + 600_000);
    let bobs_old_token = stack.token_expiring("bob", sale::time::now_millis() + 600_000);

    stack.rewrite_config(|o| {
        o.token_keys = r#"[{ id = "t2", secret = "test-token-key-rotated-0123" }, { id = "t1", secret = "test-token-key-0123456789" }]"#
    });
    let (status, _) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/events/demo/buy/{old_token}"),
        &session,
    )
    .await;
    assert_eq!(
        status, 201,
        "a token of the previous key still buys: {body}"
    );
    let (status, fresh) =
        crate::harness::fetch_token(&client, &stack, &stack.session("carol")).await;
    assert_eq!(status, 200);
    assert!(
        fresh["token"].as_str().unwrap().starts_with("t2."),
        "new tokens use the new key"
    );

    stack.rewrite_config(|o| {
        o.token_keys = r#"[{ id = "t2", secret = "test-token-key-rotated-0123" }]"#
    });
    let (status, _) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(status, 200);
    let (status, body) = post(
        &client,
        &stack,
        &format!("/api/events/demo/buy/{bobs_old_token}"),
        &stack.session("bob"),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("bad_token")),
        "the removed key is no longer accepted"
    );
}

/// A buy of `event` by `user` through the edge; returns the buy's status and body.
async fn buy_at(stack: &Stack, event: &str, user: &str) -> (u16, serde_json::Value) {
    let client = reqwest::Client::new();
    let session = stack.session(user);
    let (status, body) = post(
        &client,
        stack,
        &format!("/api/events/{event}/token"),
        &session,
    )
    .await;
    if status != 200 {
        return (status, body);
    }
    post(&client, stack, body["buy_url"].as_str().unwrap(), &session).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_internal_key_rotates_in_two_steps_without_a_refused_request() {
    let mut stack = Stack::start(StackOptions::default()).await;
    assert_eq!(buy_at(&stack, "demo", "u0").await.0, 201);
    // Step 1: every component learns the new key, nobody signs with it yet.
    stack.rewrite_config(|o| {
        o.internal_keys = r#"[{ id = "i2", secret = "test-internal-key-rotated-01", accept_only = true }, { id = "i1", secret = "test-internal-key-0123456789" }]"#
    });
    stack.reload_everything().await;
    assert_eq!(buy_at(&stack, "demo", "u1").await.0, 201);
    // Step 2: the new key signs; the old one is still accepted until it is removed.
    stack.rewrite_config(|o| {
        o.internal_keys = r#"[{ id = "i2", secret = "test-internal-key-rotated-01" }, { id = "i1", secret = "test-internal-key-0123456789", accept_only = true }]"#
    });
    stack.reload_everything().await;
    let (status, body) = buy_at(&stack, "demo", "u2").await;
    assert_eq!(status, 201, "{body}");
    stack.rewrite_config(|o| {
        o.internal_keys = r#"[{ id = "i2", secret = "test-internal-key-rotated-01" }]"#
    });
    stack.reload_everything().await;
    let (status, body) = buy_at(&stack, "demo", "u3").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(
        stack.origin_unsigned(0).await + stack.origin_unsigned(1).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reload_reaches_the_origins_window_events_and_shares() {
    let mut stack = Stack::start(StackOptions {
        starts: "-2h",
        ends: "-1h",
        ..StackOptions::default()
    })
    .await;
    assert_eq!(buy_at(&stack, "demo", "early").await.1["code"], "ended");
    stack.rewrite_config(|o| {
        o.ends = "+1h";
        o.weights = vec![1, 3];
        o.extra = LATE_EVENT;
    });
    stack.reload_everything().await;
    let (status, body) = buy_at(&stack, "demo", "alice").await;
    assert_eq!(status, 201, "the moved end reached the script: {body}");
    let (status, body) = buy_at(&stack, "late", "bob").await;
    assert_eq!(status, 201, "the new event sells at the origins: {body}");
    crate::harness::eventually(
        "the heavier origin's share growing",
        std::time::Duration::from_secs(10),
        || async { stack.origin_local_allowance(1, "demo").await == 75 + 10 },
    )
    .await;
    stack.orders_reaching(1).await;
    assert!(stack.reconcile().await.is_clean());
}

#[tokio::test]
async fn a_reload_that_needs_a_restart_is_refused_with_the_reason() {
    let mut stack = Stack::start(StackOptions::default()).await;
    let text = std::fs::read_to_string(stack.config_path()).unwrap();
    let sale::config::RedisTarget::Node(redis) = stack.config.redis.target.clone() else {
        panic!("this stack runs on one Redis");
    };
    stack.write_config_text(
        &text
            .replace(redis.expose(), "redis://127.0.0.1:1")
            .replace("stock = 100", "stock = 7"),
    );
    let (status, body) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (422, Some("invalid_config"))
    );
    let problems = body["problems"].to_string();
    assert!(
        problems.contains("redis.url") && problems.contains("restart"),
        "{problems}"
    );
    assert!(problems.contains("events[0].stock"), "{problems}");
    stack.origin_refuses_reload(0, "redis.url").await;
    // The origin kept its config: the next valid file is only its second, and it still sells.
    stack.rewrite_config(|_| {});
    stack.reload_everything().await;
    assert_eq!(
        stack.origin_config_version(0),
        Some(2),
        "only the valid file landed"
    );
    assert_eq!(buy_at(&stack, "demo", "alice").await.0, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_in_urls_never_show_in_answers_or_logs() {
    const REDIS_PASSWORD: &str = "redis-pw-5ecret";
    const NEW_REDIS_PASSWORD: &str = "other-redis-pw-5ecret";
    const DB_PASSWORD: &str = "postgres-pw-5ecret";
    let mut stack = Stack::prepare(StackOptions::default()).await;
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("requirepass")
        .arg(REDIS_PASSWORD)
        .query_async(&mut stack.redis().await)
        .await
        .unwrap();
    let sale::config::RedisTarget::Node(plain) = stack.config.redis.target.clone() else {
        panic!("this stack runs on one Redis");
    };
    let text = std::fs::read_to_string(stack.config_path()).unwrap();
    let with_password = plain
        .expose()
        .replace("redis://", &format!("redis://:{REDIS_PASSWORD}@"));
    stack.write_config_text(&text.replace(plain.expose(), &with_password));
    for i in 0..stack.origin_addrs.len() {
        stack.start_origin(i);
    }
    stack.start_edge();

    let (status, body) = stack.admin(Method::GET, "/admin/status").await;
    assert_eq!(status, 200);
    let shown = body.to_string();
    assert!(shown.contains(":***@"), "{shown}");

    // A reload that changes both URLs: refused (they take a restart), naming the fields only.
    let changed = text
        .replace(
            plain.expose(),
            &format!("redis://:{NEW_REDIS_PASSWORD}@127.0.0.1:1"),
        )
        .replace(
            "sqlite://orders.db",
            &format!("postgres://flashgate:{DB_PASSWORD}@127.0.0.1:1/orders"),
        );
    stack.write_config_text(&changed);
    let (status, refusal) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(status, 422, "{refusal}");
    let refused = refusal.to_string();
    assert!(refused.contains("redis.url"), "{refused}");
    stack.origin_refuses_reload(0, "origin.database_url").await;
    // A value the validation refuses is not echoed either.
    stack.write_config_text(&text.replace(plain.expose(), &format!("{REDIS_PASSWORD}@nowhere")));
    let (status, invalid) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(status, 422, "{invalid}");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
        .arg("check-config")
        .arg(stack.config_path())
        .output()
        .unwrap();
    assert!(!check.status.success());
    let checked = String::from_utf8_lossy(&check.stdout).to_string()
        + &String::from_utf8_lossy(&check.stderr);
    assert!(checked.contains("redis.url"), "{checked}");

    let everything = [
        shown,
        refused,
        invalid.to_string(),
        checked,
        stack.edge_log(),
        stack.origin_log(0),
        stack.origin_log(1),
    ];
    for (what, text) in everything.iter().enumerate() {
        for secret in [REDIS_PASSWORD, NEW_REDIS_PASSWORD, DB_PASSWORD] {
            assert!(!text.contains(secret), "{secret} shown in #{what}: {text}");
        }
    }
}

#[tokio::test]
async fn an_origin_restarted_with_another_stock_says_which_stays_in_force() {
    let mut stack = Stack::start(StackOptions::default()).await;
    stack.kill_origin(0);
    stack.rewrite_config(|o| o.stock = 250);
    stack.start_origin(0);
    let log = stack.origin_log(0);
    assert!(
        log.contains("seeded with another stock")
            && log.contains("in_force=100")
            && log.contains("configured=250"),
        "{log}"
    );
    assert_eq!(
        stack.seat_counter("total").await,
        100,
        "sold seats are never unsold"
    );
}

#[tokio::test]
async fn a_reload_that_drops_an_event_with_unsettled_orders_is_refused() {
    let mut stack = Stack::start(StackOptions {
        extra: LATE_EVENT,
        ..StackOptions::default()
    })
    .await;
    let (status, body) = buy_at(&stack, "late", "bob").await;
    assert_eq!(status, 201, "{body}");
    // Its reservation waits for payment: only events in the file are swept, so dropping it now
    // would leave that seat held for good.
    stack.rewrite_config(|o| o.extra = "");
    stack
        .origin_refuses_reload(0, "event late is no longer in the file")
        .await;
    assert_eq!(stack.origin_config_version(0), Some(1));
}

#[tokio::test]
async fn check_config_refuses_pages_the_edge_would_refuse_and_so_does_a_reload() {
    let stack = Stack::start(StackOptions::default()).await;
    assert!(stack.check_config().0, "the running file passes");
    let text = std::fs::read_to_string(stack.config_path()).unwrap();
    let static_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("static");
    // A folder without the product page: valid as a path, but nothing the edge can serve.
    let empty = stack.path("no-pages");
    std::fs::create_dir_all(&empty).unwrap();
    stack.write_config_text(&text.replace(static_dir.to_str().unwrap(), empty.to_str().unwrap()));
    let (passed, said) = stack.check_config();
    assert!(!passed, "{said}");
    assert!(said.contains("edge.static_dir"), "{said}");
    let (status, refusal) = stack.admin(Method::POST, "/admin/reload").await;
    assert_eq!(status, 422, "{refusal}");
}
