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

/// The last instant RFC 3339's four-digit years can write: 9999-12-31T23:59:59.999Z. Config
/// validation refuses anything later, and [`rfc3339`] writes anything later as this.
pub const LAST_INSTANT: UnixMillis = 253_402_300_799_999;

/// RFC 3339 text for a Unix-millisecond instant, as the public API shows times. An instant past
/// [`LAST_INSTANT`] (which validation never lets through) is written as that one, never a panic.
pub fn rfc3339(at: UnixMillis) -> String {
    humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_millis(at.min(LAST_INSTANT)))
        .to_string()
}

/// Parses RFC 3339 text that names its zone (`Z` or an offset such as `+01:00`): a time without
/// one would be read in some zone the writer did not mean.
pub fn parse_rfc3339(text: &str) -> Result<UnixMillis, String> {
    let at = ::time::OffsetDateTime::parse(text, &::time::format_description::well_known::Rfc3339)
        .map_err(|e| e.to_string())?;
    let ms = at.unix_timestamp_nanos() / 1_000_000;
    u64::try_from(ms).map_err(|_| "is before 1970".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_past_the_last_writable_one_are_written_as_it() {
        assert_eq!(rfc3339(LAST_INSTANT), "9999-12-31T23:59:59.999Z");
        assert_eq!(rfc3339(u64::MAX), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn rfc3339_needs_a_zone_and_honours_offsets() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01Z"), Ok(1_000));
        assert_eq!(parse_rfc3339("1970-01-01T02:00:01.5+02:00"), Ok(1_500));
        assert!(parse_rfc3339("1970-01-01T00:00:01").is_err());
        assert!(parse_rfc3339("1969-12-31T23:59:59Z").is_err());
    }
}
