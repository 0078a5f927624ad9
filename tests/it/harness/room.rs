//! Talking to a stack's waiting room as a buyer does: join, poll with the ticket, wait for the
//! turn, get a token and buy; and running `flashgate audit` on it.

use std::time::Duration;

use super::{Stack, eventually, status_and_json};

/// `POST`/`GET` a queue path at edge `edge` as `user`, with `ticket` if any.
pub async fn call(
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

/// `user` joins `demo`'s room at the first edge: the answer as it came.
pub async fn try_join(stack: &Stack, user: &str) -> (u16, serde_json::Value) {
    let path = "/api/events/demo/queue";
    call(stack, 0, reqwest::Method::POST, path, user, None, None).await
}

/// Asks `ask` again while it answers 503 `unavailable` (the room's write not yet confirmed by
/// replicas, as on a loaded machine), as the page does; any other answer must be a 200.
async fn answered<F, Fut>(what: &str, ask: F) -> serde_json::Value
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = (u16, serde_json::Value)>,
{
    let answer = std::sync::Mutex::new(serde_json::Value::Null);
    eventually(what, Duration::from_secs(20), || async {
        let (status, doc) = ask().await;
        if status == 503 && doc["code"] == "unavailable" {
            return false;
        }
        assert_eq!(status, 200, "{what}: {doc}");
        *answer.lock().unwrap() = doc;
        true
    })
    .await;
    answer.into_inner().unwrap()
}

/// `user` joins `demo`'s room, which must place them.
pub async fn join(stack: &Stack, user: &str) -> serde_json::Value {
    answered(&format!("{user} joining"), || try_join(stack, user)).await
}

/// `user`'s place in `demo`'s room, polled with `ticket`.
pub async fn poll(stack: &Stack, user: &str, ticket: &str) -> serde_json::Value {
    let path = "/api/events/demo/queue";
    answered(&format!("{user}'s poll"), || {
        call(
            stack,
            0,
            reqwest::Method::GET,
            path,
            user,
            Some(ticket),
            None,
        )
    })
    .await
}

/// Polls until `user` is admitted, as a client without cookies does: each poll sends the ticket
/// of the document before it (every document carries one). Returns the last document.
pub async fn until_admitted(stack: &Stack, user: &str, ticket: &str) -> serde_json::Value {
    let last = std::sync::Mutex::new(serde_json::json!({ "ticket": ticket }));
    eventually(
        &format!("{user} admitted"),
        Duration::from_secs(30),
        || async {
            let previous = last.lock().unwrap().clone();
            let ticket = previous["ticket"]
                .as_str()
                .unwrap_or_else(|| panic!("a queue document without its ticket: {previous}"));
            let doc = poll(stack, user, ticket).await;
            let admitted = doc["state"] == "admitted";
            *last.lock().unwrap() = doc;
            admitted
        },
    )
    .await;
    last.into_inner().unwrap()
}

/// `GET /api/events/{event}/fairness`: the room's published record.
pub async fn fairness(stack: &Stack, event: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(stack.url(&format!("/api/events/{event}/fairness")))
        .send()
        .await
        .unwrap();
    let (status, doc) = status_and_json(response).await;
    assert_eq!(status, 200, "{doc}");
    doc
}

/// A purchase token for `user`, with their queue `ticket` if any.
pub async fn token(stack: &Stack, user: &str, ticket: Option<&str>) -> (u16, serde_json::Value) {
    let path = "/api/events/demo/token";
    call(stack, 0, reqwest::Method::POST, path, user, ticket, None).await
}

/// An admitted buyer (`doc` is their admitted queue document) gets a token and a seat.
pub async fn buy_admitted(stack: &Stack, user: &str, doc: &serde_json::Value) {
    let (status, issued) = token(stack, user, doc["ticket"].as_str()).await;
    assert_eq!(status, 200, "{issued}");
    let buy = issued["buy_url"].as_str().unwrap().to_owned();
    let (status, order) = call(stack, 0, reqwest::Method::POST, &buy, user, None, None).await;
    assert_eq!(status, 201, "{order}");
}

/// A room whose admissions last the shortest time allowed, for tests of what happens after.
pub const SHORT_ADMISSIONS: &str =
    r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "3s" }"#;

/// The room most tests use: a minute to buy once admitted.
pub const ROOM: &str =
    r#"{ enabled = true, opens_before = "1h", admit_rate = "100/s", admission_ttl = "1m" }"#;

pub fn audit(stack: &Stack) -> (bool, String) {
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
