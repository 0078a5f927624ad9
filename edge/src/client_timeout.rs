//! How long the edge waits on a client. A new connection must deliver its first request head
//! within `edge.client_timeout`, and every read of a request body and every write of a response
//! must make progress within it, or the connection is closed (a body that stalls is answered 408
//! first). Between requests a kept-alive connection may idle for [`KEEPALIVE_IDLE_SECS`]. Pingora
//! gives a head's reads a minute each and bodies and idle connections forever, which a flash
//! crowd or a slow-client attack turns into exhausted sockets. Pingora reads a head under the
//! connection's keep-alive timeout and has no setting of its own for it, so the edge's HTTP app is
//! this thin wrapper around the proxy that sets the session's timeouts before the proxy reads
//! each request, and otherwise delegates. The value comes from the live config on every request,
//! so a reload applies at once.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, HttpServerOptions, ReusedHttpStream};
use pingora::protocols::http::ServerSession;
use pingora::protocols::http::v2::server::H2Options;
use pingora::server::ShutdownWatch;

use crate::live::Live;

/// How long a kept-alive connection may wait for its next request (and read that request's
/// head): longer than the product page's slowest poll (12 s), so a page's next request, its
/// purchase above all, finds its connection open instead of racing the edge's close, and a
/// crowd of open pages does not reconnect at every poll.
pub const KEEPALIVE_IDLE_SECS: u64 = 60;

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
        // A connection's first request still has every reuse the server options allow.
        let limit = self
            .proxy
            .server_options()
            .and_then(|o| o.keepalive_request_limit);
        let first_request = session.get_keepalive_reuses_remaining() == limit;
        // No keep-alive means the connection closes after this request (HTTP/1.0, or shutting
        // down); otherwise the head is read under the keep-alive timeout, in whole seconds.
        if session.get_keepalive().is_some() {
            let wait = if first_request {
                timeout.as_secs_f64().ceil() as u64
            } else {
                KEEPALIVE_IDLE_SECS
            };
            session.set_keepalive(Some(wait));
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
