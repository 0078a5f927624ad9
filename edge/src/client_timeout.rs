//! How long the edge waits on a client: every read of a request (head or body), every write of
//! a response, and the idle wait between requests on a kept-alive connection must make progress
//! within `edge.client_timeout`, or the connection is closed (a body that stalls is answered 408
//! first). Pingora's defaults are a minute for the head's reads and forever for bodies and
//! idle connections, which a flash crowd or a slow-client attack turns into exhausted sockets.
//! Pingora has no setting for the head's reads (they run under the connection's keep-alive
//! timeout), so the edge's HTTP app is this thin wrapper around the proxy that sets the session's
//! timeouts before the proxy reads each request, and otherwise delegates. The value comes from
//! the live config on every request, so a reload applies at once.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::protocols::http::ServerSession;
use pingora::protocols::http::v2::server::H2Options;
use pingora::server::ShutdownWatch;

use crate::live::Live;

/// The proxy `A`, with reads from clients bounded by the live config's `client_timeout`.
pub struct ClientTimeout<A> {
    /// The proxy that handles the request.
    pub proxy: Arc<A>,
    /// Where the timeout comes from.
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
        let timeout = self.live.snapshot().config.edge.client_timeout;
        // No keep-alive means the connection closes after this request (HTTP/1.0, or shutting
        // down); otherwise the head is read under the keep-alive timeout, in whole seconds.
        if session.get_keepalive().is_some() {
            session.set_keepalive(Some(timeout.as_secs_f64().ceil() as u64));
        }
        session.set_read_timeout(Some(timeout));
        session.set_write_timeout(Some(timeout));
        self.proxy.process_new_http(session, shutdown).await
    }

    fn h2_options(&self) -> Option<H2Options> {
        self.proxy.h2_options()
    }

    fn server_options(&self) -> Option<&HttpServerOptions> {
        self.proxy.server_options()
    }

    async fn http_cleanup(&self) {
        self.proxy.http_cleanup().await;
    }
}
