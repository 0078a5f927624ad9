//! What operators and browsers rely on beyond buying: the page's caching and compression, the
//! admin gate that opens or closes a sale early, the metrics, and the dashboard's sign-in.
//!
//! Over 300 lines because it holds each operator surface's own test.

use reqwest::Method;
use reqwest::header::{
    ACCEPT_ENCODING, CONTENT_ENCODING, CONTENT_SECURITY_POLICY, CONTENT_TYPE, COOKIE, ETAG,
    IF_NONE_MATCH, LOCATION, SET_COOKIE,
};

use crate::harness::{Stack, StackOptions, eventually, fetch_token};

#[tokio::test]
async fn the_page_revalidates_and_compresses() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::builder()
        .no_gzip()
        .no_brotli()
        .build()
        .unwrap();
    let plain = client.get(stack.url("/")).send().await.unwrap();
    let etag = plain.headers()[ETAG].clone();
    let size = plain.bytes().await.unwrap().len();

    let again = client
        .get(stack.url("/"))
        .header(IF_NONE_MATCH, etag.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert!(again.bytes().await.unwrap().is_empty());

    let br = client
        .get(stack.url("/"))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()[CONTENT_ENCODING], "br");
    assert!(br.bytes().await.unwrap().len() < size);
    let gz = client
        .get(stack.url("/"))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()[CONTENT_ENCODING], "gzip");
    assert_eq!(
        client
            .get(stack.url("/static/missing.js"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // An HTTP/1.0 client without keep-alive reads until the connection closes: the edge must close.
    use std::io::{Read, Write};
    let mut raw = std::net::TcpStream::connect(stack.edge_addr).unwrap();
    raw.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(raw, "GET / HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
    let mut answer = Vec::new();
    raw.read_to_end(&mut answer)
        .expect("the edge closes an HTTP/1.0 connection after the response");
    assert!(answer.starts_with(b"HTTP/1.1 200"));
}

#[tokio::test]
async fn operators_open_and_close_a_sale_early() {
    let stack = Stack::start(StackOptions {
        starts: "+1h",
        ends: "+2h",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let state = || async {
        let event: serde_json::Value = stack.event_document().await;
        event["state"].as_str().unwrap().to_owned()
    };
    assert_eq!(state().await, "upcoming");

    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/open").await;
    assert_eq!(status, 200);
    let ten_seconds = std::time::Duration::from_secs(10);
    eventually("the open gate showing", ten_seconds, || async {
        state().await == "on_sale"
    })
    .await;
    let (status, order) = crate::harness::token_and_buy(&client, &stack, "early-bird").await;
    assert_eq!(
        status, 201,
        "the origin's script honours the gate too: {order}"
    );

    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/close").await;
    assert_eq!(status, 200);
    eventually("the close gate showing", ten_seconds, || async {
        state().await == "ended"
    })
    .await;
    let (status, body) = fetch_token(&client, &stack, &stack.session("late")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("ended")));
    let (status, body) = stack.admin(Method::POST, "/admin/events/nope/open").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_event"))
    );

    // Counters move at once; gauges are refreshed every second, so wait (bounded) for them.
    let expected = [
        "flashgate_edge_requests_total{route=\"token\",code=\"ended\"} 1",
        "flashgate_edge_forwarded_buys_total 1",
        "flashgate_edge_request_seconds_bucket",
        "flashgate_edge_origin_healthy",
        "flashgate_edge_config_version 1",
    ];
    eventually("every expected metric", ten_seconds, || async {
        let text = stack.edge_metrics().await;
        expected.iter().all(|series| text.contains(series))
    })
    .await;
}

#[tokio::test]
async fn the_dashboard_signs_browsers_in_and_refuses_forged_changes() {
    let stack = Stack::start(StackOptions::default()).await;
    let admin = |path: &str| format!("http://{}{path}", stack.admin_addr);
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let location = |r: &reqwest::Response| r.headers()[LOCATION].to_str().unwrap().to_owned();

    let page = browser.get(admin("/admin/dashboard")).send().await.unwrap();
    assert_eq!(page.status(), 303);
    assert_eq!(location(&page), "/admin/sign-in");
    let api = browser.get(admin("/admin/status")).send().await.unwrap();
    assert_eq!(api.status(), 401, "the API answers JSON, not a redirect");

    let sign_in = |token: &str| {
        browser
            .post(admin("/admin/sign-in"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(format!("token={token}"))
            .send()
    };
    let refused = sign_in("wrong-token-0123456789").await.unwrap();
    assert_eq!(refused.status(), 401);
    assert!(refused.headers().get(SET_COOKIE).is_none());
    let accepted = sign_in(crate::harness::ADMIN_TOKEN).await.unwrap();
    assert_eq!(accepted.status(), 303);
    assert_eq!(location(&accepted), "/admin/dashboard");
    let set_cookie = accepted.headers()[SET_COOKIE].to_str().unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().unwrap().to_owned();

    let page = browser
        .get(admin("/admin/dashboard"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("frame-ancestors 'none'")
    );
    // A change riding on the cookie alone is what a forged cross-site form would send.
    let forged = browser
        .post(admin("/admin/reload"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    let (status, body) = crate::harness::status_and_json(forged).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("cross_site")));
    let from_dashboard = browser
        .post(admin("/admin/reload"))
        .header(COOKIE, &cookie)
        .header("x-flashgate-dashboard", "1")
        .send()
        .await
        .unwrap();
    let (status, body) = crate::harness::status_and_json(from_dashboard).await;
    assert_eq!((status, body["config_version"].as_u64()), (200, Some(2)));

    let signed_out = browser
        .post(admin("/admin/sign-out"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert!(
        signed_out.headers()[SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn origin_refusals_are_counted_by_reason_and_not_shown() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let (status, _) = crate::harness::token_and_buy(&client, &stack, "twice").await;
    assert_eq!(status, 201);
    let session = stack.session("twice");
    let (_, token) = fetch_token(&client, &stack, &session).await;
    let again = client
        .post(stack.url(token["buy_url"].as_str().unwrap()))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    assert!(
        again.headers().get("x-fg-refusal").is_none(),
        "the origin's note to the edge stays inside"
    );
    let metrics = stack.edge_metrics().await;
    assert!(
        metrics.contains("flashgate_edge_requests_total{route=\"buy\",code=\"already_bought\"} 1"),
        "{metrics}"
    );
}

/// The `demo` gate as the edge's view last read it.
async fn viewed_gate(stack: &Stack) -> String {
    let (_, status) = stack.admin(Method::GET, "/admin/status").await;
    status["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["id"] == "demo")
        .map(|e| e["seats"]["gate"].as_str().unwrap().to_owned())
        .unwrap()
}

#[tokio::test]
async fn an_early_opening_still_ends_at_ends_at() {
    let stack = Stack::start(StackOptions {
        starts: "-2h",
        ends: "-1h",
        ..StackOptions::default()
    })
    .await;
    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/open").await;
    assert_eq!(status, 200);
    eventually(
        "the edge seeing the gate",
        std::time::Duration::from_secs(10),
        || async { viewed_gate(&stack).await == "open" },
    )
    .await;
    assert_eq!(stack.event_document().await["state"], "ended");
    let client = reqwest::Client::new();
    let (status, body) = fetch_token(&client, &stack, &stack.session("late")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("ended")));
    // The reservation script agrees, for a genuine token minted by hand.
    let token = stack.token_expiring("late", sale::time::now_millis() + 60_000);
    let url = format!("/api/events/demo/buy/{token}");
    let (status, body) = crate::harness::post(&client, &stack, &url, &stack.session("late")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("ended")));
}

#[tokio::test]
async fn a_gate_set_before_any_origin_seeded_never_makes_a_half_event() {
    let mut stack = Stack::prepare(StackOptions::default()).await;
    stack.start_edge();
    let (status, body) = stack.admin(Method::POST, "/admin/events/demo/open").await;
    assert_eq!((status, body["code"].as_str()), (409, Some("not_seeded")));

    // A gate written into the empty hash by an older edge must not stop seeding either.
    let seats = sale::redis_keys::EventKeys::new(&sale::EventId::parse("demo").unwrap()).seats;
    let _: () = redis::AsyncCommands::hset(&mut stack.redis().await, &seats, "gate", "open")
        .await
        .unwrap();
    stack.start_origin(0);
    stack.start_origin(1);
    assert_eq!(stack.remaining().await, 100);
    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/close").await;
    assert_eq!(status, 200);
    let (status, _) = stack.admin(Method::POST, "/admin/events/demo/open").await;
    assert_eq!(status, 200);
    stack.wait_until_origins_healthy().await;
    stack.wait_until_selling(100).await;
    let client = reqwest::Client::new();
    let (status, order) = crate::harness::token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201, "{order}");
    assert!(stack.reconcile().await.is_clean());
}
