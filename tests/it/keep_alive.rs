//! Connections the edge keeps: a refusal of a request with a small body it never needed (the
//! body read and dropped), on one kept-alive connection; and the one it closes, saying so, when
//! the body is over the bound.

use crate::harness::{Stack, StackOptions};

/// One HTTP/1.1 response read off `raw`: its head (lower-cased) and body.
fn read_response(raw: &mut std::io::BufReader<std::net::TcpStream>) -> (String, String) {
    use std::io::{BufRead, Read};
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = raw.read_line(&mut line).expect("the answer's head");
        assert!(
            n > 0,
            "the connection closed before an answer; head so far: {head}"
        );
        if line == "\r\n" {
            break;
        }
        head.push_str(&line.to_ascii_lowercase());
    }
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    let mut body = vec![0; length];
    raw.read_exact(&mut body).unwrap();
    (head, String::from_utf8(body).unwrap())
}

#[tokio::test]
async fn refusals_of_requests_with_bodies_keep_the_connection() {
    use std::io::Write;
    let stack = Stack::start(StackOptions::default()).await;
    let stream = std::net::TcpStream::connect(stack.edge_addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .unwrap();
    let mut raw = std::io::BufReader::new(stream);
    let session = stack.session("alice");
    // Twenty refusals on one connection, each with a body the edge has no use for: framed by
    // length or chunked, without a session or with a forged buy link.
    for i in 0..20 {
        let request = match i % 3 {
            0 => "POST /api/events/demo/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}".to_owned(),
            1 => format!("POST /api/events/demo/buy/forged-{i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {session}\r\nContent-Length: 14\r\n\r\n{{\"quantity\":1}}"),
            _ => "POST /api/events/demo/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n".to_owned(),
        };
        raw.get_mut().write_all(request.as_bytes()).unwrap();
        let (head, body) = read_response(&mut raw);
        assert!(
            head.starts_with("http/1.1 401") || head.starts_with("http/1.1 403"),
            "request {i}: {head}"
        );
        assert!(!head.contains("connection: close"), "request {i}: {head}");
        assert!(body.contains("\"code\""), "request {i}: {body}");
    }
    // A chunked body over the bound is not read: the answer closes the connection, and says so.
    let big = "a".repeat(20 * 1024);
    write!(
        raw.get_mut(),
        "POST /api/events/demo/token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{big}\r\n0\r\n\r\n",
        big.len()
    )
    .unwrap();
    let (head, _) = read_response(&mut raw);
    assert!(head.contains("connection: close"), "{head}");
    assert_eq!(stack.origin_traffic().await, 0);
}
