//! Once a second: prune the limiters (and enforce their key cap), forget expired used tokens,
//! and refresh the gauges operators watch (limiter sizes, origin health and weights, config
//! version, days left on each certificate).

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::live_config::Live;
use crate::metrics::{CertificateLabel, EdgeMetrics, LimiterLabel, OriginLabel};
use crate::tokens::used::UsedTokens;
use crate::upstreams::Origins;

/// How often housekeeping runs.
pub const PERIOD: Duration = Duration::from_secs(1);

/// The housekeeping loop.
pub struct Housekeeping {
    /// Config and limiters in force.
    pub live: Arc<Live>,
    /// The balancer.
    pub origins: Arc<Origins>,
    /// Tokens that bought.
    pub used: Arc<UsedTokens>,
    /// Gauges to refresh.
    pub metrics: Arc<EdgeMetrics>,
}

impl Housekeeping {
    fn run_once(&self) {
        let snapshot = self.live.snapshot();
        let (user_keys, ip_keys) = snapshot.limits.maintain();
        self.used.prune(sale::time::now_millis());
        let keys = &self.metrics.limiter_keys;
        keys.get_or_create(&LimiterLabel { limiter: "user" })
            .set(sale::saturating::to_i64(user_keys));
        keys.get_or_create(&LimiterLabel { limiter: "ip" })
            .set(sale::saturating::to_i64(ip_keys));
        let backends = self.origins.backends();
        for backend in backends.get_backend().iter() {
            let label = OriginLabel {
                origin: backend.addr.to_string(),
            };
            self.metrics
                .origin_healthy
                .get_or_create(&label)
                .set(i64::from(backends.ready(backend)));
            self.metrics
                .origin_weight
                .get_or_create(&label)
                .set(i64::try_from(backend.weight).unwrap_or(0));
        }
        let version = sale::saturating::to_i64(snapshot.version);
        let previous = self.metrics.config_version.set(version);
        let days = &self.metrics.certificate_days_left;
        // A reload may have replaced the files: only the certificates in force are reported.
        if previous != version {
            days.clear();
        }
        if let Some(certificates) = &snapshot.certificates {
            let now = crate::live_config::unix_secs(sale::time::now_millis());
            for certificate in &certificates.list {
                let label = CertificateLabel {
                    cert: certificate.files.cert.display().to_string(),
                };
                days.get_or_create(&label).set(certificate.days_left(now));
            }
        }
    }
}

#[async_trait]
impl BackgroundService for Housekeeping {
    async fn start(&self, shutdown: ShutdownWatch) {
        sale::background::every(PERIOD, shutdown, || async { self.run_once() }).await;
    }
}
