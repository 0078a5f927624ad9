//! Origins serve only what the edge signed: a direct request is refused, however it is dressed up;
//! and an origin sells only on a Redis that keeps what it acknowledges.

use sale::UserId;
use sale::edge_signature::{self, Claims};

use crate::harness::{Stack, StackOptions, status_and_json};

const PATH: &str = "/internal/events/demo/buy";

fn signed_headers(stack: &Stack, path: &str, signed_at: u64) -> Vec<(&'static str, String)> {
    let claims = Claims {
        user: Some(UserId::parse("mallory").unwrap()),
        nonce: Some("n-1".into()),
        signed_at,
    };
    edge_signature::sign(&stack.config.secrets.internal_keys, "POST", path, &claims)
}

async fn post(stack: &Stack, headers: &[(&'static str, String)]) -> (u16, serde_json::Value) {
    let mut request =
        reqwest::Client::new().post(format!("http://{}{PATH}", stack.origin_addrs[0]));
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    status_and_json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn an_origin_refuses_requests_without_the_edge_signature() {
    let stack = Stack::start(StackOptions {
        weights: vec![1],
        ..StackOptions::default()
    })
    .await;
    let now = sale::time::now_millis();

    let (status, body) = post(&stack, &[]).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unsigned")));

    let mut forged = signed_headers(&stack, PATH, now);
    for (name, value) in &mut forged {
        if *name == edge_signature::HEADER_USER {
            *value = "alice".into();
        }
    }
    let (status, body) = post(&stack, &forged).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("unsigned")));

    let for_another_path = signed_headers(&stack, "/internal/orders/x", now);
    let (status, _) = post(&stack, &for_another_path).await;
    assert_eq!(status, 401);

    let stale = signed_headers(&stack, PATH, now - 120_000);
    let (status, _) = post(&stack, &stale).await;
    assert_eq!(status, 401);

    assert_eq!(stack.origin_unsigned(0).await, 4);
    assert_eq!(stack.origin_requests(0, "buy").await, 0);

    // A genuine signature is accepted, so the refusals above were about the signature.
    let (status, body) = post(&stack, &signed_headers(&stack, PATH, now)).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn an_origin_refuses_a_redis_that_would_lose_accepted_orders_unless_told_to_warn() {
    let stack = Stack::prepare(StackOptions::default()).await;
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendfsync")
        .arg("everysec")
        .query_async(&mut stack.redis().await)
        .await
        .unwrap();
    let log = stack.origin_refusing_to_start(0);
    assert!(
        log.contains("weaker than redis.durability requires"),
        "{log}"
    );

    let mut warned = Stack::prepare(StackOptions {
        redis_options: r#"on_weak_durability = "warn""#,
        ..StackOptions::default()
    })
    .await;
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("appendonly")
        .arg("no")
        .query_async(&mut warned.redis().await)
        .await
        .unwrap();
    // Told to warn, it starts, and says why it should not have.
    warned.start_origin(0);
    let log = warned.origin_log(0);
    assert!(
        log.contains("selling on Redis weaker than configured")
            && log.contains("weaker than redis.durability requires"),
        "{log}"
    );
}

#[tokio::test]
async fn a_component_started_on_its_own_refuses_relative_sale_times() {
    // The test stack's file says `starts_at = "+0s"`: without the start `up` shares with every
    // component, each would count it from its own start.
    let stack = Stack::prepare(StackOptions::default()).await;
    for component in ["origin", "edge"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
            .args([component, "--config"])
            .arg(stack.config_path())
            .env_remove(sale::config::Environment::EPOCH_VAR)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{component} started: {said}");
        assert!(
            said.contains("starts_at") && said.contains("FLASHGATE_EPOCH_MS"),
            "{component}: {said}"
        );
    }
}
