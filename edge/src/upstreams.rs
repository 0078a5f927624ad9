//! The origins the edge balances over: pingora's weighted round-robin `LoadBalancer`, fed by a
//! discovery that reads the live config (so a reload changes origins and weights), with an HTTP
//! health check on each origin's `/healthz` ([`health`]) so a dead origin leaves the rotation
//! within one probe interval and returns by itself. What one request exchanges with an origin is
//! in [`exchange`]; origins reached over TLS are verified as [`origin_tls`] says.

pub mod exchange;
pub mod health;
pub mod origin_tls;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::live_config::{Live, Snapshot};
use async_trait::async_trait;
use pingora::lb::discovery::ServiceDiscovery;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, Backends, LoadBalancer};
use pingora::upstreams::peer::HttpPeer;

/// The balancer type the edge uses.
pub type Origins = LoadBalancer<RoundRobin>;

/// How often the balancer re-reads the live config; a reload also updates it at once.
const DISCOVERY_PERIOD: Duration = Duration::from_secs(1);

/// Discovery over the `[[origins]]` of the config in force.
struct ConfiguredOrigins {
    live: Arc<Live>,
}

#[async_trait]
impl ServiceDiscovery for ConfiguredOrigins {
    async fn discover(&self) -> pingora::Result<(BTreeSet<Backend>, HashMap<u64, bool>)> {
        let snapshot = self.live.snapshot();
        let backends = snapshot
            .config
            .origins
            .iter()
            .map(|o| Backend::new_with_weight(&o.listen.to_string(), o.weight.get()))
            .collect::<pingora::Result<_>>()?;
        Ok((backends, HashMap::new()))
    }
}

/// Builds the balancer with its health check; run it as a background service.
pub fn balancer(live: Arc<Live>) -> Origins {
    let edge = live.snapshot().config.edge.clone();
    let backends = Backends::new(Box::new(ConfiguredOrigins { live: live.clone() }));
    let mut lb = LoadBalancer::from_backends(backends);
    lb.set_health_check(Box::new(health::OriginHealth::new(live)));
    lb.health_check_frequency = Some(edge.health_check_interval);
    lb.update_frequency = Some(DISCOVERY_PERIOD);
    lb.parallel_health_check = true;
    lb
}

/// The next healthy origin not in `avoid` (origins this request already failed to reach). When
/// the health checks hold every origin down, the next one not in `avoid` whatever its health
/// (Envoy's "panic mode"): probes that time out on a machine under load say less than a real
/// attempt, which fails fast on a dead origin and is then retried on another.
pub fn select(origins: &Origins, avoid: &[SocketAddr]) -> Option<SocketAddr> {
    let pick = |require_health: bool| {
        origins
            .select_with(b"", 256, |backend, healthy| {
                (healthy || !require_health)
                    && backend.addr.as_inet().is_some_and(|a| !avoid.contains(a))
            })
            .and_then(|b| b.addr.as_inet().copied())
    };
    pick(true).or_else(|| pick(false))
}

/// How to talk to an origin: plain, or TLS verified against its own CA.
pub fn peer(addr: SocketAddr, snapshot: &Snapshot) -> HttpPeer {
    let edge = &snapshot.config.edge;
    let mut peer = match snapshot.origin_trust.get(&addr) {
        Some(trust) => {
            let mut peer = HttpPeer::new(addr, true, trust.server_name.clone());
            peer.options.ca = Some(trust.ca.clone());
            peer
        }
        None => HttpPeer::new(addr, false, String::new()),
    };
    peer.options.connection_timeout = Some(edge.upstream_connect_timeout);
    peer.options.read_timeout = Some(edge.upstream_read_timeout);
    peer.options.write_timeout = Some(edge.upstream_read_timeout);
    // Keep pooled connections to origins warm, but not forever.
    peer.options.idle_timeout = Some(Duration::from_secs(60));
    peer
}
