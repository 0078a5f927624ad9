//! The Pingora `ProxyHttp` implementation: a table of phases, each delegating to a domain module.
//! `request_filter` asks the [`gate`](crate::gate) and either answers or admits (the fleet-wide
//! caps and the md5 scheme's Redis steps in [`redis_checks`], the waiting room in
//! [`crate::queue`]); `request_body_filter` enforces the body limit on bodies without a length; `upstream_peer` picks an origin
//! ([`upstreams`](crate::upstreams)); `upstream_request_filter` and `response_filter` are the
//! [`exchange`](crate::upstreams::exchange) with it (rewrite and sign; learn sold out and the
//! order bought); the error phases retry only what never reached an origin; `logging` records
//! metrics.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use tokio::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::prelude::*;
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};
use sale::request_id::{self, RequestId};

use crate::gate::{self, Decision, Forward, Inputs};
use crate::limits::code_guesses::CodeGuesses;
use crate::limits::fleet::FleetCaps;
use crate::live_config::{Live, Snapshot};
use crate::metrics::EdgeMetrics;
use crate::payments;
use crate::queue::QueueView;
use crate::respond::{Answer, write};
use crate::routes::Route;
use crate::tls::scheme;
use crate::tokens::stored::StoredTokens;
use crate::tokens::used::UsedTokens;
use crate::upstreams::{self, Origins, exchange};
use crate::view::EventView;
use crate::{client_ip, discard, request_shape, respond};

mod access_log;
mod redis_checks;

/// The gatekeeper.
#[derive(Clone)]
pub struct Gatekeeper {
    /// Config in force.
    pub live: Arc<Live>,
    /// The origins.
    pub origins: Arc<Origins>,
    /// Seat counters.
    pub view: Arc<EventView>,
    /// Tokens that bought.
    pub used: Arc<UsedTokens>,
    /// Metrics.
    pub metrics: Arc<EdgeMetrics>,
    /// Classic md5 tokens in Redis.
    pub stored: StoredTokens,
    /// The per-user cap and origin rate for the whole fleet.
    pub fleet: FleetCaps,
    /// The waiting rooms as last read.
    pub queue: Arc<QueueView>,
    /// Wrong access codes, by user and address.
    pub guesses: Arc<CodeGuesses>,
}

/// Per-request state.
pub struct RequestCtx {
    started: Instant,
    /// The request's id, in its log lines, refusal bodies and the request to an origin.
    pub(crate) request_id: RequestId,
    route: &'static str,
    /// What the edge answered itself, for metrics.
    code: Option<&'static str>,
    /// The config in force when the request arrived; the whole request runs on it.
    pub(crate) snapshot: Arc<Snapshot>,
    /// What the request was admitted to an origin as, if it was.
    pub(crate) forward: Option<Forward>,
    body_bytes: u64,
    /// Origins this request could not connect to; a retry avoids them.
    unreachable: Vec<SocketAddr>,
    current: Option<SocketAddr>,
    no_origin: bool,
    /// Whether the client reached the edge over https (here, or through a trusted proxy).
    secure: bool,
    /// The client's address (after trusted proxies).
    client: IpAddr,
}

impl RequestCtx {
    /// The `Strict-Transport-Security` value the config in force sends, if any.
    fn hsts(&self) -> Option<&str> {
        let tls = self.snapshot.config.edge.tls.as_ref()?;
        tls.hsts.as_deref()
    }

    /// Adds what an answer to a secure request carries (HSTS, `Secure` cookies) to `headers`.
    fn secure_headers(&self, headers: &mut respond::Headers) {
        if self.secure {
            scheme::secure_headers(headers, self.hsts());
        }
    }
}

impl Gatekeeper {
    /// Writes an answer of the edge's own; the request goes no further. A small body it did not
    /// need is read and dropped first, so the connection carries the client's next request.
    async fn answer(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        mut answer: Answer,
    ) -> Result<bool> {
        ctx.secure_headers(answer.headers_mut());
        if !answer.closes_connection() {
            discard::discard_body(session, ctx.snapshot.config.edge.max_body_bytes).await;
        }
        ctx.code = Some(write(session, answer, &ctx.request_id).await?);
        Ok(true)
    }

    /// Lets the request on to an origin, counting it if it spent origin capacity.
    fn forward(&self, ctx: &mut RequestCtx, forward: Forward, counted: bool) -> bool {
        if counted {
            self.metrics.forwarded_buys.inc();
        }
        ctx.forward = Some(forward);
        false
    }
}

#[async_trait]
impl ProxyHttp for Gatekeeper {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            started: Instant::now(),
            request_id: RequestId::generate(),
            route: "other",
            code: None,
            snapshot: self.live.snapshot(),
            forward: None,
            body_bytes: 0,
            unreachable: Vec::new(),
            current: None,
            no_origin: false,
            secure: false,
            client: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        }
    }

    async fn request_filter(&self, session: &mut Session, ctx: &mut RequestCtx) -> Result<bool> {
        let snapshot = &ctx.snapshot;
        let peer = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        let req = session.req_header();
        let route = Route::parse(&req.method, req.uri.path());
        ctx.route = route.label();
        let trusted = &snapshot.config.edge.trusted_proxies;
        if let Some(given) = req.headers.get(request_id::HEADER)
            && client_ip::is_trusted(peer, trusted)
            && let Some(id) = RequestId::given(given.as_bytes())
        {
            ctx.request_id = id;
        }
        let over_tls = session.digest().is_some_and(|d| d.ssl_digest.is_some());
        ctx.secure = scheme::is_secure(over_tls, peer, &req.headers, trusted);
        if let Some(tls) = &snapshot.config.edge.tls
            && !ctx.secure
            && let Some(answer) = scheme::plain_answer(tls, &route, req)
        {
            return self.answer(session, ctx, answer).await;
        }
        let snapshot = &ctx.snapshot;
        let req = session.req_header();
        let client = client_ip::resolve(peer, &req.headers, trusted);
        let now = sale::time::now_millis();
        let inputs = Inputs {
            snapshot,
            view: &self.view,
            used: &self.used,
            client,
            now,
            // The moment the request arrived is close enough for a lockout counted in seconds,
            // and saves a clock read on every request.
            guesses: (&self.guesses, ctx.started),
            // The raw header is copied out only for chunked requests, the rare case.
            both_lengths: req.headers.contains_key(http::header::TRANSFER_ENCODING)
                && request_shape::sent_both_lengths(req, &session.to_h1_raw()),
        };
        let decision = gate::decide(&inputs, &route, req);
        ctx.client = client;
        match decision {
            Decision::Answer(answer) => self.answer(session, ctx, answer).await,
            Decision::Forward(forward) => match self.run_redis_checks(ctx, forward).await {
                Ok((forward, counted)) => Ok(self.forward(ctx, forward, counted)),
                Err(answer) => self.answer(session, ctx, answer).await,
            },
            Decision::IssueToken { event, user } => {
                let answer = self.issue_token(ctx, &event, &user).await;
                self.answer(session, ctx, answer).await
            }
            Decision::Queue(request) => {
                let answer = self.queue(session, ctx, request).await;
                self.answer(session, ctx, answer).await
            }
            Decision::Confirmation(forward) => {
                match payments::check_confirmation(session, &ctx.snapshot.config, now).await {
                    Ok(()) => Ok(self.forward(ctx, forward, false)),
                    Err(refusal) => {
                        let answer = Answer::Refuse(refusal, Vec::new());
                        self.answer(session, ctx, answer).await
                    }
                }
            }
        }
    }

    async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        _end: bool,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        ctx.body_bytes += body.as_ref().map_or(0, |b| b.len() as u64);
        let limit = ctx.snapshot.config.edge.max_body_bytes;
        if ctx.body_bytes > limit {
            return Err(Error::explain(
                ErrorType::HTTPStatus(413),
                "request body over the limit",
            ));
        }
        Ok(())
    }

    async fn upstream_peer(
        &self,
        _session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> Result<Box<HttpPeer>> {
        let snapshot = &ctx.snapshot;
        let Some(addr) = upstreams::select(&self.origins, &ctx.unreachable) else {
            ctx.no_origin = true;
            return Err(Error::explain(
                ErrorType::HTTPStatus(503),
                "no healthy origin",
            ));
        };
        ctx.current = Some(addr);
        Ok(Box::new(upstreams::peer(addr, snapshot)))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        let forward = ctx
            .forward
            .as_ref()
            .ok_or_else(|| Error::new(ErrorType::InternalError))?;
        exchange::prepare(
            upstream,
            &ctx.snapshot.config.secrets.internal_keys,
            forward,
            &ctx.request_id,
        )
    }

    async fn response_filter(
        &self,
        _session: &mut Session,
        response: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> Result<()> {
        if ctx.secure
            && let Some(hsts) = ctx.hsts()
        {
            response.insert_header("strict-transport-security", hsts)?;
        }
        let refused = exchange::learn(response, ctx.forward.as_ref(), &self.view, &self.used);
        if refused.is_some() {
            ctx.code = refused;
        }
        if refused == Some(sale::Refusal::BadCode.code())
            && let Some(user) = ctx.forward.as_ref().and_then(|f| f.user.as_ref())
        {
            self.guesses.failed(user, ctx.client, Instant::now());
        }
        if response.status.as_u16() == 201 {
            self.free_admission(ctx);
        }
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
        let refusal = exchange::failure_refusal(e, ctx.no_origin, &ctx.request_id);
        ctx.code = Some(refusal.code());
        // The connection is not reused after this answer, so the answer says so: a client that
        // sent its next request on it would otherwise meet a reset.
        session.set_keepalive(None);
        let mut headers = Vec::new();
        ctx.secure_headers(&mut headers);
        let written = respond::refuse(session, refusal, &headers, &ctx.request_id).await;
        FailToProxy {
            error_code: if written.is_ok() { refusal.status() } else { 0 },
            can_reuse_downstream: false,
        }
    }

    async fn logging(
        &self,
        session: &mut Session,
        _e: Option<&pingora::Error>,
        ctx: &mut RequestCtx,
    ) {
        let code = ctx.code.unwrap_or_else(|| {
            session
                .response_written()
                .map_or("none", |r| crate::metrics::origin_code(r.status.as_u16()))
        });
        let seconds = ctx.started.elapsed().as_secs_f64();
        self.metrics.record(ctx.route, code, seconds);
        access_log::record(ctx, code, seconds);
    }
}
