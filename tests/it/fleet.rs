//! Two edges in front of the same origins and Redis: the per-user cap and the origin rate hold
//! for the fleet, not per edge (counts, not timings: every cap here refills once a minute).

use crate::harness::{Stack, StackOptions, status_and_json};

async fn at(
    client: &reqwest::Client,
    stack: &Stack,
    edge: u16,
    path: &str,
    session: &str,
) -> (u16, serde_json::Value) {
    let response = client
        .post(format!("http://{}{path}", stack.fleet_edge(edge)))
        .bearer_auth(session)
        .send()
        .await
        .unwrap();
    status_and_json(response).await
}

/// Token requests by one user alternating between the two edges: how many were granted.
async fn tokens_granted_alternating(limits: &'static str) -> usize {
    let stack = Stack::start(StackOptions {
        edges: 2,
        limits,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let session = stack.session("alice");
    let mut granted = 0;
    for i in 0..12 {
        let (status, body) = at(&client, &stack, i % 2, "/api/events/demo/token", &session).await;
        match status {
            200 => granted += 1,
            429 => assert_eq!(body["code"], "rate_limited", "{body}"),
            _ => panic!("unexpected {status}: {body}"),
        }
    }
    granted
}

#[tokio::test]
async fn a_user_alternating_between_edges_gets_the_cap_not_twice_it() {
    let fleet = r#"{ per_user = { rate = "1/m", burst = 4 }, per_ip = { rate = "1000000/s" }, origin_rate = { rate = "1000000/s" } }"#;
    assert_eq!(tokens_granted_alternating(fleet).await, 4);
    // The same caps counted by each edge alone let twice as many through: what the fleet-wide
    // count prevents.
    let each = r#"{ per_user = { rate = "1/m", burst = 4 }, per_ip = { rate = "1000000/s" }, origin_rate = { rate = "1000000/s" }, scope = "edge" }"#;
    assert_eq!(tokens_granted_alternating(each).await, 8);
}

#[tokio::test]
async fn all_edges_together_forward_at_most_the_origin_rate() {
    let stack = Stack::start(StackOptions {
        edges: 2,
        stock: 1_000,
        limits: r#"{ per_user = { rate = "100000/s" }, per_ip = { rate = "1000000/s" }, origin_rate = { rate = "1/m", burst = 6 } }"#,
        ..StackOptions::default()
    })
    .await;
    let client = reqwest::Client::new();
    let mut admitted = [0, 0];
    let mut refused = 0;
    for i in 0..24u16 {
        let edge = i % 2;
        let session = stack.session(&format!("buyer-{i}"));
        let (status, token) = at(&client, &stack, edge, "/api/events/demo/token", &session).await;
        assert_eq!(status, 200, "{token}");
        let buy_url = token["buy_url"].as_str().unwrap();
        let (status, body) = at(&client, &stack, edge, buy_url, &session).await;
        match status {
            201 => admitted[usize::from(edge)] += 1,
            429 => {
                assert_eq!(body["code"], "rate_limited", "{body}");
                refused += 1;
            }
            _ => panic!("unexpected {status}: {body}"),
        }
    }
    // Each edge alone would admit its burst of 6; together they admit 6.
    assert_eq!(admitted.iter().sum::<u32>(), 6, "{admitted:?}");
    assert!(
        admitted.iter().all(|n| *n > 0),
        "both edges admitted: {admitted:?}"
    );
    assert_eq!(refused, 18);
    assert_eq!(stack.remaining().await, 1_000 - 6);
}
