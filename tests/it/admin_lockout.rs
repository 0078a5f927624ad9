//! Guessing the admin token: every path that accepts the admin credential (the admin API, the
//! dashboard's pages, the sign-in form, an origin's metrics) counts wrong ones per client and
//! refuses a locked-out client, and only that client.

use reqwest::header::CONTENT_TYPE;

use crate::harness::{Stack, StackOptions};

#[tokio::test]
async fn wrong_admin_tokens_lock_their_address_out_and_no_one_else() {
    let stack = Stack::start(StackOptions::default()).await;
    let status_url = format!("http://{}/admin/status", stack.admin_addr);
    // Loopback answers on every 127.x address, so two clients can be two addresses.
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .build()
            .unwrap()
    };
    let guesser = from([127, 0, 0, 2]);
    for i in 0..10 {
        let guess = guesser
            .get(&status_url)
            .bearer_auth(format!("guess-{i}-0123456789"))
            .send()
            .await
            .unwrap();
        assert_eq!(guess.status(), 401);
    }
    // Now even the right token is refused from that address, before it is checked.
    let right = guesser
        .get(&status_url)
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429);
    let wait: u64 = right.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (_, body) = crate::harness::status_and_json(right).await;
    assert_eq!(body["code"], "rate_limited");
    let form = guesser
        .post(format!("http://{}/admin/sign-in", stack.admin_addr))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={}", crate::harness::ADMIN_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 429, "the sign-in form is locked too");

    let operator = from([127, 0, 0, 3]);
    let ok = operator
        .get(&status_url)
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200, "another address is not locked out");
}

#[tokio::test]
async fn the_dashboard_pages_and_origin_metrics_count_guesses_and_honour_the_lockout() {
    let stack = Stack::start(StackOptions::default()).await;
    let from = |ip: [u8; 4]| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from(ip))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    };
    let dashboard = format!("http://{}/admin/dashboard", stack.admin_addr);
    let guesser = from([127, 0, 0, 4]);
    for i in 0..10 {
        let guess = guesser
            .get(&dashboard)
            .bearer_auth(format!("guess-{i}-0123456789"))
            .send()
            .await
            .unwrap();
        assert_eq!(guess.status(), 303, "a wrong token is sent to sign in");
    }
    let right = guesser
        .get(&dashboard)
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429, "the page's guesses counted");
    let signed_in = from([127, 0, 0, 5])
        .get(&dashboard)
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_in.status(), 200);

    let metrics = format!("http://{}/metrics", stack.origin_addrs[0]);
    let guesser = from([127, 0, 0, 6]);
    for i in 0..10 {
        let guess = guesser
            .get(&metrics)
            .bearer_auth(format!("guess-{i}-0123456789"))
            .send()
            .await
            .unwrap();
        assert_eq!(guess.status(), 401);
    }
    let right = guesser
        .get(&metrics)
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 429, "the origin counted the guesses");
    assert!(right.headers().contains_key("retry-after"));
    let other = from([127, 0, 0, 7])
        .get(&metrics)
        .bearer_auth(crate::harness::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 200);
}
