//! What operators and browsers rely on beyond buying: the page's caching and compression, the
//! admin gate that opens or closes a sale early, and the metrics.

use reqwest::Method;
use reqwest::header::{ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_NONE_MATCH};

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
        "flashgate_edge_admissions_total 1",
        "flashgate_edge_request_seconds_bucket",
        "flashgate_edge_origin_healthy",
        "flashgate_edge_config_version 1",
    ];
    let metrics = || async {
        reqwest::Client::new()
            .get(format!("http://{}/metrics", stack.admin_addr))
            .bearer_auth(crate::harness::ADMIN_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    };
    eventually("every expected metric", ten_seconds, || async {
        let text = metrics().await;
        expected.iter().all(|series| text.contains(series))
    })
    .await;
}
