//! How long the edge waits on a client. Every read of a request body and every write of a
//! response must make progress within `edge.client_timeout`, or the connection is closed (a body
//! that stalls is answered 408 first). A connection may wait `edge.idle_timeout` for a request
//! head, the first or the next one, and each read of a head is bounded by it. Pingora gives a
//! head's reads a minute each and bodies and idle connections forever, and has no setting for
//! the head (it is read under the connection's keep-alive timeout), so the edge's HTTP app is
//! this thin wrapper around the proxy that sets the session's timeouts before the proxy reads
//! each request, and otherwise delegates. The values come from the live config on every
//! request, so a reload applies at once.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::protocols::http::ServerSession;
use pingora::protocols::http::v2::server::H2Options;
use pingora::server::ShutdownWatch;

use crate::live_config::Live;

/// The proxy `A`, with waits on clients bounded by the live config's `client_timeout` and
/// `idle_timeout`.
pub struct ClientTimeout<A> {
    /// The proxy that handles the request.
    pub proxy: Arc<A>,
    /// Where the timeouts come from.
    pub live: Arc<Live>,
}

#[async_trait]
impl<A> HttpServerApp for ClientTimeout<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new_http(
        self: &Arc<Self>,
        mut session: ServerSession,
        shutdown: &ShutdownWatch,
    ) -> Option<ReusedHttpStream> {
        let (client_timeout, idle_timeout) = {
            let snapshot = self.live.snapshot();
            let edge = &snapshot.config.edge;
            (edge.client_timeout, edge.idle_timeout)
        };
        // No keep-alive means the connection closes after this request (HTTP/1.0, or shutting
        // down); otherwise the head is read under the keep-alive timeout, in whole seconds.
        if session.get_keepalive().is_some() {
            session.set_keepalive(Some(idle_timeout.as_secs()));
        }
        session.set_read_timeout(Some(client_timeout));
        session.set_write_timeout(Some(client_timeout));
        self.proxy.process_new_http(session, shutdown).await
    }

    /// Read when each h2 connection opens, so a reload changes the limits of the next ones.
    fn h2_options(&self) -> Option<H2Options> {
        crate::tls::h2::options(&self.live.snapshot().config.edge)
            .or_else(|| self.proxy.h2_options())
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        self.proxy.server_options()
    }

    async fn http_cleanup(&self) {
        self.proxy.http_cleanup().await;
    }
}
