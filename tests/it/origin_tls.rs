//! TLS from the edge to origins (`[[origins]] tls`): buys go through over verified TLS, a CA
//! that does not sign the origins' certificate takes them out of the rotation, and an edge that
//! cannot verify any origin answers `no_origin` with nothing bought.

use std::time::Duration;

use crate::harness::{Stack, StackOptions, eventually, token_and_buy};

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
