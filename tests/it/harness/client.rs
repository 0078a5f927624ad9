//! Talking to a test stack over HTTP as a buyer would, and waiting on real conditions.

use std::future::Future;
use std::time::Duration;

use super::Stack;

/// Polls `condition` every 25 ms until it holds; fails the test with `what` after `timeout`. The
/// one place tests wait: always on a real condition, always bounded.
pub async fn eventually<F, Fut>(what: &str, timeout: Duration, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Sums the samples of `metric` whose labels contain `label`.
pub fn metric_sum(text: &str, metric: &str, label: &str) -> u64 {
    text.lines()
        .filter(|line| line.starts_with(metric) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

/// A response's status and JSON body.
pub async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    (status, body)
}

/// `POST /api/events/demo/token` for `session`, returning status and body.
pub async fn fetch_token(
    client: &reqwest::Client,
    stack: &Stack,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(session)
        .send()
        .await
        .expect("edge answers");
    status_and_json(response).await
}

/// `POST` to `path` on the edge as `session`.
pub async fn post(
    client: &reqwest::Client,
    stack: &Stack,
    path: &str,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = client
        .post(stack.url(path))
        .bearer_auth(session)
        .send()
        .await
        .expect("edge answers");
    status_and_json(response).await
}

/// Token then buy for `user`; returns the buy's status and body (or the token refusal).
pub async fn token_and_buy(
    client: &reqwest::Client,
    stack: &Stack,
    user: &str,
) -> (u16, serde_json::Value) {
    let session = stack.session(user);
    let (status, token) = fetch_token(client, stack, &session).await;
    if status != 200 {
        return (status, token);
    }
    let buy_url = token["buy_url"].as_str().expect("buy_url");
    post(client, stack, buy_url, &session).await
}
