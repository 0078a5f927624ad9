//! Talking to a test stack over HTTP as a buyer would, and waiting on real conditions.

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// A response's status and JSON body, checked against docs/openapi.json.
pub async fn status_and_json(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let path = response.url().path().to_owned();
    let body = response.json().await.unwrap_or(serde_json::Value::Null);
    if !body.is_null() {
        super::openapi::check(&path, status, &body);
    }
    (status, body)
}

/// Sends `request` as a browser does: a connection that fails before any byte of the answer
/// (a kept-alive connection the server had just closed) is retried once on a new one. Retrying a
/// buy this way is safe: the same link returns the same order. Each resend is counted on
/// `stack`, and a stack whose test broke nothing fails if any was needed.
pub async fn send(stack: &Stack, request: reqwest::RequestBuilder) -> reqwest::Response {
    let retry = request
        .try_clone()
        .expect("test requests have cloneable bodies");
    match request.send().await {
        Ok(response) => response,
        Err(e) if e.is_request() || e.is_connect() => {
            stack.resent();
            retry
                .send()
                .await
                .expect("the edge answers a retried request")
        }
        Err(e) => panic!("the edge did not answer: {e}"),
    }
}

/// `POST /api/events/demo/token` for `session`, returning status and body.
pub async fn fetch_token(
    client: &reqwest::Client,
    stack: &Stack,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = send(
        stack,
        client
            .post(stack.url("/api/events/demo/token"))
            .bearer_auth(session),
    )
    .await;
    status_and_json(response).await
}

/// `GET path` as `session`, returning status and body.
pub async fn get(
    client: &reqwest::Client,
    stack: &Stack,
    path: &str,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = send(stack, client.get(stack.url(path)).bearer_auth(session)).await;
    status_and_json(response).await
}

/// `POST` to `path` on the edge as `session`.
pub async fn post(
    client: &reqwest::Client,
    stack: &Stack,
    path: &str,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = send(stack, client.post(stack.url(path)).bearer_auth(session)).await;
    status_and_json(response).await
}

/// `POST` `body` as JSON to `path` on the edge as `session`.
pub async fn post_json(
    client: &reqwest::Client,
    stack: &Stack,
    path: &str,
    session: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let request = client.post(stack.url(path)).bearer_auth(session).json(body);
    status_and_json(send(stack, request).await).await
}

/// A buy of `body` at `url` as `session`, as the page sends it: a 503 `unavailable` (an
/// origin's local allowance spent until its next refill, while another may still hold seats) is
/// retried with the same link within a minute.
pub async fn buy_json(
    client: &reqwest::Client,
    stack: &Stack,
    url: &str,
    session: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let (status, answer) = post_json(client, stack, url, session, body).await;
        if status != 503
            || answer["code"] != "unavailable"
            || tokio::time::Instant::now() > deadline
        {
            return (status, answer);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
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

/// Token then a buy of `body` for `user`, retried as the page does ([`buy_json`]); returns the
/// buy's status and body (or the token refusal).
pub async fn token_and_buy_json(
    client: &reqwest::Client,
    stack: &Stack,
    user: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let session = stack.session(user);
    let (status, token) = fetch_token(client, stack, &session).await;
    if status != 200 {
        return (status, token);
    }
    let url = token["buy_url"].as_str().expect("buy_url");
    buy_json(client, stack, url, &session, &body).await
}

/// How long a patient buyer keeps trying, in all.
const PATIENCE: Duration = Duration::from_secs(60);

/// Whether an answer tells the client to try again: 503 `unavailable` (Redis or its replicas
/// late: the outcome unknown, the same link retried returns the order). Only in a test that broke
/// part of the stack on purpose, also 503 `no_origin` and 502 `origin_failed` (an origin killed
/// or frozen with the request on it). Any other 5xx (a 500 `internal` from a panic, or a dropped
/// origin connection where nothing was broken) fails the test, never retried into a pass.
fn retry_later(stack: &Stack, status: u16, body: &serde_json::Value) -> bool {
    if status < 500 {
        return false;
    }
    let code = body["code"].as_str().unwrap_or("");
    let retry = match (status, code) {
        (503, "unavailable") => true,
        (503, "no_origin") | (502, "origin_failed") => stack.faults_injected(),
        _ => false,
    };
    assert!(retry, "a 5xx that is no retry here: {status} {body}");
    true
}

/// Buys for `user` the way a patient buyer does while the stack falters: an answer that says to
/// retry ([`retry_later`]) on the token or the buy is retried every 50 ms (the buy with the same
/// token, so a retry finds the order if the first attempt did reserve), within [`PATIENCE`] in
/// all. Counts the retries in `retries`.
pub async fn patient_buy(
    client: &reqwest::Client,
    stack: &Stack,
    user: &str,
    retries: &AtomicUsize,
) -> (u16, serde_json::Value) {
    let session = stack.session(user);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut url: Option<String> = None;
    while tokio::time::Instant::now() < deadline {
        let (status, body) = match &url {
            None => fetch_token(client, stack, &session).await,
            Some(url) => post(client, stack, url, &session).await,
        };
        if retry_later(stack, status, &body) {
            retries.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        match (&url, status) {
            (None, 200) => url = Some(body["buy_url"].as_str().expect("buy_url").to_owned()),
            _ => return (status, body),
        }
    }
    panic!("{user} never got a definite answer within {PATIENCE:?}");
}
