//! Refused purchase and order requests get the contract's status and code and never reach an
//! origin.

use crate::harness::{Stack, StackOptions, fetch_token, status_and_json};

async fn buy(
    client: &reqwest::Client,
    stack: &Stack,
    url: &str,
    session: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = client.post(stack.url(url));
    if let Some(session) = session {
        request = request.bearer_auth(session);
    }
    status_and_json(request.send().await.unwrap()).await
}

#[tokio::test]
async fn bad_buys_are_refused_at_the_edge() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");
    let bob = stack.session("bob");
    let (status, token) = fetch_token(&client, &stack, &alice).await;
    assert_eq!(status, 200);
    let alices_url = token["buy_url"].as_str().unwrap().to_owned();

    let (status, body) = buy(&client, &stack, &alices_url, None).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("no_session")));

    let (status, body) = buy(&client, &stack, &alices_url, Some("s1.Zm9yZ2Vk.AAAA")).await;
    assert_eq!((status, body["code"].as_str()), (401, Some("bad_session")));

    let forged = alices_url.replace("/buy/t1.", "/buy/t1.A");
    let (status, body) = buy(&client, &stack, &forged, Some(&alice)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("bad_token")));

    let (status, body) = buy(&client, &stack, &alices_url, Some(&bob)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("wrong_user")));

    let expired = stack.token_expiring("alice", sale::time::now_millis() - 1);
    let (status, body) = buy(
        &client,
        &stack,
        &format!("/api/events/demo/buy/{expired}"),
        Some(&alice),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (403, Some("token_expired"))
    );
    // The one refusal an origin gives: a genuine link past its expiry, from its owner, may have
    // bought (its answer lost), so an origin's replay answers its order or `token_expired`.
    let replays =
        stack.origin_requests(0, "replay").await + stack.origin_requests(1, "replay").await;
    assert_eq!(replays, 1);

    let (status, body) = buy(&client, &stack, "/api/events/nope/buy/x", Some(&alice)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_event"))
    );

    // A path segment that is no order id, or not even valid percent-encoding, is nobody's
    // order: the same small JSON 404 as another user's order.
    for junk in ["%FF", "nope", "demo.zz"] {
        let shown = client
            .get(stack.url(&format!("/api/orders/{junk}")))
            .bearer_auth(&alice)
            .send()
            .await
            .unwrap();
        let (status, body) = status_and_json(shown).await;
        assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        for action in ["pay", "cancel"] {
            let url = format!("/api/orders/{junk}/{action}");
            let (status, body) = buy(&client, &stack, &url, Some(&alice)).await;
            assert_eq!((status, body["code"].as_str()), (404, Some("not_found")));
        }
    }

    // A wrong method is told which ones the path answers.
    let wrong = client
        .get(stack.url(&alices_url))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    let allow = wrong.headers().get("allow").cloned();
    let (status, body) = status_and_json(wrong).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
    assert_eq!(allow.as_ref().and_then(|v| v.to_str().ok()), Some("POST"));

    assert_eq!(
        stack.origin_traffic().await,
        1,
        "a request refused at the edge reached an origin"
    );

    // The same token from its owner does go through: the refusals above were about the request.
    let (status, body) = buy(&client, &stack, &alices_url, Some(&alice)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(stack.origin_traffic().await, 2);
}
