//! Timestamped body signatures, the scheme payment providers use for webhooks and that flashgate
//! uses both ways: a payment provider's confirmation to the edge (`x-fg-payment-signature`) and
//! flashgate's order webhooks to the operator (`x-fg-webhook-signature`). The header is
//! `t=UNIX_SECONDS,v1=HEX[,v1=HEX...]` (at most four `v1`), each `v1` being
//! HMAC-SHA256(secret, `t + "." + raw body`) in lowercase hex. A sender signs with the ring's
//! signing secret; a receiver accepts any `v1` that matches any secret of its ring (so secrets
//! rotate without a refused delivery), compared in constant time, and only when `t` is within the
//! tolerance of its clock (so a captured delivery cannot be replayed later; within the window,
//! idempotency by event or payment id is the receiver's defence).

use std::time::Duration;

use hmac::Mac;

use crate::key_ring::{HmacSha256, KeyRing};

/// The header a payment provider signs its confirmations with.
pub const PAYMENT_HEADER: &str = "x-fg-payment-signature";
/// The header flashgate signs its order webhooks with.
pub const WEBHOOK_HEADER: &str = "x-fg-webhook-signature";

/// Most `v1` values a header may carry. A sender lists one per secret it is rotating through
/// (two, rarely three); a header listing more is junk, and each value would cost the receiver an
/// HMAC comparison.
pub const MAX_SIGNATURES: usize = 4;

/// Why a signature was refused. Every variant is answered 401 `bad_signature`: a sender learns
/// nothing about which part was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// 401: no `t` or no `v1`, more than [`MAX_SIGNATURES`] `v1`, or a value that does not
    /// parse.
    #[error("the signature header is malformed")]
    Malformed,
    /// 401: `t` is further from now than the tolerance.
    #[error("the signature is outside the tolerance")]
    Stale,
    /// 401: no `v1` matches any secret.
    #[error("no signature matches")]
    Mismatch,
}

fn mac(secret: &[u8], timestamp: u64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value signing `body` at `timestamp` (Unix seconds) with the ring's signing secret.
pub fn sign(ring: &KeyRing, timestamp: u64, body: &[u8]) -> String {
    let tag = mac(ring.current().secret.expose(), timestamp, body).finalize();
    format!("t={timestamp},v1={}", hex::encode(tag.into_bytes()))
}

/// A header as sent: the signed time and the signatures, not yet checked against a body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeader {
    /// `t`, Unix seconds.
    pub timestamp: u64,
    signatures: Vec<Vec<u8>>,
}

impl SignedHeader {
    /// Reads `t=...,v1=...`; schemes other than `v1` are ignored, as providers document.
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        let mut timestamp = None;
        let mut signatures = Vec::new();
        for part in header.split(',') {
            match part.trim().split_once('=') {
                Some(("t", value)) if timestamp.is_none() => {
                    timestamp = Some(
                        value
                            .parse::<u64>()
                            .map_err(|_| SignatureError::Malformed)?,
                    );
                }
                Some(("v1", _)) if signatures.len() == MAX_SIGNATURES => {
                    return Err(SignatureError::Malformed);
                }
                Some(("v1", value)) => {
                    signatures.push(hex::decode(value).map_err(|_| SignatureError::Malformed)?);
                }
                Some((_, _)) => {}
                None => return Err(SignatureError::Malformed),
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if signatures.is_empty() {
            return Err(SignatureError::Malformed);
        }
        Ok(Self {
            timestamp,
            signatures,
        })
    }

    /// Whether `t` is within `tolerance` of `now` (Unix seconds): what the edge checks before
    /// it spends an origin on the body.
    pub fn fresh(&self, now: u64, tolerance: Duration) -> Result<(), SignatureError> {
        if now.abs_diff(self.timestamp) > tolerance.as_secs() {
            return Err(SignatureError::Stale);
        }
        Ok(())
    }
}

/// Checks `header` over `body` against every secret of `ring`, at `now` (Unix seconds); returns
/// the signed timestamp.
pub fn verify(
    ring: &KeyRing,
    header: &str,
    body: &[u8],
    now: u64,
    tolerance: Duration,
) -> Result<u64, SignatureError> {
    let header = SignedHeader::parse(header)?;
    header.fresh(now, tolerance)?;
    // The body is hashed once per secret; each signature is compared against a copy of that
    // state.
    let matched = ring.keys().any(|key| {
        let signed = mac(key.secret.expose(), header.timestamp, body);
        header
            .signatures
            .iter()
            .any(|signature| signed.clone().verify_slice(signature).is_ok())
    });
    if matched {
        Ok(header.timestamp)
    } else {
        Err(SignatureError::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key_ring::{KeyId, Secret, SigningKey};

    const FIVE_MINUTES: Duration = Duration::from_secs(300);

    fn ring(secrets: &[&str]) -> KeyRing {
        KeyRing::new(
            secrets
                .iter()
                .enumerate()
                .map(|(i, s)| SigningKey {
                    id: KeyId::parse(&format!("p{i}")).unwrap(),
                    secret: Secret::parse(s).unwrap(),
                })
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn the_documented_example_verifies() {
        // HMAC-SHA256("whsec-0123456789abcdef", "1700000000.{}"), computed independently with
        // `printf '1700000000.{}' | openssl dgst -sha256 -hmac whsec-0123456789abcdef`.
        let ring = ring(&["whsec-0123456789abcdef"]);
        let header = sign(&ring, 1_700_000_000, b"{}");
        assert_eq!(
            header,
            "t=1700000000,v1=2d586df5f91a6ea5c4bc37bd80e94fb1103f9da69ee9cbd3f6a22a939e1fe1f8"
        );
        assert_eq!(
            verify(&ring, &header, b"{}", 1_700_000_100, FIVE_MINUTES),
            Ok(1_700_000_000)
        );
    }

    #[test]
    fn every_secret_of_the_ring_verifies_and_only_those() {
        let old = ring(&["old-secret-0123456789"]);
        let rotated = ring(&["new-secret-0123456789", "old-secret-0123456789"]);
        let header = sign(&old, 1_000, b"body");
        assert_eq!(
            verify(&rotated, &header, b"body", 1_000, FIVE_MINUTES),
            Ok(1_000)
        );
        let stranger = ring(&["another-secret-0123456789"]);
        assert_eq!(
            verify(&stranger, &header, b"body", 1_000, FIVE_MINUTES),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn a_changed_body_a_stale_time_or_a_bad_header_is_refused() {
        let ring = ring(&["whsec-0123456789abcdef"]);
        let header = sign(&ring, 10_000, b"{\"amount_cents\":100}");
        let check =
            |header: &str, body: &[u8], now: u64| verify(&ring, header, body, now, FIVE_MINUTES);
        assert_eq!(
            check(&header, b"{\"amount_cents\":1}", 10_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            check(&header, b"{\"amount_cents\":100}", 10_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            check(&header, b"{\"amount_cents\":100}", 9_699),
            Err(SignatureError::Stale)
        );
        for malformed in [
            "",
            "t=10000",
            "v1=00",
            "t=x,v1=00",
            "t=10000,v1=zz",
            "garbage",
        ] {
            assert_eq!(
                check(malformed, b"{}", 10_000),
                Err(SignatureError::Malformed),
                "{malformed:?}"
            );
        }
        // Up to MAX_SIGNATURES values are read (a rotating sender's); more are junk.
        let good = header.split_once(",v1=").unwrap().1;
        let listed = |count: usize| {
            let mut listed = "t=10000".to_owned();
            for _ in 1..count {
                listed.push_str(",v1=00");
            }
            listed + ",v1=" + good
        };
        let body = b"{\"amount_cents\":100}";
        assert_eq!(check(&listed(MAX_SIGNATURES), body, 10_000), Ok(10_000));
        assert_eq!(
            check(&listed(MAX_SIGNATURES + 1), body, 10_000),
            Err(SignatureError::Malformed)
        );
        // A signature made for another timestamp does not verify under this one.
        let moved = header.replacen("t=10000", "t=10001", 1);
        assert_eq!(
            check(&moved, b"{\"amount_cents\":100}", 10_000),
            Err(SignatureError::Mismatch)
        );
    }
}
