//! Live reload: new weights shift traffic, a broken file changes nothing, and a rotated purchase
//! token key keeps accepting tokens signed with the previous key until that key is removed.

use futures::StreamExt;
use reqwest::Method;

use crate::harness::{Stack, StackOptions, post, token_and_buy};

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

    stack.hangup_edge();
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
