//! Request ids: a buyer's complaint quoting the `request_id` of an answer is found in the edge's
//! log and, for a request that reached an origin, in that origin's log under the same id; an id
//! from a trusted proxy is kept, one from anybody else replaced.

use crate::harness::{
    Stack, StackOptions, buy_json, eventually, fetch_token, status_and_json, token_and_buy,
};

/// The JSON log lines of `log` whose `field` is `value`.
fn lines_with(log: &str, field: &str, value: &str) -> Vec<serde_json::Value> {
    log.lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line[field] == value)
        .collect()
}

/// Waits until some origin has logged its answer to request `id`, and returns that line.
async fn origin_line(stack: &Stack, id: &str) -> serde_json::Value {
    let found = || (0..2).find_map(|i| lines_with(&stack.origin_log(i), "request_id", id).pop());
    eventually(
        &format!("an origin logging request {id}"),
        std::time::Duration::from_secs(20),
        || async { found().is_some() },
    )
    .await;
    found().expect("found above")
}

/// Waits until the edge has logged request `id`, and returns that line.
async fn edge_line(stack: &Stack, id: &str) -> serde_json::Value {
    let found = || lines_with(&stack.edge_log(), "request_id", id).pop();
    eventually(
        &format!("the edge logging request {id}"),
        std::time::Duration::from_secs(20),
        || async { found().is_some() },
    )
    .await;
    found().expect("found above")
}

fn is_generated(id: &str) -> bool {
    id.len() == 16 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

#[tokio::test]
async fn a_request_id_is_followed_from_the_edge_log_to_the_origin_log() {
    let stack = Stack::start(StackOptions {
        json_logs: true,
        log_filter: "info,edge=debug",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();

    // A buy the origin refuses (more than one user may hold): the refusal body names the id both logs carry.
    let session = stack.session("bob");
    let (status, token) = fetch_token(&client, &stack, &session).await;
    assert_eq!(status, 200, "{token}");
    let url = token["buy_url"].as_str().unwrap();
    let (status, refused) = buy_json(
        &client,
        &stack,
        url,
        &session,
        &serde_json::json!({"quantity": 5}),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["code"], "bad_request");
    let id = refused["request_id"]
        .as_str()
        .expect("request_id")
        .to_owned();
    assert!(is_generated(&id), "{id}");
    let edge = edge_line(&stack, &id).await;
    assert_eq!(edge["message"], "forwarded");
    assert_eq!(edge["route"], "buy");
    assert_eq!(edge["outcome"], "bad_request");
    let origin = origin_line(&stack, &id).await;
    assert_eq!(origin["status"], 400);
    let via = edge["origin"].as_str().unwrap();
    assert!(via.starts_with("127.0.0.1:"), "{edge}");

    // A buy that succeeds: its id, from the edge's log, is in the origin's.
    let (status, order) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201, "{order}");
    // The edge logs a request once its answer has left, so the line may trail the answer.
    let bought = || lines_with(&stack.edge_log(), "outcome", "origin_201");
    eventually(
        "the edge logging the buy",
        std::time::Duration::from_secs(20),
        || async { !bought().is_empty() },
    )
    .await;
    let forwarded = bought();
    assert_eq!(forwarded.len(), 1, "{forwarded:?}");
    let id = forwarded[0]["request_id"].as_str().unwrap();
    let origin = origin_line(&stack, id).await;
    assert_eq!(origin["status"], 201);
    assert!(
        origin["path"].as_str().unwrap().ends_with("/buy"),
        "{origin}"
    );

    // A refusal the edge gives itself carries a fresh id, whatever the client claimed, and the
    // edge's debug line names it.
    let response = client
        .post(stack.url("/api/events/demo/token"))
        .header("x-request-id", "from-the-client")
        .send()
        .await
        .unwrap();
    let (status, refused) = status_and_json(response).await;
    assert_eq!(status, 401);
    let id = refused["request_id"].as_str().expect("request_id");
    assert!(is_generated(id), "{id}");
    let edge = edge_line(&stack, id).await;
    assert_eq!(edge["message"], "answered");
    assert_eq!(edge["outcome"], "no_session");

    // The operator API's refusals carry one too.
    let response = client
        .get(format!("http://{}/admin/status", stack.admin_addr))
        .bearer_auth("not-the-admin-token")
        .send()
        .await
        .unwrap();
    let (status, refused) = status_and_json(response).await;
    assert_eq!(status, 401);
    assert_eq!(refused["code"], "bad_admin_token");
    assert!(is_generated(refused["request_id"].as_str().unwrap()));
}

#[tokio::test]
async fn an_id_from_a_trusted_proxy_is_kept_to_the_origin() {
    let stack = Stack::start(StackOptions {
        edge_options: r#"trusted_proxies = ["127.0.0.1"]"#,
        log_filter: "info",
        json_logs: true,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let session = stack.session("carol");
    let (status, token) = fetch_token(&client, &stack, &session).await;
    assert_eq!(status, 200, "{token}");
    let url = token["buy_url"].as_str().unwrap();
    let response = client
        .post(stack.url(url))
        .bearer_auth(&session)
        .header("x-request-id", "lb-7f3a:42")
        .json(&serde_json::json!({"quantity": 9}))
        .send()
        .await
        .unwrap();
    let (status, refused) = status_and_json(response).await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(refused["request_id"], "lb-7f3a:42");
    assert_eq!(origin_line(&stack, "lb-7f3a:42").await["status"], 400);

    // An id that is not plain text is replaced, even from a trusted proxy.
    let response = client
        .post(stack.url("/api/events/demo/token"))
        .header("x-request-id", "two words")
        .send()
        .await
        .unwrap();
    let (status, refused) = status_and_json(response).await;
    assert_eq!(status, 401);
    assert!(is_generated(refused["request_id"].as_str().unwrap()));
}
