//! Guessing the admin token: every path that accepts the admin credential (the admin API, the
//! dashboard's pages, the sign-in form, an origin's metrics) counts wrong ones per client and
//! refuses a locked-out client, and only that client.

use reqwest::header::CONTENT_TYPE;

use crate::harness::{ADMIN_TOKEN, Stack, StackOptions};

/// A client on its own loopback address (loopback answers on every 127.x address, so two
/// clients can be two addresses); redirects are not followed, so a page's answer is seen as is.
fn from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, last]))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// `GET url` from `client` with `token` as the bearer credential.
async fn get(client: &reqwest::Client, url: &str, token: &str) -> reqwest::Response {
    client.get(url).bearer_auth(token).send().await.unwrap()
}

/// Ten wrong tokens from `client` at `url`, each answered `status`.
async fn ten_guesses(client: &reqwest::Client, url: &str, status: u16) {
    for i in 0..10 {
        let guess = get(client, url, &format!("guess-{i}-0123456789")).await;
        assert_eq!(guess.status(), status, "guess {i} at {url}");
    }
}

#[tokio::test]
async fn wrong_admin_tokens_lock_their_address_out_and_no_one_else() {
    let stack = Stack::start(StackOptions::default()).await;
    let status_url = format!("http://{}/admin/status", stack.admin_addr);
    let guesser = from(2);
    ten_guesses(&guesser, &status_url, 401).await;
    // Now even the right token is refused from that address, before it is checked.
    let right = get(&guesser, &status_url, ADMIN_TOKEN).await;
    assert_eq!(right.status(), 429);
    let wait: u64 = right.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (50..=60).contains(&wait),
        "a minute's lockout, just begun: {wait}"
    );
    let (_, body) = crate::harness::status_and_json(right).await;
    assert_eq!(body["code"], "rate_limited");
    let form = guesser
        .post(format!("http://{}/admin/sign-in", stack.admin_addr))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("token={ADMIN_TOKEN}"))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 429, "the sign-in form is locked too");
    let ok = get(&from(3), &status_url, ADMIN_TOKEN).await;
    assert_eq!(ok.status(), 200, "another address is not locked out");
}

#[tokio::test]
async fn the_dashboard_pages_and_origin_metrics_count_guesses_and_honour_the_lockout() {
    let stack = Stack::start(StackOptions::default()).await;
    let dashboard = format!("http://{}/admin/dashboard", stack.admin_addr);
    // A wrong token on a page is sent to sign in, and counted.
    ten_guesses(&from(4), &dashboard, 303).await;
    let right = get(&from(4), &dashboard, ADMIN_TOKEN).await;
    assert_eq!(right.status(), 429, "the page's guesses counted");
    assert_eq!(get(&from(5), &dashboard, ADMIN_TOKEN).await.status(), 200);

    let metrics = format!("http://{}/metrics", stack.origin_addrs[0]);
    ten_guesses(&from(6), &metrics, 401).await;
    let right = get(&from(6), &metrics, ADMIN_TOKEN).await;
    assert_eq!(right.status(), 429, "the origin counted the guesses");
    assert!(right.headers().contains_key("retry-after"));
    assert_eq!(get(&from(7), &metrics, ADMIN_TOKEN).await.status(), 200);
}

#[tokio::test]
async fn a_stale_sign_in_cookie_is_signed_out_not_counted_as_a_guess() {
    let stack = Stack::start(StackOptions::default()).await;
    let dashboard = format!("http://{}/admin/dashboard", stack.admin_addr);
    // What every open dashboard holds after the admin token is rotated: a cookie that no longer
    // verifies. Reloading the page more often than the lockout allows guesses stays harmless.
    let browser = from(8);
    for i in 0..12 {
        let page = browser
            .get(&dashboard)
            .header("cookie", format!("fg_admin=stale-{i}.session"))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 303, "load {i}: sent to sign in");
    }
    assert_eq!(get(&browser, &dashboard, ADMIN_TOKEN).await.status(), 200);
}
