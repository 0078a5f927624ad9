//! HTTPS at the edge: Pingora terminates TLS (rustls, chosen by measurement: see
//! docs/benchmarks.md) on `[edge.tls] listen`, with certificates picked per handshake by server
//! name from the live config ([`resolver`]), so a reload rotates them without a restart; h2 is
//! offered by ALPN beside HTTP/1.1 with the limits in [`h2`], each h2 connection run by
//! [`h2_connection`] (a stream budget, which is what stops rapid reset). [`certificates`] reads and checks
//! the files; [`scheme`] is what being secure changes in an answer, and what the plain listener
//! does.

pub mod certificates;
pub mod h2;
pub mod h2_connection;
pub mod resolver;
pub mod scheme;

use std::sync::Arc;

use pingora::apps::ServerApp;
use pingora::listeners::tls::TlsSettings;
use pingora::listeners::{L4BufferSettings, ListenerConfig};
use pingora::services::listening::Service;
use sale::config::TlsConfig;

use crate::live_config::Live;

/// Adds the HTTPS listener to `service`: TLS 1.2 and 1.3 (rustls' modern suites only),
/// stateful session resumption (rustls' server session cache), ALPN `h2` when enabled.
pub fn add_listener<A: ServerApp + Send + Sync + 'static>(
    service: &mut Service<A>,
    tls: &TlsConfig,
    live: Arc<Live>,
) -> pingora::Result<()> {
    // The files are named by the resolver's certificates, not here: the paths are ignored once
    // a resolver is set.
    let mut settings = TlsSettings::intermediate("", "")?;
    settings.set_cert_resolver(Arc::new(resolver::SniResolver { live }));
    if tls.http2 {
        settings.enable_h2();
    }
    service.add_listener(
        ListenerConfig::tcp(tls.listen.to_string())
            .tls(settings)
            .l4_buffer(L4BufferSettings::default().write(crate::WRITE_BUFFER_BYTES)),
    );
    Ok(())
}
