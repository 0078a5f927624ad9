//! What a CDN in front of the edge may keep: fingerprinted assets for a year, the event document
//! for a second, pages only after revalidating, and nothing personal at all.

use crate::harness::{Stack, StackOptions, fetch_token, token_and_buy};

fn cache_control(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)")
        .to_owned()
}

/// The fingerprinted names `page` refers to under `/static/`.
fn static_references(page: &str) -> Vec<String> {
    page.split("\"/static/")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn each_answer_says_how_long_a_cache_may_keep_it() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();

    let page = client.get(stack.url("/")).send().await.unwrap();
    assert_eq!(cache_control(&page), "no-cache");
    let page = page.text().await.unwrap();
    let references = static_references(&page);
    assert!(references.len() >= 3, "the page's assets: {references:?}");
    for name in &references {
        let (stem, rest) = name.split_once('.').expect("name.HASH.ext");
        let (hash, ext) = rest.split_once('.').expect("HASH.ext");
        assert_eq!(hash.len(), 16, "{name}");
        let asset = client
            .get(stack.url(&format!("/static/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(asset.status(), 200, "{name}");
        assert_eq!(
            cache_control(&asset),
            "public, max-age=31536000, immutable",
            "{name}"
        );
        let fingerprinted = asset.bytes().await.unwrap();
        let plain = client
            .get(stack.url(&format!("/static/{stem}.{ext}")))
            .send()
            .await
            .unwrap();
        assert_eq!(cache_control(&plain), "no-cache");
        assert_eq!(plain.bytes().await.unwrap(), fingerprinted, "{name}");
    }
    let unknown = client
        .get(stack.url("/static/page.0123456789abcdef.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    let event = client
        .get(stack.url("/api/events/demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 200);
    assert_eq!(cache_control(&event), "public, max-age=1");

    // Personal answers, the edge's own and an origin's, are never kept.
    let session = stack.session("alice");
    let (status, _) = fetch_token(&client, &stack, &session).await;
    assert_eq!(status, 200);
    let token = client
        .post(stack.url("/api/events/demo/token"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&token), "no-store");
    let (status, order) = token_and_buy(&client, &stack, "bob").await;
    assert_eq!(status, 201, "{order}");
    let order_id = order["order_id"].as_str().unwrap();
    let shown = client
        .get(stack.url(&format!("/api/orders/{order_id}")))
        .bearer_auth(stack.session("bob"))
        .send()
        .await
        .unwrap();
    assert_eq!(shown.status(), 200);
    assert_eq!(cache_control(&shown), "no-store");
    let refused = client
        .get(stack.url("/api/orders/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(cache_control(&refused), "no-store");
}
