//! The edge's Prometheus metrics: requests by route and outcome, latency by route, buys forwarded
//! to the origins (spending the origin rate), origin health, limiter sizes, the config version in force,
//! the days left on each https certificate, and the sale's state ([`sale`]).

use arc_swap::ArcSwap;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::routes::Route;

pub mod sale;

/// Labels of one answered request.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// The route label.
    pub route: &'static str,
    /// `ok`, a refusal code, or `origin_<status>` for proxied answers.
    pub code: &'static str,
}

/// The outcome label of an answer an origin gave, without allocating per request.
pub fn origin_code(status: u16) -> &'static str {
    match status {
        200 => "origin_200",
        201 => "origin_201",
        400 => "origin_400",
        401 => "origin_401",
        403 => "origin_403",
        404 => "origin_404",
        409 => "origin_409",
        410 => "origin_410",
        429 => "origin_429",
        500 => "origin_500",
        503 => "origin_503",
        other => match other / 100 {
            2 => "origin_2xx",
            4 => "origin_4xx",
            _ => "origin_5xx",
        },
    }
}

/// Labels of a per-route series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabel {
    /// The route label.
    pub route: &'static str,
}

/// Labels of a per-origin series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OriginLabel {
    /// `IP:PORT`.
    pub origin: String,
}

/// Labels of a per-limiter series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimiterLabel {
    /// `user` or `ip`.
    pub limiter: &'static str,
}

/// Labels of a per-certificate series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CertificateLabel {
    /// The certificate file.
    pub cert: String,
}

/// Every edge metric.
#[derive(Debug)]
pub struct EdgeMetrics {
    registry: Registry,
    /// Requests by route and outcome.
    pub requests: Family<Outcome, Counter>,
    /// Seconds from request to response, by route.
    pub latency: Family<RouteLabel, Histogram>,
    /// Buys forwarded to an origin, each spending the origin rate (replays of a link that bought
    /// spend none and are not counted).
    pub forwarded_buys: Counter,
    /// 1 if the origin passes its health check.
    pub origin_healthy: Family<OriginLabel, Gauge>,
    /// The origin's configured weight.
    pub origin_weight: Family<OriginLabel, Gauge>,
    /// Keys each limiter remembers.
    pub limiter_keys: Family<LimiterLabel, Gauge>,
    /// The config version in force.
    pub config_version: Gauge,
    /// Whole days until each certificate in force expires.
    pub certificate_days_left: Family<CertificateLabel, Gauge>,
    /// The sale's state, set at each scrape.
    pub sale: sale::SaleGauges,
    /// Each route's latency series, by its place in [`Route::LABELS`], made up front.
    route_latency: Vec<Histogram>,
    /// The request counters each route has used (by its place in [`Route::LABELS`]), looked up
    /// in the family once: afterwards a request finds its counter without the family's lock,
    /// whose shared read count moves between cores on every request, and without hashing.
    route_requests: Vec<ArcSwap<Vec<(&'static str, Counter)>>>,
}

impl EdgeMetrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("flashgate_edge");
        let requests = Family::<Outcome, Counter>::default();
        let latency = Family::<RouteLabel, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        let forwarded_buys = Counter::default();
        let origin_healthy = Family::<OriginLabel, Gauge>::default();
        let origin_weight = Family::<OriginLabel, Gauge>::default();
        let limiter_keys = Family::<LimiterLabel, Gauge>::default();
        let config_version = Gauge::default();
        let certificate_days_left = Family::<CertificateLabel, Gauge>::default();
        registry.register(
            "requests",
            "Requests by route and outcome",
            requests.clone(),
        );
        registry.register(
            "request_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        registry.register(
            "forwarded_buys",
            "Buys forwarded to an origin",
            forwarded_buys.clone(),
        );
        registry.register(
            "origin_healthy",
            "1 while the origin passes its health check",
            origin_healthy.clone(),
        );
        registry.register(
            "origin_weight",
            "The origin's configured weight",
            origin_weight.clone(),
        );
        registry.register(
            "limiter_keys",
            "Keys each frequency limiter remembers",
            limiter_keys.clone(),
        );
        registry.register(
            "config_version",
            "The config version in force",
            config_version.clone(),
        );
        registry.register(
            "certificate_days_left",
            "Whole days until each https certificate in force expires",
            certificate_days_left.clone(),
        );
        let sale = sale::SaleGauges::register(&mut registry);
        let route_latency = Route::LABELS
            .iter()
            .map(|&route| latency.get_or_create(&RouteLabel { route }).clone())
            .collect();
        let route_requests = Route::LABELS.iter().map(|_| ArcSwap::default()).collect();
        Self {
            registry,
            sale,
            route_latency,
            route_requests,
            requests,
            latency,
            forwarded_buys,
            origin_healthy,
            origin_weight,
            limiter_keys,
            config_version,
            certificate_days_left,
        }
    }

    /// Counts one answered request.
    pub fn record(&self, route: &'static str, code: &'static str, seconds: f64) {
        let Some(slot) = Route::LABELS.iter().position(|&label| label == route) else {
            self.requests.get_or_create(&Outcome { route, code }).inc();
            self.latency
                .get_or_create(&RouteLabel { route })
                .observe(seconds);
            return;
        };
        self.route_latency[slot].observe(seconds);
        let known = self.route_requests[slot].load();
        match known.iter().find(|(known, _)| *known == code) {
            Some((_, counter)) => {
                counter.inc();
            }
            None => self.first_of(slot, Outcome { route, code }),
        }
    }

    /// Counts the first request of a route with this outcome, remembering its counter.
    fn first_of(&self, slot: usize, outcome: Outcome) {
        let counter = self.requests.get_or_create(&outcome).clone();
        counter.inc();
        self.route_requests[slot].rcu(|known| {
            let mut known = Vec::clone(known);
            if !known.iter().any(|(code, _)| *code == outcome.code) {
                known.push((outcome.code, counter.clone()));
            }
            known
        });
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

impl Default for EdgeMetrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_and_family_counts_agree() {
        let metrics = EdgeMetrics::new();
        for _ in 0..3 {
            metrics.record("buy", "sold_out", 0.001);
        }
        metrics.record("buy", "ok", 0.001);
        metrics.record("unlisted", "ok", 0.001);
        let count = |route, code| {
            metrics
                .requests
                .get_or_create(&Outcome { route, code })
                .get()
        };
        assert_eq!(count("buy", "sold_out"), 3);
        assert_eq!(count("buy", "ok"), 1);
        assert_eq!(count("unlisted", "ok"), 1);
        let text = metrics.render();
        assert!(text.contains(r#"flashgate_edge_request_seconds_count{route="buy"} 4"#));
    }
}
