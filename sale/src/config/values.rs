//! Typed config values and their parsers. Each parser returns a message that completes the
//! sentence "FIELD ...", so the validator can name the field in front of it.

use std::net::SocketAddr;
use std::time::Duration;

use crate::time::{self, UnixMillis};

/// A parse failure, phrased to follow the field name.
pub type ValueResult<T> = Result<T, String>;

/// An origin's share of traffic. Bounded because the balancer expands weights into a slot table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Weight(u16);

impl Weight {
    /// The largest weight.
    pub const MAX: u32 = 1000;

    /// Validates a weight.
    pub fn parse(value: u32) -> ValueResult<Self> {
        match u16::try_from(value) {
            Ok(w) if (1..=Self::MAX).contains(&value) => Ok(Self(w)),
            _ => Err(format!("must be between 1 and {}, got {value}", Self::MAX)),
        }
    }

    /// The weight as a count of balancer slots.
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// When an event sells: `[starts_at, ends_at)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SaleWindow {
    /// First instant purchase tokens are issued.
    pub starts_at: UnixMillis,
    /// First instant they no longer are.
    pub ends_at: UnixMillis,
}

impl SaleWindow {
    /// Validates that the window is not empty.
    pub fn new(starts_at: UnixMillis, ends_at: UnixMillis) -> ValueResult<Self> {
        if ends_at <= starts_at {
            return Err(format!(
                "must be after starts_at ({} is not after {})",
                time::rfc3339(ends_at),
                time::rfc3339(starts_at)
            ));
        }
        Ok(Self { starts_at, ends_at })
    }
}

/// A sustained rate with a burst: the two numbers of a GCRA cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    /// One request is replenished every `period`.
    pub period: Duration,
    /// Requests allowed back to back.
    pub burst: u32,
}

impl Rate {
    /// Parses `"N/s"` or `"N/m"` with an optional burst (default: the rate per second, at least 1).
    pub fn parse(rate: &str, burst: Option<u32>) -> ValueResult<Self> {
        let bad = || format!("must be like \"10/s\" or \"600/m\", got {rate:?}");
        let (count, unit) = rate.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let window = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            _ => return Err(bad()),
        };
        if count == 0 {
            return Err(format!("must allow at least one request, got {rate:?}"));
        }
        let per_second = (f64::from(count) / window.as_secs_f64()).ceil();
        let burst = burst.unwrap_or(per_second.max(1.0) as u32);
        if burst == 0 {
            return Err("burst must be at least 1".into());
        }
        Ok(Self {
            period: window / count,
            burst,
        })
    }
}

/// An address or network (`IP` or `IP/prefix`) that is trusted as a proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Network {
    /// The network address.
    pub addr: std::net::IpAddr,
    /// Prefix length in bits.
    pub prefix: u8,
}

impl Network {
    /// Parses `IP` or `IP/prefix`.
    pub fn parse(text: &str) -> ValueResult<Self> {
        let bad = || format!("must be an IP address or IP/prefix, got {text:?}");
        let (ip, prefix) = match text.split_once('/') {
            Some((ip, prefix)) => (ip, Some(prefix.parse::<u8>().map_err(|_| bad())?)),
            None => (text, None),
        };
        let addr: std::net::IpAddr = ip.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        Ok(Self { addr, prefix })
    }

    /// Whether `ip` is inside this network.
    pub fn contains(&self, ip: std::net::IpAddr) -> bool {
        let bits = |ip: std::net::IpAddr| match ip {
            std::net::IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, true),
            std::net::IpAddr::V6(v6) => (u128::from(v6), false),
        };
        let (net, net_v4) = bits(self.addr);
        let (candidate, candidate_v4) = bits(ip);
        if net_v4 != candidate_v4 {
            return false;
        }
        // IPv4 sits in the top 32 bits, so the prefix counts from the top either way.
        let width = u32::from(self.prefix);
        if width == 0 {
            return true;
        }
        let mask = u128::MAX << (128 - width);
        net & mask == candidate & mask
    }
}

/// A `host:port` socket address. Names are not resolved: listeners and origins are addresses.
pub fn socket_addr(text: &str) -> ValueResult<SocketAddr> {
    text.parse()
        .map_err(|_| format!("must be an IP:port address like 127.0.0.1:8080, got {text:?}"))
}

/// A human duration like `"500ms"`, `"30s"` or `"10m"`, within `[min, max]`.
pub fn duration(text: &str, min: Duration, max: Duration) -> ValueResult<Duration> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("must be a duration like \"30s\" or \"500ms\" ({e}), got {text:?}"))?;
    if d < min || d > max {
        return Err(format!(
            "must be between {} and {}, got {text:?}",
            humantime::format_duration(min),
            humantime::format_duration(max)
        ));
    }
    Ok(d)
}

/// An instant: RFC 3339 with its zone (`Z` or an offset), or `+DURATION` / `-DURATION` relative
/// to `epoch` (the stack's start). `epoch` is `None` in a component that has no start shared with
/// the rest of its fleet: a relative time there would mean a different instant in each process.
/// Nothing past [`time::LAST_INSTANT`] is accepted, since nothing could show it.
pub fn instant(text: &str, epoch: Option<UnixMillis>) -> ValueResult<UnixMillis> {
    let relative = |offset: &str| {
        let epoch = epoch.ok_or_else(|| {
            format!(
                "is relative ({text:?}) but this process has no start shared with the rest of the \
                 stack: run it under `flashgate up`, set {} to the same instant for every \
                 component, or write an RFC 3339 time",
                super::Environment::EPOCH_VAR
            )
        })?;
        humantime::parse_duration(offset)
            .map(|d| (epoch, d))
            .map_err(|e| format!("must be RFC 3339 or ±DURATION ({e}), got {text:?}"))
    };
    let at = if let Some(offset) = text.strip_prefix('+') {
        let (epoch, d) = relative(offset)?;
        time::add(epoch, d)
    } else if let Some(offset) = text.strip_prefix('-') {
        let (epoch, d) = relative(offset)?;
        epoch.saturating_sub(time::millis(d))
    } else {
        time::parse_rfc3339(text).map_err(|e| {
            format!("must be RFC 3339 with its zone, like 2026-12-01T20:00:00Z or 2026-12-01T21:00:00+01:00, or +DURATION ({e}), got {text:?}")
        })?
    };
    if at > time::LAST_INSTANT {
        return Err(format!("must not be past the year 9999, got {text:?}"));
    }
    Ok(at)
}

/// An ISO 4217 currency code.
pub fn currency(text: &str) -> ValueResult<String> {
    if text.len() == 3 && text.chars().all(|c| c.is_ascii_uppercase()) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "must be a three-letter ISO 4217 code like \"EUR\", got {text:?}"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn bad_rates_are_refused() {
        assert!(Rate::parse("10", None).is_err());
        assert!(Rate::parse("0/s", None).is_err());
        assert!(Rate::parse("10/h", None).is_err());
        assert!(Rate::parse("10/s", Some(0)).is_err());
        assert_eq!(
            Rate::parse("10/s", None).unwrap(),
            Rate {
                period: Duration::from_millis(100),
                burst: 10
            }
        );
        assert_eq!(
            Rate::parse("60/m", Some(5)).unwrap().period,
            Duration::from_secs(1)
        );
    }

    #[test]
    fn bad_networks_are_refused() {
        assert!(Network::parse("10.0.0.0/33").is_err());
        assert!(Network::parse("proxy").is_err());
        let net = Network::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(
            Network::parse("::1")
                .unwrap()
                .contains("::1".parse().unwrap())
        );
        assert!(
            !Network::parse("::1")
                .unwrap()
                .contains("127.0.0.1".parse().unwrap())
        );
    }

    #[test]
    fn weight_zero_is_refused() {
        assert!(Weight::parse(0).is_err());
    }

    #[test]
    fn weight_over_max_is_refused() {
        assert!(Weight::parse(1001).is_err());
        assert_eq!(Weight::parse(1000).unwrap().get(), 1000);
    }

    #[test]
    fn empty_sale_window_is_refused() {
        assert!(SaleWindow::new(10, 10).is_err());
        assert!(SaleWindow::new(10, 9).is_err());
        assert!(SaleWindow::new(10, 11).is_ok());
    }

    #[test]
    fn host_names_are_refused_as_addresses() {
        assert!(socket_addr("localhost:80").is_err());
        assert!(socket_addr("127.0.0.1").is_err());
        assert!(socket_addr("[::1]:8080").is_ok());
    }

    #[test]
    fn bad_durations_are_refused() {
        assert!(duration("soon", SEC, 10 * SEC).is_err());
        assert!(duration("20s", SEC, 10 * SEC).is_err());
        assert!(duration("1ms", SEC, 10 * SEC).is_err());
        assert_eq!(duration("2s", SEC, 10 * SEC), Ok(2 * SEC));
    }

    #[test]
    fn instants_accept_rfc3339_and_offsets_only() {
        assert_eq!(instant("+30s", Some(1_000)), Ok(31_000));
        assert_eq!(instant("-1s", Some(1_000)), Ok(0));
        assert_eq!(instant("1970-01-01T00:00:01Z", None), Ok(1_000));
        assert_eq!(instant("1970-01-01T01:00:01+01:00", None), Ok(1_000));
        assert!(instant("tomorrow", Some(0)).is_err());
        assert!(instant("+soon", Some(0)).is_err());
    }

    #[test]
    fn instants_without_a_zone_are_refused() {
        let refused = instant("2026-12-01T20:00:00", None).unwrap_err();
        assert!(refused.contains("with its zone"), "{refused}");
        assert!(instant("2026-12-01 20:00:00", None).is_err());
    }

    #[test]
    fn instants_past_the_year_9999_are_refused() {
        assert!(instant("+20000y", Some(0)).is_err());
        assert!(instant("+2000000000000000000s", Some(0)).is_err());
        assert_eq!(
            instant("9999-12-31T23:59:59.999Z", None),
            Ok(time::LAST_INSTANT)
        );
    }

    #[test]
    fn relative_instants_need_a_shared_start() {
        let refused = instant("+20s", None).unwrap_err();
        assert!(refused.contains("FLASHGATE_EPOCH_MS"), "{refused}");
        assert!(instant("-20s", None).is_err());
    }

    #[test]
    fn bad_currencies_are_refused() {
        assert!(currency("eur").is_err());
        assert!(currency("EURO").is_err());
        assert!(currency("EUR").is_ok());
    }
}
