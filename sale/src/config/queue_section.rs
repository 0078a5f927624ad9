//! `[events.queue]`: the waiting room in front of one event's sale, validated into a
//! [`QueueConfig`] when it is enabled (and into nothing when it is not). Its fields are checked
//! either way, so a bad value is found by `check-config` now, not by the reload that turns the
//! room on in the middle of a sale.

use std::time::Duration;

use super::QueueConfig;
use super::problems::Problems;
use super::raw::RawQueue;
use super::values::Rate;

const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

/// `Some(None)` when the queue is off, `Some(Some(_))` when on and valid, `None` on a problem
/// (recorded in `p` under `field`).
pub(super) fn validate(
    p: &mut Problems,
    field: &str,
    raw: Option<&RawQueue>,
) -> Option<Option<QueueConfig>> {
    let Some(raw) = raw else {
        return Some(None);
    };
    let opens_before = p.duration(
        &format!("{field}.opens_before"),
        raw.opens_before.as_deref(),
        "15m",
        SEC,
        7 * DAY,
    );
    let rate = p.check(
        format!("{field}.admit_rate"),
        Rate::parse(raw.admit_rate.as_deref().unwrap_or("50/s"), Some(1)),
    );
    // The room tells a buyer to poll at least every second and at most every third of the
    // admission's life, so a place reached between two polls is claimed with time to spare; an
    // admission shorter than three polls could be forfeited by a buyer who polls as told.
    let admission_ttl = p.duration(
        &format!("{field}.admission_ttl"),
        raw.admission_ttl.as_deref(),
        "10m",
        3 * QueueConfig::SHORTEST_POLL,
        60 * MIN,
    );
    let pow_bits = p.check(
        format!("{field}.pow_bits"),
        match raw.pow_bits.unwrap_or(0) {
            bits @ 0..=24 => Ok(bits),
            other => Err(format!("must be 0 to 24, got {other}")),
        },
    );
    let queue = QueueConfig {
        opens_before: opens_before?,
        admit_rate: rate?,
        admission_ttl: admission_ttl?,
        pow_bits: pow_bits?,
    };
    Some(raw.enabled.then_some(queue))
}
