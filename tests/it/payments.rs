//! Payments through a provider: with `provider = "webhook"` only the provider's signed
//! confirmation marks an order paid. Forged, stale and replayed confirmations are refused, a
//! repeat changes nothing, a wrong amount is refused and counted, and a success after expiry
//! makes the order `refund_due` while its seat stays with the buyer who got it next. The edge
//! reads each confirmation itself (over HTTP/1, chunked, HTTP/2, or invited by `100 Continue`)
//! and sends the origin exactly what it read.
//!
//! Just over 400 lines: every test drives the same provider flow (reserve, checkout, a signed
//! confirmation) through this file's helpers.

use sale::payments::PaymentOutcome::{Failed, Succeeded};

use crate::harness::{
    Stack, StackOptions, checkout, confirm, confirmation, deliver_confirmation, get, post,
    provider_signature, ring, token_and_buy, unix_now,
};

/// The price of one seat of the test event.
const PRICE: u64 = 1000;

fn webhook_stack(stock: u32) -> StackOptions {
    StackOptions {
        stock,
        webhook_payments: true,
        ..StackOptions::default()
    }
}

async fn status_of(client: &reqwest::Client, stack: &Stack, order: &str, user: &str) -> String {
    let (status, body) = get(
        client,
        stack,
        &format!("/api/orders/{order}"),
        &stack.session(user),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body["status"].as_str().expect("a status").to_owned()
}

/// `user`'s own pay on `order`.
async fn pay(
    client: &reqwest::Client,
    stack: &Stack,
    order: &str,
    user: &str,
) -> (u16, serde_json::Value) {
    let path = format!("/api/orders/{order}/pay");
    post(client, stack, &path, &stack.session(user)).await
}

async fn reserve(client: &reqwest::Client, stack: &Stack, user: &str) -> String {
    let (status, body) = token_and_buy(client, stack, user).await;
    assert_eq!(status, 201, "{body}");
    body["order_id"].as_str().expect("an order id").to_owned()
}

#[tokio::test]
async fn only_the_providers_confirmation_marks_an_order_paid() {
    let stack = Stack::start(webhook_stack(2)).await;
    let client = reqwest::Client::new();
    let order = reserve(&client, &stack, "alice").await;

    let first = checkout(&client, &stack, &order, "alice").await;
    assert!(
        first.checkout_url.starts_with(&format!(
            "/dev/checkout/{}?order={order}&amount={PRICE}",
            first.payment_id
        )),
        "{}",
        first.checkout_url
    );
    let again = checkout(&client, &stack, &order, "alice").await;
    assert_eq!(again.payment_id, first.payment_id, "one payment per order");
    assert_eq!(
        status_of(&client, &stack, &order, "alice").await,
        "reserved"
    );

    let (status, body) = confirm(&client, &stack, Failed, &first, PRICE).await;
    assert_eq!(
        (status, &body),
        (200, &serde_json::json!({"received": true}))
    );
    assert_eq!(
        status_of(&client, &stack, &order, "alice").await,
        "reserved",
        "a failure changes nothing"
    );

    let (status, _) = confirm(&client, &stack, Succeeded, &first, PRICE).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&client, &stack, &order, "alice").await, "paid");
    for _ in 0..2 {
        let (status, body) = confirm(&client, &stack, Succeeded, &first, PRICE).await;
        assert_eq!(
            (status, body["received"].as_bool()),
            (200, Some(true)),
            "a duplicate is received"
        );
    }
    assert_eq!(stack.seat_counter("paid").await, 1, "paid once");
    assert_eq!(stack.seat_counter("reserved").await, 0);
    let (status, body) = pay(&client, &stack, &order, "alice").await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("paid")),
        "pay on a paid order shows it"
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test]
async fn forged_stale_replayed_and_wrong_confirmations_are_refused() {
    let stack = Stack::start(webhook_stack(2)).await;
    let client = reqwest::Client::new();
    let order = reserve(&client, &stack, "alice").await;
    let paying = checkout(&client, &stack, &order, "alice").await;
    let body = confirmation(Succeeded, &paying, PRICE);
    let now = unix_now();

    let forged = sale::signed_body::sign(
        &ring("p1", "not-the-provider-secret-0123"),
        now,
        body.as_bytes(),
    );
    let stale = provider_signature(&body, now - 600);
    let early = provider_signature(&body, now + 600);
    let other_body = provider_signature(&confirmation(Succeeded, &paying, PRICE), now);
    // The genuine signature, hidden among more values than any sender rotating secrets lists.
    let genuine = provider_signature(&body, now);
    let crowded = format!(
        "t={now},v1=00,v1=00,v1=00,v1=00,{}",
        genuine.split_once(',').unwrap().1
    );
    let traffic_before = stack.origin_traffic().await;
    for (what, signature) in [
        ("no signature", None),
        ("a forged signature", Some(forged.as_str())),
        ("a replay from ten minutes ago", Some(stale.as_str())),
        ("a time from the future", Some(early.as_str())),
        ("another body's signature", Some(other_body.as_str())),
        ("a malformed header", Some("t=abc,v1=zz")),
        ("five signatures", Some(crowded.as_str())),
    ] {
        let (status, refused) = deliver_confirmation(&client, &stack, &body, signature).await;
        assert_eq!(
            (status, refused["code"].as_str()),
            (401, Some("bad_signature")),
            "{what}: {refused}"
        );
    }
    assert_eq!(
        stack.origin_traffic().await,
        traffic_before,
        "the edge checks a confirmation's MAC: a refused one costs no origin"
    );
    assert_eq!(
        status_of(&client, &stack, &order, "alice").await,
        "reserved"
    );

    let (status, refused) = confirm(&client, &stack, Succeeded, &paying, PRICE - 1).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (409, Some("amount_mismatch")),
        "{refused}"
    );
    assert_eq!(
        stack.seat_counter("amount_mismatch").await,
        1,
        "flagged for the operator"
    );
    let mut unknown = paying.clone();
    unknown.payment_id = sale::payments::new_payment_id();
    let (status, refused) = confirm(&client, &stack, Succeeded, &unknown, PRICE).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request")),
        "a payment the shop never made"
    );
    let (status, refused) =
        deliver_confirmation(&client, &stack, "{}", Some(&provider_signature("{}", now))).await;
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("bad_request")),
        "{refused}"
    );
    assert_eq!(
        status_of(&client, &stack, &order, "alice").await,
        "reserved"
    );
    assert_eq!(stack.seat_counter("paid").await, 0);

    // The genuine confirmation still pays: nothing above spent it.
    let (status, _) = deliver_confirmation(
        &client,
        &stack,
        &body,
        Some(&provider_signature(&body, now)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&client, &stack, &order, "alice").await, "paid");
}

#[tokio::test]
async fn a_provider_sending_every_confirmation_from_one_address_is_not_rate_limited() {
    let stack = Stack::start(StackOptions {
        limits: r#"{ per_user = { rate = "100000/s" }, per_ip = { rate = "1/m", burst = 5 }, origin_rate = { rate = "1000000/s" } }"#,
        ..webhook_stack(1)
    })
    .await;
    let client = reqwest::Client::new();
    let order = reserve(&client, &stack, "alice").await;
    let paying = checkout(&client, &stack, &order, "alice").await;
    for _ in 0..20 {
        let (status, body) = confirm(&client, &stack, Succeeded, &paying, PRICE).await;
        assert_eq!(status, 200, "{body}");
    }
    // The buyer's three requests spent three of the address's five; the confirmations none.
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(get(&client, &stack, "/api/events/demo", "").await.0);
    }
    assert_eq!(
        statuses,
        [200, 200, 429],
        "the cap still holds for everything else"
    );
}

#[tokio::test]
async fn the_buyers_own_pay_never_marks_paid_with_a_provider() {
    let stack = Stack::start(webhook_stack(1)).await;
    let client = reqwest::Client::new();
    let order = reserve(&client, &stack, "alice").await;
    for _ in 0..3 {
        let (status, body) = pay(&client, &stack, &order, "alice").await;
        assert_eq!(
            (status, body["status"].as_str()),
            (202, Some("reserved")),
            "{body}"
        );
    }
    let (status, body) = pay(&client, &stack, &order, "mallory").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("not_found")),
        "another user's order"
    );
    assert_eq!(
        status_of(&client, &stack, &order, "alice").await,
        "reserved"
    );
    assert_eq!(stack.seat_counter("paid").await, 0);
}

#[tokio::test]
async fn a_confirmation_after_expiry_is_refund_due_and_the_seat_stays_sold() {
    // Long enough for the checkout to come first on a loaded machine.
    let stack = Stack::start(StackOptions {
        reservation_ttl: "3s",
        ..webhook_stack(1)
    })
    .await;
    let client = reqwest::Client::new();
    let late = reserve(&client, &stack, "alice").await;
    let paying = checkout(&client, &stack, &late, "alice").await;
    // Alice's reservation runs out; the seat goes back and Bob buys it.
    stack.wait_until_selling(1).await;
    let bobs = reserve(&client, &stack, "bob").await;
    let bob_paying = checkout(&client, &stack, &bobs, "bob").await;

    for _ in 0..2 {
        let (status, body) = confirm(&client, &stack, Succeeded, &paying, PRICE).await;
        assert_eq!(
            (status, body["received"].as_bool()),
            (200, Some(true)),
            "{body}"
        );
    }
    assert_eq!(
        status_of(&client, &stack, &late, "alice").await,
        "refund_due"
    );
    assert_eq!(stack.seat_counter("refund_due").await, 1, "counted once");
    assert_eq!(
        status_of(&client, &stack, &bobs, "bob").await,
        "reserved",
        "the seat stays with Bob"
    );
    let (status, _) = confirm(&client, &stack, Succeeded, &bob_paying, PRICE).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(&client, &stack, &bobs, "bob").await, "paid");
    assert_eq!(stack.seat_counter("paid").await, 1, "one seat sold, to Bob");
    assert_eq!(stack.remaining().await, 0);
    let (status, body) = pay(&client, &stack, &late, "alice").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (409, Some("illegal_transition")),
        "{body}"
    );
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
    assert_eq!(report.redis_orders.get("refund_due"), Some(&1));
}

#[tokio::test]
async fn a_confirmation_that_waits_for_100_continue_is_invited_and_applied() {
    use std::io::{Read, Write};
    let stack = Stack::start(webhook_stack(2)).await;
    let client = reqwest::Client::new();
    let order = reserve(&client, &stack, "alice").await;
    let paying = checkout(&client, &stack, &order, "alice").await;
    let body = confirmation(Succeeded, &paying, PRICE);
    let signature = provider_signature(&body, unix_now());
    // The edge reads a confirmation itself, so it is the edge that must invite the body a
    // client holds back (curl does so for bodies over 1 KiB); the origin must not wait for it
    // again.
    let answer = tokio::task::spawn_blocking({
        let (addr, body) = (stack.edge_addr, body.clone());
        move || {
            let mut raw = std::net::TcpStream::connect(addr).unwrap();
            raw.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            write!(
                raw,
                "POST /api/payments/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 x-fg-payment-signature: {signature}\r\nExpect: 100-continue\r\n\
                 Content-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            let mut invitation = [0u8; 25];
            raw.read_exact(&mut invitation)
                .expect("the edge invites the body");
            assert!(
                invitation.starts_with(b"HTTP/1.1 100 Continue\r\n"),
                "{}",
                String::from_utf8_lossy(&invitation)
            );
            raw.write_all(body.as_bytes()).unwrap();
            let mut answer = String::new();
            raw.read_to_string(&mut answer).unwrap();
            answer
        }
    })
    .await
    .unwrap();
    let final_answer = answer.trim_start_matches("\r\n");
    assert!(final_answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(status_of(&client, &stack, &order, "alice").await, "paid");
}

#[tokio::test]
async fn confirmations_over_h2_or_chunked_reach_the_origin_whole() {
    use std::io::{Read, Write};
    let stack = Stack::start(StackOptions {
        webhook_payments: true,
        stock: 2,
        // Buyers reserve over plain HTTP here; the confirmations are what is under test.
        tls_options: "plain = \"serve\"",
        ..crate::harness::https()
    })
    .await;
    let client = reqwest::Client::new();
    let mut bodies = Vec::new();
    for user in ["alice", "bob"] {
        let order = reserve(&client, &stack, user).await;
        let paying = checkout(&client, &stack, &order, user).await;
        bodies.push((order, user, confirmation(Succeeded, &paying, PRICE)));
    }

    // Over HTTP/2 on the https listener: the edge reads the stream's DATA frames, checks the
    // MAC, and sends what it read to the origin.
    let (order, user, body) = &bodies[0];
    let h2 = stack.https_client(crate::harness::Protocol::H2);
    let answer = h2
        .post(stack.https_url("/api/payments/webhook"))
        .header("content-type", "application/json")
        .header(
            sale::signed_body::PAYMENT_HEADER,
            provider_signature(body, unix_now()),
        )
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.version(), reqwest::Version::HTTP_2);
    let (status, received) = crate::harness::status_and_json(answer).await;
    assert_eq!(status, 200, "{received}");
    assert_eq!(status_of(&client, &stack, order, user).await, "paid");

    // Chunked over HTTP/1, in two chunks.
    let (order, user, body) = &bodies[1];
    let signature = provider_signature(body, unix_now());
    let answer = tokio::task::spawn_blocking({
        let (addr, body) = (stack.edge_addr, body.clone());
        move || {
            let (first, second) = body.split_at(body.len() / 2);
            let mut raw = std::net::TcpStream::connect(addr).unwrap();
            raw.set_read_timeout(Some(std::time::Duration::from_secs(10)))
                .unwrap();
            write!(
                raw,
                "POST /api/payments/webhook HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
                 x-fg-payment-signature: {signature}\r\nTransfer-Encoding: chunked\r\n\
                 Connection: close\r\n\r\n{:x}\r\n{first}\r\n{:x}\r\n{second}\r\n0\r\n\r\n",
                first.len(),
                second.len()
            )
            .unwrap();
            let mut answer = String::new();
            raw.read_to_string(&mut answer).unwrap();
            answer
        }
    })
    .await
    .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert_eq!(status_of(&client, &stack, order, user).await, "paid");
}
