//! The origins' health check: `GET /healthz` over the same kind of connection a request would
//! use (plain, or TLS verified against the origin's CA), so an origin whose certificate the edge
//! would refuse leaves the rotation like a dead one. Probes fail fast: a slow origin is as
//! useless to a flash sale as a dead one.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::connectors::http::Connector;
use pingora::http::RequestHeader;
use pingora::lb::Backend;
use pingora::lb::health_check::HealthCheck;
use pingora::{Error, ErrorType, Result};

use crate::live_config::Live;

/// Probes each origin's `/healthz`; one failure takes it out, one success brings it back.
pub struct OriginHealth {
    live: Arc<Live>,
    connector: Connector,
}

impl OriginHealth {
    /// A check that reads the live config for each probe.
    pub fn new(live: Arc<Live>) -> Self {
        Self {
            live,
            connector: Connector::new(None),
        }
    }
}

#[async_trait]
impl HealthCheck for OriginHealth {
    async fn check(&self, target: &Backend) -> Result<()> {
        let snapshot = self.live.snapshot();
        let Some(addr) = target.addr.as_inet().copied() else {
            return Error::e_explain(ErrorType::InternalError, "an origin is not an IP address");
        };
        let edge = &snapshot.config.edge;
        let timeout = edge
            .health_check_interval
            .min(edge.upstream_connect_timeout);
        let mut peer = super::peer(addr, &snapshot);
        peer.options.connection_timeout = Some(timeout);
        peer.options.read_timeout = Some(timeout);
        peer.options.write_timeout = Some(timeout);
        let (mut session, _) = self.connector.get_http_session(&peer).await?;
        let mut probe = RequestHeader::build("GET", b"/healthz", None)?;
        probe.insert_header("host", "origin")?;
        session.write_request_header(Box::new(probe)).await?;
        session.finish_request_body().await?;
        session.set_read_timeout(Some(timeout));
        session.read_response_header().await?;
        let status = session.response_header().map_or(0, |r| r.status.as_u16());
        if status != 200 {
            return Error::e_explain(
                ErrorType::CustomCode("origin not healthy", status),
                "during the health check",
            );
        }
        while session.read_response_body().await?.is_some() {}
        Ok(())
    }

    fn health_threshold(&self, _success: bool) -> usize {
        1
    }
}
