//! HTTPS and HTTP/2 at the edge, with real handshakes against a test CA the clients trust (no
//! verification turned off): the whole purchase over h1 and over h2, the waiting room over h2,
//! what the plain listener does, HSTS and `Secure` cookies, and the page in Chromium whose
//! profile trusts the CA. Certificates are in `certificates.rs`, TLS to origins in
//! `origin_tls.rs`.

use reqwest::Version;

use crate::harness::{Browser, Protocol, Stack, StackOptions, https, status_and_json};

/// Signs `user` in through the dev endpoint, gets a token, buys one and pays, all with `client`
/// on the https listener; every answer must come over `version`.
async fn purchase(stack: &Stack, client: &reqwest::Client, user: &str, version: Version) {
    let page = client
        .get(stack.https_url("/events/demo"))
        .send()
        .await
        .unwrap();
    assert_eq!((page.status().as_u16(), page.version()), (200, version));
    assert!(page.text().await.unwrap().contains("<button"));

    let signed_in = client
        .post(stack.https_url(&format!("/api/dev/session?user={user}")))
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.version(), version);
    let cookie = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.ends_with("; Secure"), "{cookie}");
    let (status, session) = status_and_json(signed_in).await;
    assert_eq!(status, 200, "{session}");
    let session = session["session"].as_str().unwrap().to_owned();

    let token = stack
        .https_post(client, "/api/events/demo/token", &session)
        .await;
    assert_eq!(token.version(), version);
    let (status, token) = status_and_json(token).await;
    assert_eq!(status, 200, "{token}");
    let buy_url = token["buy_url"].as_str().unwrap();

    let buy = client
        .post(stack.https_url(buy_url))
        .bearer_auth(&session)
        .json(&serde_json::json!({ "quantity": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(buy.version(), version);
    let (status, order) = status_and_json(buy).await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["order_id"].as_str().unwrap();

    for (path, status, code) in [
        ("/api/events/demo/buy/forged.token", 403, "bad_token"),
        ("/api/events/nowhere/token", 404, "unknown_event"),
    ] {
        let refused = client
            .post(stack.https_url(path))
            .bearer_auth(&session)
            .json(&serde_json::json!({ "quantity": 1 }))
            .send()
            .await
            .unwrap();
        assert_eq!(refused.version(), version);
        let (answered, refusal) = status_and_json(refused).await;
        assert_eq!((answered, refusal["code"].as_str()), (status, Some(code)));
    }
    let second = stack
        .https_post(client, "/api/events/demo/token", &session)
        .await;
    let (_, second) = status_and_json(second).await;
    let again = stack
        .https_post(client, second["buy_url"].as_str().unwrap(), &session)
        .await;
    let (status, refusal) = status_and_json(again).await;
    assert_eq!(
        (status, refusal["code"].as_str()),
        (409, Some("already_bought")),
        "over {version:?}"
    );

    let paid = stack
        .https_post(client, &format!("/api/orders/{order_id}/pay"), &session)
        .await;
    assert_eq!(paid.version(), version);
    let (status, paid) = status_and_json(paid).await;
    assert_eq!(
        (status, paid["status"].as_str()),
        (200, Some("paid")),
        "{paid}"
    );
}

#[tokio::test]
async fn the_whole_purchase_works_over_h1_and_h2() {
    let stack = Stack::start(https()).await;
    let h1 = stack.https_client(Protocol::H1);
    purchase(&stack, &h1, "alice", Version::HTTP_11).await;
    let h2 = stack.https_client(Protocol::H2);
    purchase(&stack, &h2, "bob", Version::HTTP_2).await;

    let rows = stack.orders_all(2, sale::OrderStatus::Paid).await;
    assert_eq!(rows.len(), 2);

    // Without the CA, no client gets in: verification is on, and it is what refuses.
    let stranger = reqwest::Client::builder().build().unwrap();
    let refused = stranger.get(stack.https_url("/")).send().await.unwrap_err();
    assert!(
        format!("{refused:?}").contains("UnknownIssuer"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn the_waiting_room_works_over_h2() {
    let stack = Stack::start(StackOptions {
        queue: crate::harness::room::ROOM,
        ..https()
    })
    .await;
    let h2 = stack.https_client(Protocol::H2);
    let joined = h2
        .post(stack.https_url("/api/events/demo/queue"))
        .bearer_auth(stack.session("carol"))
        .send()
        .await
        .unwrap();
    assert_eq!(joined.version(), Version::HTTP_2);
    let cookie = joined.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("fg_queue_demo=") && cookie.ends_with("; Secure"));
    let (status, doc) = status_and_json(joined).await;
    assert_eq!(status, 200, "{doc}");
    let ticket = doc["ticket"].as_str().unwrap().to_owned();
    let poll = h2
        .get(stack.https_url("/api/events/demo/queue"))
        .bearer_auth(stack.session("carol"))
        .header("x-fg-queue", &ticket)
        .send()
        .await
        .unwrap();
    assert_eq!(poll.version(), Version::HTTP_2);
    let (status, doc) = status_and_json(poll).await;
    assert_eq!(status, 200, "{doc}");
    assert!(
        ["pre_queue", "waiting", "admitted"].contains(&doc["state"].as_str().unwrap()),
        "{doc}"
    );
}

#[tokio::test]
async fn the_plain_listener_redirects_pages_and_refuses_the_api() {
    let stack = Stack::start(StackOptions {
        tls_options: "plain = \"redirect\"\nhsts = \"max-age=63072000; includeSubDomains\"",
        edge_options: "trusted_proxies = [\"127.0.0.1\"]",
        ..https()
    })
    .await;
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = plain
        .get(stack.url("/events/demo?from=mail"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 308);
    assert_eq!(
        page.headers()["location"],
        stack.https_url("/events/demo?from=mail").as_str()
    );
    assert!(
        !page.headers().contains_key("strict-transport-security"),
        "HSTS is only sent over https"
    );
    let api = plain
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(stack.session("dave"))
        .send()
        .await
        .unwrap();
    let (status, refusal) = status_and_json(api).await;
    assert_eq!(
        (status, refusal["code"].as_str()),
        (403, Some("https_required"))
    );

    // A trusted proxy in front (loopback is trusted here) that terminated TLS is believed.
    let forwarded = plain
        .get(stack.url("/api/events/demo"))
        .header("x-forwarded-proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(forwarded.status(), 200);
    assert_eq!(
        forwarded.headers()["strict-transport-security"],
        "max-age=63072000; includeSubDomains"
    );

    for protocol in [Protocol::H1, Protocol::H2] {
        let client = stack.https_client(protocol);
        for path in ["/events/demo", "/api/events/demo", "/api/events/nowhere"] {
            let answer = client.get(stack.https_url(path)).send().await.unwrap();
            assert_eq!(
                answer.headers()["strict-transport-security"],
                "max-age=63072000; includeSubDomains",
                "{path} over {protocol:?}"
            );
        }
        // An answer an origin wrote carries it too.
        let order = client
            .get(stack.https_url("/api/orders/demo.0123456789abcdef0123456789abcdef"))
            .bearer_auth(stack.session("dave"))
            .send()
            .await
            .unwrap();
        assert_eq!(order.status(), 404);
        assert!(order.headers().contains_key("strict-transport-security"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_buys_over_https_in_a_browser_that_trusts_the_ca() {
    let stack = Stack::start(StackOptions {
        tls_options: "hsts = \"max-age=300\"",
        ..https()
    })
    .await;
    let url = stack
        .https_url("/events/demo")
        .replace("127.0.0.1", "localhost");

    // The CA is trusted by this browser's profile (its NSS store), not by ignoring errors: the
    // same page in a profile without it never loads.
    let stranger = Browser::start("https_page_without_the_ca").await;
    stranger.goto(&url).await;
    let shown = stranger.script("return document.body.innerText;").await;
    assert!(
        shown
            .as_str()
            .unwrap()
            .contains("ERR_CERT_AUTHORITY_INVALID"),
        "a profile without the CA refuses the certificate: {shown}"
    );
    stranger.close().await;

    let mut browser = Browser::start_trusting(
        "the_page_buys_over_https_in_a_browser_that_trusts_the_ca",
        stack.ca().cert_pem(),
    )
    .await;
    browser.goto(&url).await;
    browser
        .wait_for_text("#name", "the event name", |t| t == "Test event")
        .await;
    let secure = browser
        .script("return [location.protocol, window.isSecureContext];")
        .await;
    assert_eq!(secure, serde_json::json!(["https:", true]));
    browser.wait_for_enabled("#buy", true).await;
    browser.screenshot("on-sale-over-https").await;
    browser.click("#buy").await;
    browser
        .wait_for_text("#message", "the reservation", |t| {
            t.starts_with("Seat reserved!")
        })
        .await;
    browser.screenshot("reserved-over-https").await;
    browser.click("#pay").await;
    browser
        .wait_for_text("#message", "the payment", |t| t.ends_with(": paid."))
        .await;
    let rows = stack.orders_all(1, sale::OrderStatus::Paid).await;
    assert_eq!(rows.len(), 1);
    browser.close().await;
}
