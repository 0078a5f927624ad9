//! The Pingora `ProxyHttp` implementation: a table of phases, each delegating to a domain module.
//! `early_request_filter` applies the connection limits; `request_filter` asks the [`gate`](crate::gate) and either answers or admits;
//! `upstream_peer` picks an origin; `upstream_request_filter` rewrites and signs; the error
//! phases decide retries (only before anything was sent) and answer `no_origin`.

use std::net::SocketAddr;
use std::sync::Arc;

use async_trait::async_trait;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};
use sale::Refusal;
use sale::internal::{self, Claims, SIGNED_HEADERS};

use crate::event_view::EventView;
use crate::gate::{self, Answer, Decision, Forward};
use crate::live::{Live, Snapshot};
use crate::routes::Route;
use crate::upstreams::{self, Origins};
use crate::{connection, respond};

/// The gatekeeper.
pub struct Gatekeeper {
    /// Config in force.
    pub live: Arc<Live>,
    /// The origins.
    pub origins: Arc<Origins>,
    /// Seat counters.
    pub view: Arc<EventView>,
}

/// Per-request state.
#[derive(Debug, Default)]
pub struct RequestCtx {
    snapshot: Option<Arc<Snapshot>>,
    forward: Option<Forward>,
    /// Origins this request could not connect to; a retry avoids them.
    unreachable: Vec<SocketAddr>,
    current: Option<SocketAddr>,
    no_origin: bool,
}

async fn write(session: &mut Session, answer: Answer) -> Result<()> {
    match answer {
        Answer::Refuse(refusal) => respond::refuse(session, refusal, &[]).await,
        Answer::Json(status, value, headers) => {
            respond::json(session, status, &value, &headers).await
        }
        Answer::Raw {
            status,
            content_type,
            body,
            headers,
        } => respond::send(session, status, content_type, body, &headers).await,
    }
}

#[async_trait]
impl ProxyHttp for Gatekeeper {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::default()
    }

    async fn early_request_filter(
        &self,
        session: &mut Session,
        _ctx: &mut RequestCtx,
    ) -> Result<()> {
        connection::limit(session);
        Ok(())
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        let snapshot = self.live.snapshot();
        let req = session.req_header();
        let route = Route::parse(&req.method, req.uri.path());
        let decision = gate::decide(&snapshot, &self.view, &route, req, sale::time::now_millis());
        ctx.snapshot = Some(snapshot);
        match decision {
            Decision::Answer(answer) => {
                write(session, answer).await?;
                Ok(true)
            }
            Decision::Forward(forward) => {
                ctx.forward = Some(forward);
                Ok(false)
            }
        }
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        let snapshot = ctx
            .snapshot
            .clone()
            .ok_or_else(|| Error::new(ErrorType::InternalError))?;
        let Some(addr) = upstreams::select(&self.origins, &ctx.unreachable) else {
            ctx.no_origin = true;
            return Err(Error::explain(
                ErrorType::HTTPStatus(503),
                "no healthy origin",
            ));
        };
        ctx.current = Some(addr);
        Ok(Box::new(upstreams::peer(addr, &snapshot.config.edge)))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let (Some(snapshot), Some(forward)) = (&ctx.snapshot, &ctx.forward) else {
            return Err(Error::new(ErrorType::InternalError));
        };
        // Nothing the client sent may pose as the edge's word, and the session stays here.
        for name in SIGNED_HEADERS {
            upstream.remove_header(name);
        }
        upstream.remove_header(&http::header::COOKIE);
        upstream.remove_header(&http::header::AUTHORIZATION);
        let uri: http::Uri = forward
            .path
            .parse()
            .map_err(|_| Error::new(ErrorType::InternalError))?;
        upstream.set_uri(uri);
        let claims = Claims {
            user: Some(forward.user.clone()),
            nonce: forward.nonce.clone(),
            signed_at: sale::time::now_millis(),
        };
        let method = upstream.method.as_str().to_owned();
        for (name, value) in internal::sign(
            &snapshot.config.secrets.internal_keys,
            &method,
            &forward.path,
            &claims,
        ) {
            upstream.insert_header(name, value)?;
        }
        Ok(())
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        upstream: &mut ResponseHeader,
        _ctx: &mut RequestCtx,
    ) -> Result<()> {
        upstream.remove_header(internal::HEADER_SOLD_OUT);
        Ok(())
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut RequestCtx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        // Nothing reached the origin, so even a buy can safely go to another one.
        if let Some(addr) = ctx.current.take() {
            ctx.unreachable.push(addr);
        }
        e.set_retry(true);
        e
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let refusal = if ctx.no_origin
            || matches!(
                e.etype(),
                ErrorType::ConnectRefused | ErrorType::ConnectTimedout | ErrorType::ConnectError
            ) {
            Refusal::NoOrigin
        } else {
            tracing::warn!(error = %e, "origin failed after the request was sent");
            Refusal::OriginFailed
        };
        let written = respond::refuse(session, refusal, &[("retry-after", "1".to_owned())]).await;
        FailToProxy {
            error_code: if written.is_ok() { refusal.status() } else { 0 },
            can_reuse_downstream: false,
        }
    }
}
