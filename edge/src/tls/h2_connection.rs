//! One HTTP/2 connection's life at the edge. Pingora's own loop accepts streams for as long as a
//! client opens them, and it takes each at once, so h2's guard against rapid reset (streams reset
//! before the server took them) fires only on a burst that arrives faster than the loop runs: a
//! client that opens and resets streams at its own pace costs the edge a task per stream, for
//! ever. Like nginx (`keepalive_requests`, which covers h2 streams), the edge gives each
//! connection a budget of streams, the same as an HTTP/1.1 connection's requests (1,000), which
//! also bounds the malformed streams Pingora's own loop counts; when it is spent the connection
//! is closed gracefully (GOAWAY: streams in flight finish, new ones are refused), so an honest
//! client simply reconnects and an attacker pays a new TLS handshake, and the per-address cap,
//! every thousand streams. A graceful close gets `edge.client_timeout` to finish before the
//! connection is dropped; a connection with nothing in flight for `edge.idle_timeout` is
//! dropped, as an idle HTTP/1.1 one is. Everything not negotiated as h2 goes to the wrapped app
//! unchanged.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use pingora::apps::{HttpServerApp, ServerApp};
use pingora::protocols::http::ServerSession;
use pingora::protocols::http::v2::server::{H2Accept, HttpSession, handshake};
use pingora::protocols::{ALPN, Digest, Stream};
use pingora::server::ShutdownWatch;
use tokio::time::Instant;

use crate::live_config::Live;

/// The app `A` with h2 connections run by the edge's own accept loop.
pub struct H2Connections<A> {
    /// The HTTP app every stream goes to.
    pub app: Arc<A>,
    /// Where the idle timeout comes from.
    pub live: Arc<Live>,
    /// Streams one connection may open before it is closed gracefully.
    pub streams_per_connection: usize,
}

/// Counts a connection's streams in flight; dropped with the stream's task.
struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    fn start(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[async_trait]
impl<A> ServerApp for H2Connections<A>
where
    A: HttpServerApp + Send + Sync + 'static,
{
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        if !matches!(stream.selected_alpn_proto(), Some(ALPN::H2)) {
            return self.app.process_new(stream, shutdown).await;
        }
        let digest = Arc::new(Digest {
            ssl_digest: stream.get_ssl_digest(),
            timing_digest: stream.get_timing_digest(),
            proxy_digest: stream.get_proxy_digest(),
            socket_digest: stream.get_socket_digest(),
        });
        let mut conn = match handshake(stream, self.app.h2_options()).await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::debug!(error = %e, "h2 handshake failed");
                return None;
            }
        };
        let (idle_timeout, client_timeout) = {
            let snapshot = self.live.snapshot();
            (
                snapshot.config.edge.idle_timeout,
                snapshot.config.edge.client_timeout,
            )
        };
        let in_flight = Arc::new(AtomicUsize::new(0));
        let mut shutdown = shutdown.clone();
        let mut opened = 0usize;
        // Once GOAWAY is sent, streams in flight get this long to finish: a graceful close
        // waits for the client's answer to a PING, which a dead or hostile client never sends.
        let mut closing_until: Option<Instant> = None;
        loop {
            let next = if let Some(deadline) = closing_until {
                match tokio::time::timeout_at(
                    deadline,
                    HttpSession::from_h2_conn(&mut conn, digest.clone()),
                )
                .await
                {
                    Ok(next) => next,
                    Err(_) => return None,
                }
            } else {
                tokio::select! {
                    biased;
                    _ = shutdown.changed() => {
                        conn.graceful_shutdown();
                        closing_until = Some(Instant::now() + client_timeout);
                        continue;
                    }
                    next = HttpSession::from_h2_conn(&mut conn, digest.clone()) => next,
                    () = tokio::time::sleep(idle_timeout) => {
                        // Idle with nothing in flight: drop the connection now, as an idle
                        // HTTP/1.1 one is (no graceful wait on a peer that may be gone).
                        if in_flight.load(Ordering::Relaxed) == 0 {
                            return None;
                        }
                        continue;
                    }
                }
            };
            match next {
                // A client that drops the TCP connection without a GOAWAY is common; nothing to log.
                Err(_) | Ok(None) => return None,
                Ok(Some(H2Accept::Rejected)) => opened += 1,
                Ok(Some(H2Accept::Session(session))) => {
                    opened += 1;
                    let app = self.app.clone();
                    let shutdown = shutdown.clone();
                    let counted = InFlight::start(&in_flight);
                    tokio::spawn(async move {
                        let _counted = counted;
                        app.process_new_http(ServerSession::new_http2(session), &shutdown)
                            .await;
                    });
                }
            }
            if closing_until.is_none() && opened >= self.streams_per_connection {
                conn.graceful_shutdown();
                closing_until = Some(Instant::now() + client_timeout);
            }
        }
    }

    async fn cleanup(&self) {
        self.app.http_cleanup().await;
    }
}
