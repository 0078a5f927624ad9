//! HTTPS and HTTP/2 at the edge, with real handshakes against a test CA the clients trust (no
//! verification turned off): the whole purchase over h1 and over h2, the waiting room over h2,
//! certificates by SNI, what the plain listener does, HSTS and `Secure` cookies, a certificate
//! rotated under an open connection, every bad certificate refused by name, and the page in
//! Chromium whose profile trusts the CA.

use std::time::Duration;

use reqwest::Version;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{
    Browser, Protocol, Stack, StackOptions, certificate_files, eventually, https, status_and_json,
    token_and_buy,
};

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

    let rows = stack.orders_reaching(2).await;
    assert!(rows.iter().all(|r| r.status == sale::OrderStatus::Paid));

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
async fn sni_picks_the_certificate_and_no_name_gets_the_default() {
    let stack = Stack::start(StackOptions {
        tls_names: &[
            &["tickets.test", "127.0.0.1"],
            &["shop.test"],
            &["*.fans.test"],
        ],
        ..StackOptions::default()
    })
    .await;
    let (_, default) = stack.tls_connect("127.0.0.1", &[]).await.unwrap();
    let (_, tickets) = stack.tls_connect("tickets.test", &[]).await.unwrap();
    let (_, shop) = stack.tls_connect("shop.test", &[]).await.unwrap();
    let (_, fans) = stack.tls_connect("vip.fans.test", &[]).await.unwrap();
    assert_eq!(
        default, tickets,
        "an address sends no name: the first certificate"
    );
    assert_ne!(shop, tickets);
    assert_ne!(fans, shop);
    // A name no certificate covers gets the default, which the client then refuses.
    assert!(stack.tls_connect("other.test", &[]).await.is_err());

    let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
    let serials: Vec<&str> = status["tls"]["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["serial"].as_str().unwrap())
        .collect();
    assert_eq!(serials, [&*tickets, &*shop, &*fans]);
    let days = status["tls"]["certificates"][0]["days_left"]
        .as_i64()
        .unwrap();
    assert!(
        (360..=366).contains(&days),
        "{days} days left on a one-year certificate"
    );
    let metrics = stack.edge_metrics().await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("flashgate_edge_certificate_days_left{")
                && l.contains("cert-0.pem")),
        "{metrics}"
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

/// Sends `GET /api/events/demo` on an open HTTP/1.1 TLS stream and reads the whole answer.
async fn get_on<S: AsyncReadExt + AsyncWriteExt + Unpin>(stream: &mut S) -> String {
    stream
        .write_all(b"GET /api/events/demo HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.unwrap();
        assert!(n > 0, "the connection closed mid-answer");
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length: "))
                .unwrap()
                .parse()
                .unwrap();
            if body.len() >= length {
                return text.into_owned();
            }
        }
    }
}

#[tokio::test]
async fn a_rotated_certificate_serves_new_handshakes_while_open_connections_go_on() {
    let stack = Stack::start(https()).await;
    let (mut open, before) = stack
        .tls_connect("localhost", &[b"http/1.1"])
        .await
        .unwrap();
    assert!(get_on(&mut open).await.starts_with("HTTP/1.1 200"));

    stack.reissue_certificate(0, &["localhost", "127.0.0.1"]);
    let (status, reloaded) = stack.admin(reqwest::Method::POST, "/admin/reload").await;
    assert_eq!(status, 200, "{reloaded}");

    let (_, after) = stack.tls_connect("localhost", &[]).await.unwrap();
    assert_ne!(before, after, "a new handshake sees the new certificate");
    let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
    assert_eq!(status["tls"]["certificates"][0]["serial"], after.as_str());
    // The connection opened before the rotation is the same connection, and still serves.
    assert!(get_on(&mut open).await.starts_with("HTTP/1.1 200"));
}

/// What is wrong, how to break the files so, and which file the refusal must name.
type Breakage<'a> = (&'static str, Box<dyn Fn() + 'a>, &'a std::path::Path);

#[tokio::test]
async fn every_bad_certificate_is_refused_by_name_and_the_old_one_serves() {
    let mut stack = Stack::start(StackOptions {
        tls_names: &[&["localhost", "127.0.0.1"], &["shop.test"]],
        ..StackOptions::default()
    })
    .await;
    // Certificate 1 (shop.test) is broken below; what serves shop.test must stay as it is.
    let (_, serving) = stack.tls_connect("shop.test", &[]).await.unwrap();
    let (cert, key) = certificate_files(1);
    let cert_path = stack.path(&cert);
    let key_path = stack.path(&key);
    let good_cert = std::fs::read(&cert_path).unwrap();
    let good_key = std::fs::read(&key_path).unwrap();
    let expired = {
        let now = time::OffsetDateTime::now_utc();
        stack
            .ca()
            .issue_between(
                &["shop.test"],
                now - time::Duration::days(30),
                now - time::Duration::days(1),
            )
            .unwrap()
    };
    let other_key = stack.ca().issue(&["shop.test"]).unwrap().key_pem;
    let breakages: Vec<Breakage<'_>> = vec![
        (
            "missing",
            Box::new(|| std::fs::remove_file(&cert_path).unwrap()),
            &cert_path,
        ),
        (
            "unreadable",
            Box::new(|| {
                std::fs::remove_file(&key_path).unwrap();
                std::fs::create_dir(&key_path).unwrap();
            }),
            &key_path,
        ),
        (
            "not PEM",
            Box::new(|| std::fs::write(&cert_path, "not a certificate\n").unwrap()),
            &cert_path,
        ),
        (
            "mismatched",
            Box::new(|| std::fs::write(&key_path, &other_key).unwrap()),
            &key_path,
        ),
        (
            "expired",
            Box::new(|| {
                std::fs::write(&cert_path, &expired.cert_pem).unwrap();
                std::fs::write(&key_path, &expired.key_pem).unwrap();
            }),
            &cert_path,
        ),
    ];
    for (what, break_it, named) in breakages {
        break_it();
        let named = named.display().to_string();
        let check = stack.check_config();
        assert!(!check.0, "check-config accepted a {what} certificate");
        assert!(
            check.1.contains(&named),
            "{what}: check-config said {}",
            check.1
        );
        let (status, body) = stack.admin(reqwest::Method::POST, "/admin/reload").await;
        assert_eq!(status, 422, "{what}: reload answered {body}");
        assert!(
            body.to_string().contains(&named),
            "{what}: the reload said {body}"
        );
        let (_, still) = stack.tls_connect("shop.test", &[]).await.unwrap();
        assert_eq!(still, serving, "{what}: the old certificate keeps serving");
        // Put the good files back for the next breakage.
        if key_path.is_dir() {
            std::fs::remove_dir(&key_path).unwrap();
        }
        std::fs::write(&cert_path, &good_cert).unwrap();
        std::fs::write(&key_path, &good_key).unwrap();
    }
    assert!(stack.check_config().0, "the repaired files pass");
    stack.rewrite_config(|o| o.tls_options = "hsts = \"max-age=60\"");
    eventually(
        "the repaired config reloads",
        Duration::from_secs(10),
        || async { stack.admin(reqwest::Method::POST, "/admin/reload").await.0 == 200 },
    )
    .await;
    let answer = stack
        .https_client(Protocol::H1)
        .get(stack.https_url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.headers()["strict-transport-security"], "max-age=60");
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
    let rows = stack.orders_reaching(1).await;
    assert_eq!(rows[0].status, sale::OrderStatus::Paid);
    browser.close().await;
}

#[tokio::test]
async fn origins_reached_over_tls_are_verified_against_their_ca() {
    let stack = Stack::start(StackOptions {
        origin_tls: true,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (status, order) = token_and_buy(&client, &stack, "erin").await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(stack.orders_reaching(1).await.len(), 1);
    // The origin speaks only TLS now; plain HTTP gets nowhere.
    let plain = client
        .get(format!("http://{}/healthz", stack.origin_addrs[0]))
        .send()
        .await;
    assert!(plain.is_err(), "{plain:?}");

    // The edge trusts only the CA named for the origins: with another one there, every new
    // connection to them is refused, so their health checks fail (connections the edge had
    // already verified stay in its pool, as client connections stay open over a rotation).
    let other = flashgate::dev_tls::DevCa::generate("another CA").unwrap();
    std::fs::write(stack.path("tls/origin-ca.pem"), other.cert_pem()).unwrap();
    let (status, reloaded) = stack.admin(reqwest::Method::POST, "/admin/reload").await;
    assert_eq!(status, 200, "{reloaded}");
    stack.fault();
    let health = || async {
        let (_, status) = stack.admin(reqwest::Method::GET, "/admin/status").await;
        status["origins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["healthy"].as_bool().unwrap())
            .collect::<Vec<_>>()
    };
    eventually("the origins refused", Duration::from_secs(10), || async {
        health().await == [false, false]
    })
    .await;

    std::fs::write(stack.path("tls/origin-ca.pem"), stack.ca().cert_pem()).unwrap();
    let (status, _) = stack.admin(reqwest::Method::POST, "/admin/reload").await;
    assert_eq!(status, 200);
    eventually("the origins back", Duration::from_secs(10), || async {
        health().await == [true, true]
    })
    .await;
    assert_eq!(token_and_buy(&client, &stack, "grace").await.0, 201);
}

#[tokio::test]
async fn an_origin_whose_certificate_the_edge_cannot_verify_gets_no_buy() {
    let mut stack = Stack::prepare(StackOptions {
        origin_tls: true,
        ..StackOptions::default()
    })
    .await;
    for i in 0..stack.origin_addrs.len() {
        stack.start_origin(i);
    }
    let other = flashgate::dev_tls::DevCa::generate("another CA").unwrap();
    std::fs::write(stack.path("tls/origin-ca.pem"), other.cert_pem()).unwrap();
    stack.start_edge();
    stack.fault();
    let (status, refusal) = token_and_buy(&reqwest::Client::new(), &stack, "heidi").await;
    assert_eq!(
        (status, refusal["code"].as_str()),
        (503, Some("no_origin")),
        "{refusal}"
    );
    assert!(stack.orders_reaching(0).await.is_empty());
}
