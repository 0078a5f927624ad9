//! The origins the edge balances over: pingora's weighted round-robin `LoadBalancer`, fed by a
//! discovery that reads the live config (so a reload changes origins and weights), with an HTTP
//! health check on each origin's `/healthz` so a dead origin leaves the rotation within one probe
//! interval and returns by itself. What one request exchanges with an origin is in [`exchange`].

pub mod exchange;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use pingora::http::RequestHeader;
use pingora::lb::discovery::ServiceDiscovery;
use pingora::lb::health_check::HttpHealthCheck;
use pingora::lb::selection::RoundRobin;
use pingora::lb::{Backend, Backends, LoadBalancer};
use pingora::upstreams::peer::HttpPeer;
use sale::config::EdgeConfig;

use crate::live_config::Live;

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
    let mut lb = LoadBalancer::from_backends(Backends::new(Box::new(ConfiguredOrigins { live })));
    let mut check = HttpHealthCheck::new("origin", false);
    let mut probe =
        RequestHeader::build("GET", b"/healthz", None).expect("static request is valid");
    probe
        .insert_header("host", "origin")
        .expect("static header is valid");
    check.req = probe;
    // Probes must fail fast: a slow origin is as useless to a flash sale as a dead one.
    let probe_timeout = edge
        .health_check_interval
        .min(edge.upstream_connect_timeout);
    check.peer_template.options.connection_timeout = Some(probe_timeout);
    check.peer_template.options.read_timeout = Some(probe_timeout);
    lb.set_health_check(Box::new(check));
    lb.health_check_frequency = Some(edge.health_check_interval);
    lb.update_frequency = Some(DISCOVERY_PERIOD);
    lb.parallel_health_check = true;
    lb
}

/// The next healthy origin not in `avoid` (origins this request already failed to reach).
pub fn select(origins: &Origins, avoid: &[SocketAddr]) -> Option<SocketAddr> {
    origins
        .select_with(b"", 256, |backend, healthy| {
            healthy && backend.addr.as_inet().is_some_and(|a| !avoid.contains(a))
        })
        .and_then(|b| b.addr.as_inet().copied())
}

/// How to talk to an origin.
pub fn peer(addr: SocketAddr, edge: &EdgeConfig) -> HttpPeer {
    let mut peer = HttpPeer::new(addr, false, String::new());
    peer.options.connection_timeout = Some(edge.upstream_connect_timeout);
    peer.options.read_timeout = Some(edge.upstream_read_timeout);
    peer.options.write_timeout = Some(edge.upstream_read_timeout);
    // Keep pooled connections to origins warm, but not forever.
    peer.options.idle_timeout = Some(Duration::from_secs(60));
    peer
}
