//! The edge's certificates, with real handshakes against a test CA: which one a server name
//! gets (SNI, wildcards, the default for clients that send none), a certificate rotated while a
//! client keeps its connection open, and every bad certificate refused by name while the old one
//! serves; expiry in the status document and the metrics.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::harness::{Protocol, Stack, StackOptions, certificate_files, eventually, https};

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
