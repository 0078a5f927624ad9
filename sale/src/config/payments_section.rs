//! `[payments]` (who confirms that an order is paid) and `[webhooks]` (where every order change
//! is delivered), as written and validated. A config without `[payments]` means the `direct`
//! provider, where the buyer's own pay marks the order paid: development only, so it is refused
//! unless `edge.dev_sessions = true` too.

use std::time::Duration;

use serde::Deserialize;

use super::Environment;
use super::problems::Problems;
use super::raw::RawKey;
use crate::key_ring::KeyRing;

/// `[payments]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPayments {
    /// `"direct"` (development: the buyer's pay marks paid) or `"webhook"` (a provider's signed
    /// confirmation does).
    pub provider: String,
    /// Secrets that verify the provider's confirmations (the first also signs the development
    /// provider's); `[{ id, secret }]`, each secret may be `env:NAME`.
    #[serde(default)]
    pub secrets: Vec<RawKey>,
    /// How far a confirmation's signed time may be from the edge's clock (e.g. `"5m"`).
    pub tolerance: Option<String>,
    /// Where the buyer is sent to pay: a URL template with `{payment_id}`, `{order_id}` and
    /// `{amount_cents}`; absolute, or a path on the edge itself (the development provider's
    /// `/dev/checkout/{payment_id}`).
    pub checkout_url: Option<String>,
}

/// `[webhooks]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    /// The operator's receiver, `http://` or `https://`.
    pub url: String,
    /// Secrets signing the deliveries (the first signs); `[{ id, secret }]`.
    pub secrets: Vec<RawKey>,
    /// Deliveries of one change before it is set aside (1 to 100, default 12).
    pub max_attempts: Option<u32>,
    /// Wait before the first retry of a failed delivery (default `"1s"`); it doubles with each
    /// further try, up to ten minutes.
    pub backoff: Option<String>,
}

/// Who confirms payments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentProvider {
    /// The buyer's own pay marks the order paid (development only).
    Direct,
    /// A provider's signed webhook does.
    Webhook {
        /// Verifies (and, for the development provider, signs) confirmations.
        secrets: KeyRing,
        /// Signed time tolerance.
        tolerance: Duration,
        /// The checkout URL template.
        checkout_url: String,
    },
}

/// `[webhooks]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhooksConfig {
    /// The receiver.
    pub url: String,
    /// Signs the deliveries.
    pub secrets: KeyRing,
    /// Deliveries of one change before it is set aside.
    pub max_attempts: u32,
    /// Wait before the first retry.
    pub backoff: Duration,
}

const PLACEHOLDERS: [&str; 3] = ["{payment_id}", "{order_id}", "{amount_cents}"];

fn http_url(text: &str) -> Result<String, String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .ok_or_else(|| "must start with http:// or https://".to_owned())?;
    if rest.is_empty() || rest.starts_with('/') || text.chars().any(char::is_whitespace) {
        return Err("must name a host, without spaces".into());
    }
    Ok(text.to_owned())
}

fn checkout_template(text: &str) -> Result<String, String> {
    let on_the_edge = text.starts_with('/') && !text.starts_with("//");
    if !on_the_edge {
        http_url(text)?;
    }
    if text.chars().any(char::is_whitespace) {
        return Err("must not contain spaces".into());
    }
    if !text.contains("{payment_id}") {
        return Err("must contain {payment_id}".into());
    }
    let mut rest = text.to_owned();
    for placeholder in PLACEHOLDERS {
        rest = rest.replace(placeholder, "");
    }
    if rest.contains('{') || rest.contains('}') {
        return Err(format!("may use only {}", PLACEHOLDERS.join(", ")));
    }
    Ok(text.to_owned())
}

/// Validates `[payments]`; `None` on a problem (recorded in `p`).
pub(super) fn payments(
    p: &mut Problems,
    raw: Option<&RawPayments>,
    dev_sessions: bool,
    env: &Environment,
) -> Option<PaymentProvider> {
    let provider = raw.map_or("direct", |r| r.provider.as_str());
    match provider {
        "direct" if dev_sessions => Some(PaymentProvider::Direct),
        "direct" => p.check(
            "payments.provider",
            Err(
                "is \"direct\" (the default without [payments]), which lets buyers mark their \
                 own orders paid: development only (edge.dev_sessions = true); production sets \
                 \"webhook\""
                    .into(),
            ),
        ),
        "webhook" => {
            let raw = raw?;
            let secrets = p.ring("payments.secrets", &raw.secrets, env);
            let tolerance = p.duration(
                "payments.tolerance",
                raw.tolerance.as_deref(),
                "5m",
                Duration::from_secs(1),
                Duration::from_secs(3600),
            );
            let checkout_url = match &raw.checkout_url {
                Some(text) => p.check("payments.checkout_url", checkout_template(text)),
                None => p.check("payments.checkout_url", Err("is required".into())),
            };
            Some(PaymentProvider::Webhook {
                secrets: secrets?,
                tolerance: tolerance?,
                checkout_url: checkout_url?,
            })
        }
        other => p.check(
            "payments.provider",
            Err(format!("must be \"direct\" or \"webhook\", got {other:?}")),
        ),
    }
}

/// Validates `[webhooks]`: `Some(None)` when absent, `None` on a problem.
pub(super) fn webhooks(
    p: &mut Problems,
    raw: Option<&RawWebhooks>,
    env: &Environment,
) -> Option<Option<WebhooksConfig>> {
    let Some(raw) = raw else {
        return Some(None);
    };
    let url = p.check("webhooks.url", http_url(&raw.url));
    let secrets = p.ring("webhooks.secrets", &raw.secrets, env);
    let max_attempts = p.check(
        "webhooks.max_attempts",
        match raw.max_attempts.unwrap_or(12) {
            n @ 1..=100 => Ok(n),
            n => Err(format!("must be between 1 and 100, got {n}")),
        },
    );
    let backoff = p.duration(
        "webhooks.backoff",
        raw.backoff.as_deref(),
        "1s",
        Duration::from_millis(10),
        Duration::from_secs(600),
    );
    Some(Some(WebhooksConfig {
        url: url?,
        secrets: secrets?,
        max_attempts: max_attempts?,
        backoff: backoff?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = r#"secrets = [{ id = "p1", secret = "provider-secret-0123456789" }]"#;

    fn provider(text: Option<&str>, dev_sessions: bool) -> Result<PaymentProvider, Vec<String>> {
        let raw: Option<RawPayments> = text.map(|t| toml::from_str(t).expect("valid TOML"));
        let mut p = Problems::default();
        let checked = payments(&mut p, raw.as_ref(), dev_sessions, &Environment::default());
        checked.ok_or_else(|| p.0.iter().map(|x| x.field.clone()).collect())
    }

    #[test]
    fn direct_is_for_development_only() {
        assert_eq!(provider(None, true), Ok(PaymentProvider::Direct));
        assert_eq!(provider(None, false), Err(vec!["payments.provider".into()]));
        assert_eq!(
            provider(Some("provider = \"direct\""), false),
            Err(vec!["payments.provider".into()])
        );
    }

    #[test]
    fn a_webhook_provider_needs_secrets_and_a_checkout_template() {
        let good = format!(
            "provider = \"webhook\"\n{SECRET}\ncheckout_url = \"https://pay.example/c/{{payment_id}}?o={{order_id}}\""
        );
        let Ok(PaymentProvider::Webhook { tolerance, .. }) = provider(Some(&good), false) else {
            panic!("a valid webhook provider");
        };
        assert_eq!(tolerance, Duration::from_secs(300));
        let on_the_edge = format!(
            "provider = \"webhook\"\n{SECRET}\ncheckout_url = \"/dev/checkout/{{payment_id}}\""
        );
        assert!(
            provider(Some(&on_the_edge), false).is_ok(),
            "a path on the edge itself"
        );
        for (text, field) in [
            ("provider = \"stripe\"".to_owned(), "payments.provider"),
            (
                "provider = \"webhook\"\ncheckout_url = \"https://pay.example/{payment_id}\""
                    .to_owned(),
                "payments.secrets",
            ),
            (
                format!("provider = \"webhook\"\n{SECRET}"),
                "payments.checkout_url",
            ),
            (
                format!(
                    "provider = \"webhook\"\n{SECRET}\ncheckout_url = \"https://pay.example/\""
                ),
                "payments.checkout_url",
            ),
            (
                format!(
                    "provider = \"webhook\"\n{SECRET}\ncheckout_url = \"https://pay.example/{{payment_id}}/{{secret}}\""
                ),
                "payments.checkout_url",
            ),
            (
                format!(
                    "provider = \"webhook\"\n{SECRET}\ncheckout_url = \"ftp://pay.example/{{payment_id}}\""
                ),
                "payments.checkout_url",
            ),
            (
                format!(
                    "provider = \"webhook\"\n{SECRET}\ntolerance = \"2h\"\ncheckout_url = \"https://p.example/{{payment_id}}\""
                ),
                "payments.tolerance",
            ),
            (
                format!(
                    "provider = \"webhook\"\n{SECRET}\ncheckout_url = \"//p.example/{{payment_id}}\""
                ),
                "payments.checkout_url",
            ),
        ] {
            let refused = provider(Some(&text), true).expect_err(&text);
            assert!(refused.contains(&field.to_owned()), "{text}: {refused:?}");
        }
    }

    #[test]
    fn webhooks_need_a_receiver_secrets_and_a_bounded_retry() {
        let check = |text: &str| {
            let raw: RawWebhooks = toml::from_str(text).expect("valid TOML");
            let mut p = Problems::default();
            let checked = webhooks(&mut p, Some(&raw), &Environment::default());
            checked
                .flatten()
                .ok_or_else(|| p.0.iter().map(|x| x.field.clone()).collect::<Vec<_>>())
        };
        let secrets = r#"secrets = [{ id = "w1", secret = "webhook-secret-0123456789" }]"#;
        let good = check(&format!("url = \"https://ops.example/hooks\"\n{secrets}")).unwrap();
        assert_eq!(good.max_attempts, 12);
        assert_eq!(
            check(&format!("url = \"ops.example\"\n{secrets}")),
            Err(vec!["webhooks.url".to_owned()])
        );
        assert_eq!(
            check(&format!(
                "url = \"https://ops.example\"\n{secrets}\nmax_attempts = 0"
            )),
            Err(vec!["webhooks.max_attempts".to_owned()])
        );
        assert_eq!(
            check("url = \"https://ops.example\"\nsecrets = []"),
            Err(vec!["webhooks.secrets".to_owned()])
        );
        assert_eq!(
            check(&format!(
                "url = \"https://ops.example\"\n{secrets}\nbackoff = \"1ms\""
            )),
            Err(vec!["webhooks.backoff".to_owned()])
        );
    }
}
