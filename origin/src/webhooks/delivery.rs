//! One delivery: the change's JSON, signed with the webhook secret (`x-fg-webhook-signature`,
//! the same `t=…,v1=…` scheme as payment confirmations), posted to `[webhooks] url`. Any 2xx is
//! an acknowledgement; anything else, or no answer in time, is a failure to retry later.

use std::time::Duration;

use sale::config::WebhooksConfig;
use sale::signed_body::{self, WEBHOOK_HEADER};

/// How long a receiver may take to answer one delivery.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The longest wait between two tries of one change.
const MAX_BACKOFF: Duration = Duration::from_secs(600);

/// A client for deliveries: public CAs from the system store, no redirects (a receiver that
/// moved answers 3xx, which is a failure the operator sees, not a silent hop).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// Posts `body` to the receiver; `Ok` once it answered 2xx, else why not.
pub async fn post(
    client: &reqwest::Client,
    hooks: &WebhooksConfig,
    body: &str,
) -> Result<(), String> {
    let now = sale::time::now_millis() / 1000;
    let signature = signed_body::sign(&hooks.secrets, now, body.as_bytes());
    let answer = client
        .post(&hooks.url)
        .header("content-type", "application/json")
        .header(WEBHOOK_HEADER, signature)
        .body(body.to_owned())
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if answer.status().is_success() {
        Ok(())
    } else {
        Err(format!("answered {}", answer.status()))
    }
}

/// The wait before try `attempt + 1` after `attempt` failures: `backoff`, doubling, capped.
pub fn backoff(hooks: &WebhooksConfig, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
    hooks
        .backoff
        .saturating_mul(1 << doublings)
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_ten_minutes() {
        let hooks = WebhooksConfig {
            url: "http://127.0.0.1:1/".into(),
            secrets: sale::key_ring::KeyRing::new(vec![sale::key_ring::SigningKey {
                id: sale::key_ring::KeyId::parse("w1").unwrap(),
                secret: sale::key_ring::Secret::parse("webhook-secret-0123456789").unwrap(),
            }])
            .unwrap(),
            max_attempts: 12,
            backoff: Duration::from_secs(1),
        };
        let waits: Vec<u64> = (1..=4).map(|a| backoff(&hooks, a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(backoff(&hooks, 40), MAX_BACKOFF);
    }
}
