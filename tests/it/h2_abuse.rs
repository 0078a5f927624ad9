//! HTTP/2 clients that attack the edge rather than buy: the rapid-reset client (CVE-2023-44487:
//! open a stream, reset it, again, as fast as it can) and the endless CONTINUATION header block
//! are cut off while another client's buys go on; one connection carries at most as many
//! streams as an HTTP/1.1 connection may requests; an h2 header block over the head bound gets
//! 431 like an HTTP/1 head.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Protocol, Stack, StackOptions, https, status_and_json};

/// More streams than any client needs: a connection still open after this many resets was not
/// cut off.
const RESET_ATTEMPTS: usize = 50_000;

async fn h2_connection(stack: &Stack) -> h2::client::SendRequest<Bytes> {
    let (stream, _) = stack.tls_connect("localhost", &[b"h2"]).await.unwrap();
    let (client, connection) = h2::client::handshake(stream).await.unwrap();
    tokio::spawn(connection);
    client
}

/// Buys `count` seats for distinct users over h2 with a client of its own; every buy must be
/// accepted.
async fn honest_buys(stack: &Stack, prefix: &str, count: usize) {
    let client = stack.https_client(Protocol::H2);
    for i in 0..count {
        let session = stack.session(&format!("{prefix}-{i}"));
        let token = stack
            .https_post(&client, "/api/events/demo/token", &session)
            .await;
        let (status, token) = status_and_json(token).await;
        assert_eq!(status, 200, "{token}");
        let buy = stack
            .https_post(&client, token["buy_url"].as_str().unwrap(), &session)
            .await;
        let (status, order) = status_and_json(buy).await;
        assert_eq!(status, 201, "{order}");
    }
}

#[tokio::test]
async fn a_rapid_reset_client_is_cut_off_while_others_buy() {
    let stack = Stack::start(StackOptions {
        stock: 1_000,
        ..https()
    })
    .await;
    let attacker = async {
        let mut client = h2_connection(&stack).await;
        for sent in 0..RESET_ATTEMPTS {
            let request = http::Request::get("https://localhost/api/events/demo")
                .body(())
                .unwrap();
            let ready = match client.ready().await {
                Ok(ready) => ready,
                Err(e) => return (sent, e),
            };
            client = ready;
            match client.send_request(request, false) {
                Ok((_, mut stream)) => stream.send_reset(h2::Reason::CANCEL),
                Err(e) => return (sent, e),
            }
            // Let the connection task put the frames on the wire and read the edge's.
            tokio::task::yield_now().await;
        }
        panic!("{RESET_ATTEMPTS} streams opened and reset without the edge closing the connection");
    };
    let (attack, ()) = tokio::join!(attacker, honest_buys(&stack, "honest", 20));
    let (sent, error) = attack;
    // Streams reset before the edge took them close the connection at once (GOAWAY
    // ENHANCE_YOUR_CALM); streams it took first spend the connection's budget of 1,000 (a
    // graceful GOAWAY): which one ends it depends on how fast this machine accepts. The client
    // may also meet the closed socket before it reads the GOAWAY; it never closes it itself.
    assert!(
        (error.is_go_away() && error.is_remote()) || error.is_io(),
        "after {sent} resets: {error}"
    );
    assert!(
        sent < 1_100,
        "{sent} streams reset before the edge closed the connection"
    );
    // The edge is fine for everyone else afterwards too.
    honest_buys(&stack, "after", 5).await;
    assert_eq!(stack.orders_reaching(25).await.len(), 25);
}

#[tokio::test]
async fn one_connection_carries_a_bounded_number_of_streams() {
    let stack = Stack::start(StackOptions {
        tls_options: "h2 = { max_concurrent_streams = 7 }",
        ..https()
    })
    .await;
    let mut client = h2_connection(&stack).await;
    let first = http::Request::get("https://localhost/api/events/demo")
        .body(())
        .unwrap();
    let (response, _) = client.send_request(first, true).unwrap();
    assert_eq!(response.await.unwrap().status(), 200);
    assert_eq!(
        client.current_max_send_streams(),
        7,
        "the edge's SETTINGS carry the configured stream limit"
    );
    let mut answered = 1usize;
    let error = loop {
        assert!(answered < RESET_ATTEMPTS, "the connection was never closed");
        client = match client.ready().await {
            Ok(ready) => ready,
            Err(e) => break e,
        };
        let request = http::Request::get("https://localhost/api/events/demo")
            .body(())
            .unwrap();
        let response = match client.send_request(request, true) {
            Ok((response, _)) => response,
            Err(e) => break e,
        };
        match response.await {
            Ok(answer) => assert_eq!(answer.status(), 200),
            Err(e) => break e,
        }
        answered += 1;
    };
    // What an HTTP/1.1 connection may carry (1,000 requests), then a graceful GOAWAY: a client
    // that resets streams the edge already took pays a new handshake every thousand.
    assert!(
        error.is_go_away() && error.is_remote(),
        "after {answered}: {error}"
    );
    assert_eq!(answered, 1_000);
    honest_buys(&stack, "after-budget", 3).await;
}

/// An h2 frame header.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let length = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut bytes = vec![length[1], length[2], length[3], kind, flags];
    bytes.extend_from_slice(&stream.to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes
}

/// An HPACK literal header field without indexing, with a new name.
fn literal(name: &str, value_len: usize) -> Vec<u8> {
    let mut field = vec![0x00, u8::try_from(name.len()).unwrap()];
    field.extend_from_slice(name.as_bytes());
    // A 7-bit-prefix integer for the value length.
    let mut rest = value_len;
    if rest < 127 {
        field.push(u8::try_from(rest).unwrap());
    } else {
        field.push(127);
        rest -= 127;
        while rest >= 128 {
            field.push(u8::try_from(rest % 128).unwrap() | 0x80);
            rest /= 128;
        }
        field.push(u8::try_from(rest).unwrap());
    }
    field.extend(std::iter::repeat_n(b'a', value_len));
    field
}

#[tokio::test]
async fn an_endless_continuation_is_cut_off() {
    let stack = Stack::start(https()).await;
    let (stream, _) = stack.tls_connect("localhost", &[b"h2"]).await.unwrap();
    let (mut reader, mut writer) = tokio::io::split(stream);
    let closed = tokio::spawn(async move {
        let mut seen = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => return seen,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    });
    writer
        .write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        .await
        .unwrap();
    writer.write_all(&frame(0x4, 0, 0, &[])).await.unwrap();
    // GET https / with END_STREAM but no END_HEADERS: the block goes on in CONTINUATIONs.
    let mut first = vec![0x82, 0x87, 0x84, 0x41, 0x09];
    first.extend_from_slice(b"localhost");
    writer.write_all(&frame(0x1, 0x1, 1, &first)).await.unwrap();
    let mut sent = 0usize;
    let limit = 8 * 1024 * 1024;
    while sent < limit {
        let chunk = frame(0x9, 0, 1, &literal("x-flood", 1000));
        if writer.write_all(&chunk).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let seen = tokio::time::timeout(Duration::from_secs(20), closed)
        .await
        .expect("the edge closes the connection")
        .unwrap();
    assert!(
        sent < limit,
        "the edge took {sent} bytes of one header block"
    );
    // The last frame the edge sent is a GOAWAY (type 7).
    let go_away = seen
        .windows(4)
        .any(|w| w[3] == 0x7 && w[0] == 0 && w[1] == 0);
    assert!(go_away, "no GOAWAY in {} bytes from the edge", seen.len());
    honest_buys(&stack, "after-flood", 3).await;
}

#[tokio::test]
async fn an_h2_header_block_over_the_bound_gets_431() {
    let stack = Stack::start(https()).await;
    let client = stack.https_client(Protocol::H2);
    for size in [10_000, 24_000] {
        let answer = client
            .get(stack.https_url("/api/events/demo"))
            .header("x-padding", "a".repeat(size))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.version(), reqwest::Version::HTTP_2);
        let (status, body) = status_and_json(answer).await;
        assert_eq!(
            (status, body["code"].as_str()),
            (431, Some("header_too_large")),
            "a {size}-byte header"
        );
    }
    let many = (0..5).fold(client.get(stack.https_url("/api/events/demo")), |r, i| {
        r.header(format!("x-pad-{i}"), "a".repeat(7_000))
    });
    let (status, body) = status_and_json(many.send().await.unwrap()).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (431, Some("header_too_large")),
        "a 35 KB block over the 32 KiB bound"
    );
    // Far beyond the bound the h2 layer refuses the block itself, before the gate sees it.
    let huge = (0..12).fold(client.get(stack.https_url("/api/events/demo")), |r, i| {
        r.header(format!("x-pad-{i}"), "a".repeat(7_000))
    });
    assert_eq!(huge.send().await.unwrap().status(), 431, "an 84 KB block");
}
