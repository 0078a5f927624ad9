//! Presale phases and access codes against the real stack: a coded phase refuses no code, a
//! wrong code and another user's bound code, and takes a right one; a shared code with three
//! uses sells exactly three times under concurrency and gets a use back when its order expires;
//! the sale switches phase mid-rush.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Stack, StackOptions, eventually, get, token_and_buy_json};

/// A fan-club presale of VIP packages now (code of channel `fans` needed), then the general sale
/// of every type from `general_at` on.
fn presale(general_at: &str) -> String {
    format!(
        r#"
[[events.ticket_types]]
id = "standing"
name = "Standing"
price_cents = 4900
stock = 50

[[events.ticket_types]]
id = "vip"
name = "VIP package"
price_cents = 19900
stock = 20

[[events.phases]]
id = "fanclub"
starts_at = "+0s"
ends_at = "{general_at}"
ticket_types = ["vip"]
channel = "fans"

[[events.phases]]
id = "general"
starts_at = "{general_at}"
ends_at = "+2h"
"#
    )
}

fn presale_stack(general_at: &str) -> StackOptions {
    StackOptions {
        ends: "+2h",
        per_user_limit: 2,
        catalog: presale(general_at),
        ..StackOptions::default()
    }
}

/// Token then a buy of `lines` with `code` for `user`.
async fn buy(
    client: &reqwest::Client,
    stack: &Stack,
    user: &str,
    lines: &[(&str, u32)],
    code: Option<&str>,
) -> (u16, serde_json::Value) {
    let items: Vec<_> = lines
        .iter()
        .map(|(t, q)| json!({"ticket_type": t, "quantity": q}))
        .collect();
    let mut body = json!({ "items": items });
    if let Some(code) = code {
        body["access_code"] = code.into();
    }
    token_and_buy_json(client, stack, user, body).await
}

fn bound_code(stack: &Stack, user: &str) -> String {
    sale::access_code::issue(&stack.config.secrets.token_keys, "demo", "fans", user)
}

#[tokio::test]
async fn a_coded_phase_takes_only_the_buyers_own_code() {
    let stack = Stack::start(presale_stack("+1h")).await;
    let client = reqwest::Client::new();
    let (_, document) = get(&client, &stack, "/api/events/demo", "").await;
    assert_eq!(document["phase"]["id"], "fanclub", "{document}");
    assert_eq!(document["phase"]["channel"], "fans");
    let states: Vec<(&str, &str)> = document["ticket_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["id"].as_str().unwrap(), t["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("standing", "upcoming"), ("vip", "on_sale")]);

    let vip = [("vip", 1)];
    let bobs = bound_code(&stack, "bob");
    for (code, expected, what) in [
        (None, (403, "code_required"), "no code"),
        (Some("NOT-A-CODE"), (403, "bad_code"), "a wrong code"),
        (
            Some(bobs.as_str()),
            (403, "bad_code"),
            "another user's bound code",
        ),
    ] {
        let (status, refused) = buy(&client, &stack, "alice", &vip, code).await;
        assert_eq!(
            (status, refused["code"].as_str().unwrap_or("")),
            expected,
            "{what}: {refused}"
        );
    }
    let (status, refused) = buy(
        &client,
        &stack,
        "alice",
        &[("standing", 1)],
        Some(&bound_code(&stack, "alice")),
    )
    .await;
    assert_eq!(
        (
            status,
            refused["code"].as_str(),
            refused["ticket_type"].as_str()
        ),
        (403, Some("not_started"), Some("standing")),
        "{refused}"
    );
    let (status, order) = buy(
        &client,
        &stack,
        "alice",
        &vip,
        Some(&bound_code(&stack, "alice")),
    )
    .await;
    assert_eq!(status, 201, "{order}");
    let (status, order) = buy(&client, &stack, "bob", &vip, Some(&bobs)).await;
    assert_eq!(status, 201, "{order}");
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shared_code_sells_exactly_its_uses_and_gets_one_back_on_expiry() {
    let stack = Arc::new(
        Stack::start(StackOptions {
            reservation_ttl: "3s",
            ..presale_stack("+1h")
        })
        .await,
    );
    let generated = tokio::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
        .args(["codes", "generate", "--event", "demo", "--channel", "fans"])
        .args(["--count", "1", "--uses", "3", "--config"])
        .arg(stack.config_path())
        .output()
        .await
        .expect("codes generate runs");
    assert!(
        generated.status.success(),
        "{}",
        String::from_utf8_lossy(&generated.stderr)
    );
    let code = String::from_utf8(generated.stdout)
        .unwrap()
        .trim()
        .to_owned();
    assert_eq!(code.len(), 16, "{code}");

    let client = reqwest::Client::new();
    let mut buyers = Vec::new();
    for i in 0..24 {
        let (stack, client, code) = (stack.clone(), client.clone(), code.clone());
        buyers.push(tokio::spawn(async move {
            buy(
                &client,
                &stack,
                &format!("fan-{i}"),
                &[("vip", 1)],
                Some(&code),
            )
            .await
        }));
    }
    let mut outcomes = Vec::new();
    for buyer in buyers {
        let (status, body) = buyer.await.expect("buyer ran");
        outcomes.push((status, body["code"].as_str().unwrap_or("").to_owned()));
    }
    let sold = outcomes.iter().filter(|(s, _)| *s == 201).count();
    assert_eq!(sold, 3, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|(s, c)| *s == 201 || (*s == 410 && c == "code_used_up")),
        "{outcomes:?}"
    );
    // The three reservations run out unpaid: their uses come back.
    eventually("the code's uses back", Duration::from_secs(30), || async {
        stack.seat_counter("reserved").await == 0
    })
    .await;
    let (status, order) = buy(
        &client,
        &stack,
        "latecomer",
        &[("vip", 1)],
        Some(&code.to_lowercase()),
    )
    .await;
    assert_eq!(
        status, 201,
        "a returned use sells again (codes are case-blind): {order}"
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sale_switches_phase_mid_rush() {
    let stack = Arc::new(Stack::start(presale_stack("+3s")).await);
    let general_at = stack.epoch + 3_000;
    let client = reqwest::Client::new();
    let mut buyers = Vec::new();
    for i in 0..32 {
        let (stack, client) = (stack.clone(), client.clone());
        buyers.push(tokio::spawn(async move {
            let user = format!("rusher-{i}");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            loop {
                let (status, body) = buy(&client, &stack, &user, &[("standing", 1)], None).await;
                match (status, body["code"].as_str()) {
                    (201, _) => return body,
                    (403, Some("not_started")) | (503, Some("unavailable"))
                        if tokio::time::Instant::now() < deadline =>
                    {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    _ => panic!("{status} {body}"),
                }
            }
        }));
    }
    let mut orders = Vec::new();
    for buyer in buyers {
        orders.push(
            buyer.await.expect("buyer ran")["order_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    // Every standing seat was reserved by Redis's clock once the general sale had begun.
    let mut redis = stack.redis().await;
    for id in &orders {
        let text: String = redis::AsyncCommands::hget(&mut redis, "{ev:demo}:orders", id)
            .await
            .expect("the order is in redis");
        let record: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert!(
            record["created"].as_u64().unwrap() >= general_at,
            "{record}"
        );
    }
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn wrong_codes_are_limited_like_any_guess() {
    let stack = Stack::start(presale_stack("+1h")).await;
    let client = reqwest::Client::new();
    for i in 0..10 {
        let guess = format!("GUESS{i:011}");
        let (status, refused) = buy(&client, &stack, "mallory", &[("vip", 1)], Some(&guess)).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (403, Some("bad_code")),
            "{refused}"
        );
    }
    let own = bound_code(&stack, "mallory");
    let (status, refused) = buy(&client, &stack, "mallory", &[("vip", 1)], Some(&own)).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (429, Some("rate_limited")),
        "even a right code waits out the lockout: {refused}"
    );
    let (status, order) = buy(
        &client,
        &stack,
        "alice",
        &[("vip", 1)],
        Some(&bound_code(&stack, "alice")),
    )
    .await;
    assert_eq!(status, 429, "the address is locked too: {order}");
}

#[tokio::test]
async fn the_operators_open_starts_the_next_phase_early() {
    let stack = Stack::start(StackOptions {
        starts: "+0s",
        catalog: presale("+1h").replace("starts_at = \"+0s\"", "starts_at = \"+30m\""),
        ..presale_stack("+1h")
    })
    .await;
    let client = reqwest::Client::new();
    let (_, before) = get(&client, &stack, "/api/events/demo", "").await;
    assert_eq!(before["state"], "upcoming", "{before}");
    assert!(before["phase"].is_null(), "{before}");
    let (status, _) = stack
        .admin(reqwest::Method::POST, "/admin/events/demo/open")
        .await;
    assert_eq!(status, 200);
    eventually(
        "the edge sees the sale opened",
        Duration::from_secs(10),
        || async {
            let (_, document) = get(&client, &stack, "/api/events/demo", "").await;
            document["state"] == "on_sale" && document["phase"]["id"] == "fanclub"
        },
    )
    .await;
    let (_, document) = get(&client, &stack, "/api/events/demo", "").await;
    assert_eq!(
        document["ticket_types"][1]["state"], "on_sale",
        "{document}"
    );
    let (status, refused) = buy(&client, &stack, "alice", &[("vip", 1)], None).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (403, Some("code_required")),
        "{refused}"
    );
    let (status, order) = buy(
        &client,
        &stack,
        "alice",
        &[("vip", 1)],
        Some(&bound_code(&stack, "alice")),
    )
    .await;
    assert_eq!(status, 201, "the fan club's rules, early: {order}");
}
