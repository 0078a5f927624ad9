//! Wall-clock instants as Unix milliseconds: the unit every signed value and every Redis
//! deadline uses, so edge, origin and Redis agree without time-zone or monotonic-clock questions.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
pub type UnixMillis = u64;

/// The current wall-clock time. The only place the crate reads the clock; everything else takes
/// `now` as an argument.
#[allow(
    clippy::disallowed_methods,
    reason = "the one place the wall clock is read"
)]
pub fn now_millis() -> UnixMillis {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, millis)
}

/// `d` in whole milliseconds, saturating instead of overflowing on absurd durations.
pub fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// `at` plus `d`, saturating instead of overflowing on absurd durations.
pub fn add(at: UnixMillis, d: Duration) -> UnixMillis {
    at.saturating_add(millis(d))
}

/// RFC 3339 text for a Unix-millisecond instant, as the public API shows times.
pub fn rfc3339(at: UnixMillis) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(at)).to_string()
}
