//! Every refusal of the contract that the edge owns: status, code, Retry-After where due, and
//! never a request reaching an origin.
//!
//! Over 300 lines because it holds every edge refusal of the contract, each its own test.

use crate::harness::{Stack, StackOptions, fetch_token, post, status_and_json, token_and_buy};

async fn token_url(client: &reqwest::Client, stack: &Stack, user: &str, event: &str) -> String {
    let response = client
        .post(stack.url(&format!("/api/events/{event}/token")))
        .bearer_auth(stack.session(user))
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 200, "{body}");
    body["buy_url"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn another_events_token_is_refused_and_a_reused_link_gets_its_order_without_spending_the_origin_rate()
 {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let alice = stack.session("alice");

    let other_url = token_url(&client, &stack, "alice", "other").await;
    let misdirected = other_url.replace("/events/other/", "/events/demo/");
    let (status, body) = post(&client, &stack, &misdirected, &alice).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("bad_token")));
    assert_eq!(stack.origin_traffic().await, 0);

    let url = token_url(&client, &stack, "alice", "demo").await;
    let (status, first) = post(&client, &stack, &url, &alice).await;
    assert_eq!(status, 201);
    let (status, again) = post(&client, &stack, &url, &alice).await;
    assert_eq!(
        (status, &again["order_id"], again["status"].as_str()),
        (201, &first["order_id"], Some("reserved")),
        "a retried link gets the same order back"
    );
    assert_eq!(again["pay_by"], first["pay_by"]);
    // The retry is answered by an origin (which alone knows the order's state now) and spends
    // nothing of the origin rate.
    assert_eq!(stack.origin_traffic().await, 2);
    assert!(
        stack
            .edge_metrics()
            .await
            .contains("flashgate_edge_forwarded_buys_total 1\n"),
        "one buy counted against the origin rate, the first use"
    );
}

/// A buy of `demo` by `user` with a genuine token the edge would not hand out now (outside the
/// window), minted with its key.
async fn buy_with_minted_token(
    client: &reqwest::Client,
    stack: &Stack,
    user: &str,
) -> (u16, serde_json::Value) {
    let token = stack.token_expiring(user, sale::time::now_millis() + 60_000);
    let url = format!("/api/events/demo/buy/{token}");
    post(client, stack, &url, &stack.session(user)).await
}

#[tokio::test]
async fn tokens_and_buys_before_the_sale_are_refused() {
    let stack = Stack::start(StackOptions {
        starts: "+1h",
        ends: "+2h",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (status, body) = fetch_token(&client, &stack, &stack.session("alice")).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_started")));
    // The window is public, so it is answered before any session is checked.
    let (status, body) = fetch_token(&client, &stack, "garbage").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_started")));
    assert_eq!(stack.event_document().await["state"], "upcoming");

    let (status, body) = buy_with_minted_token(&client, &stack, "alice").await;
    assert_eq!((status, body["code"].as_str()), (403, Some("not_started")));
    let event: serde_json::Value = stack.event_document().await;
    assert_eq!(
        body["starts_at"], event["starts_at"],
        "the refusal says when the sale starts"
    );
    assert_eq!(stack.origin_traffic().await, 0);
}

#[tokio::test]
async fn tokens_and_buys_after_the_sale_are_refused() {
    let stack = Stack::start(StackOptions {
        starts: "-2h",
        ends: "-1h",
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let (status, body) = fetch_token(&client, &stack, &stack.session("alice")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("ended")));
    let event: serde_json::Value = stack.event_document().await;
    assert_eq!(event["state"], "ended");
    assert_eq!(stack.origin_traffic().await, 0);
    // A genuine token may have bought before the end, which only Redis knows: the script answers.
    let (status, body) = buy_with_minted_token(&client, &stack, "alice").await;
    assert_eq!((status, body["code"].as_str()), (410, Some("ended")));
}

#[tokio::test]
async fn once_sold_out_the_edge_answers_itself() {
    let stack = Stack::start(StackOptions {
        stock: 1,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let bobs_url = token_url(&client, &stack, "bob", "demo").await;
    let (status, _) = token_and_buy(&client, &stack, "alice").await;
    assert_eq!(status, 201);
    let traffic = stack.origin_traffic().await;

    // The origin that sold the last seat said so; the edge needs no Redis read to know.
    let (status, body) = fetch_token(&client, &stack, &stack.session("carol")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("sold_out")));
    assert_eq!(stack.event_document().await["state"], "sold_out");
    assert_eq!(
        stack.origin_traffic().await,
        traffic,
        "sold-out refusals reached an origin"
    );
    // Bob's genuine token might have bought (only Redis knows), so the script answers it.
    let (status, body) = post(&client, &stack, &bobs_url, &stack.session("bob")).await;
    assert_eq!((status, body["code"].as_str()), (410, Some("sold_out")));
}

/// Sends a request expected to be over a cap; returns its status, body and Retry-After seconds.
async fn capped(request: reqwest::RequestBuilder) -> (u16, serde_json::Value, u64) {
    let response = request.send().await.unwrap();
    let retry_after = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let (status, body) = status_and_json(response).await;
    (status, body, retry_after)
}

#[tokio::test]
async fn a_user_over_the_cap_gets_429_with_retry_after() {
    let stack = Stack::start(StackOptions {
        limits: r#"{ per_user = { rate = "1/m", burst = 2 }, per_ip = { rate = "1000/s" } }"#,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    for _ in 0..2 {
        assert_eq!(
            fetch_token(&client, &stack, &stack.session("alice"))
                .await
                .0,
            200
        );
    }
    let request = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(stack.session("alice"));
    let (status, body, retry_after) = capped(request).await;
    // One request a minute, the burst just spent: the next is most of a minute away.
    assert!(
        (50..=60).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    assert_eq!(
        fetch_token(&client, &stack, &stack.session("bob")).await.0,
        200,
        "other users are unaffected"
    );
    assert_eq!(stack.origin_traffic().await, 0);
}

#[tokio::test]
async fn an_address_over_the_cap_gets_429_with_retry_after() {
    let stack = Stack::start(StackOptions {
        limits: r#"{ per_ip = { rate = "1/m", burst = 3 }, per_user = { rate = "1000/s" } }"#,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    for user in ["a", "b", "c"] {
        assert_eq!(
            fetch_token(&client, &stack, &stack.session(user)).await.0,
            200
        );
    }
    let request = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(stack.session("d"));
    let (status, body, retry_after) = capped(request).await;
    // One request a minute, the burst just spent: the next is most of a minute away.
    assert!(
        (50..=60).contains(&retry_after),
        "Retry-After {retry_after}"
    );
    assert_eq!((status, body["code"].as_str()), (429, Some("rate_limited")));
    // A spoofed X-Forwarded-For from an untrusted client changes nothing.
    let response = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(stack.session("e"))
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        client.get(stack.url("/")).send().await.unwrap().status(),
        200,
        "pages are not capped"
    );
    assert_eq!(stack.origin_traffic().await, 0);
}

#[tokio::test]
async fn smuggled_and_oversized_bodies_are_refused_and_any_under_the_limit_is_read() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let url = token_url(&client, &stack, "alice", "demo").await;
    let response = client
        .post(stack.url(&url))
        .bearer_auth(stack.session("alice"))
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!((status, body["code"].as_str()), (413, Some("too_large")));

    // Both length headers at once, written by hand: clients would never send it.
    use std::io::{Read, Write};
    let mut raw = std::net::TcpStream::connect(stack.edge_addr).unwrap();
    let session = stack.session("alice");
    write!(
        raw,
        "POST {url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert_eq!(stack.origin_traffic().await, 0);

    // A body within the edge's limit (16 KiB) but far larger than a buy needs reaches an origin,
    // which reads it as any other: whitespace around `{"quantity":1}` is still that body.
    let mut padded = br#"{"quantity":1}"#.to_vec();
    padded.extend(vec![b' '; 12 * 1024]);
    let response = client
        .post(stack.url(&url))
        .bearer_auth(stack.session("alice"))
        .body(padded)
        .send()
        .await
        .unwrap();
    let (status, body) = status_and_json(response).await;
    assert_eq!(status, 201, "{body}");
}

#[tokio::test]
async fn request_heads_over_the_bound_are_refused_431_and_the_connection_closed() {
    let stack = Stack::start(StackOptions::default()).await;
    use std::io::{Read, Write};
    let url = token_url(&reqwest::Client::new(), &stack, "alice", "demo").await;
    let session = stack.session("alice");
    // 200 KB of head in headers of 4 KB (each line within the line bound), then one line of 9 KB.
    let many: String = (0..50)
        .map(|i| format!("X-Pad-{i}: {}\r\n", "a".repeat(4_000)))
        .collect();
    let long_line = format!("X-Long: {}\r\n", "b".repeat(9_000));
    for (what, extra) in [("a 200 KB head", many), ("a 9 KB line", long_line)] {
        let mut raw = std::net::TcpStream::connect(stack.edge_addr).unwrap();
        raw.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        write!(
            raw,
            "POST {url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\n{extra}Content-Length: 0\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        raw.read_to_string(&mut answer)
            .expect("the edge answers and closes the connection");
        assert!(answer.starts_with("HTTP/1.1 431"), "{what}: {answer}");
        assert!(
            answer.to_ascii_lowercase().contains("connection: close"),
            "{what}: {answer}"
        );
        assert!(
            answer.contains("\"code\":\"header_too_large\""),
            "{what}: {answer}"
        );
    }
    assert_eq!(stack.origin_traffic().await, 0);
    let (status, _) = post(&reqwest::Client::new(), &stack, &url, &session).await;
    assert_eq!(status, 201, "an ordinary head still buys");
}

#[tokio::test]
async fn clients_that_stall_are_cut_off_and_nothing_is_bought() {
    use std::io::{Read, Write};
    let stack = Stack::start(StackOptions {
        client_timeout: "1s",
        idle_timeout: "1s",
        ..StackOptions::default()
    })
    .await;
    // The socket's own timeout is far above the edge's 1 s but far below Pingora's built-in
    // minute: an edge that waited a minute fails the read with a timeout instead of an end.
    let connect = || {
        let raw = std::net::TcpStream::connect(stack.edge_addr).unwrap();
        raw.set_read_timeout(Some(std::time::Duration::from_secs(20)))
            .unwrap();
        raw
    };

    // A request head that never ends.
    let mut raw = connect();
    write!(raw, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ").unwrap();
    let mut answer = Vec::new();
    raw.read_to_end(&mut answer)
        .expect("the edge closes a connection whose head stalls");
    assert!(
        answer.is_empty(),
        "nothing to answer a head that never came"
    );

    // A buy whose body stalls: refused with 408, and no order.
    let client = reqwest::Client::new();
    let url = token_url(&client, &stack, "slow", "demo").await;
    let session = stack.session("slow");
    let mut raw = connect();
    write!(
        raw,
        "POST {url} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{{\"quan"
    )
    .unwrap();
    let mut answer = String::new();
    raw.read_to_string(&mut answer)
        .expect("the edge answers and closes a stalled body");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"request_timeout\""), "{answer}");
    assert_eq!(stack.remaining().await, 100);

    // The same buyer, sending properly, buys.
    let (status, body) = token_and_buy(&client, &stack, "slow").await;
    assert_eq!(status, 201, "{body}");
}
