//! The admission decision for one request: answer it here, or forward it to an origin as a given
//! user. Pure (no I/O, time passed in), so every refusal path is a plain unit test; the Pingora
//! phases only carry out what this decides.

use bytes::Bytes;
use pingora::http::RequestHeader;
use sale::config::EventConfig;
use sale::{Refusal, UserId};

use crate::event_view::EventView;
use crate::live::Snapshot;
use crate::routes::Route;
use crate::{identity, page, tokens, window};

/// Extra response headers.
pub type Headers = Vec<(&'static str, String)>;

/// A response the edge writes itself.
#[derive(Debug)]
pub enum Answer {
    /// A contract refusal.
    Refuse(Refusal),
    /// A JSON document.
    Json(u16, serde_json::Value, Headers),
    /// Bytes with their content type (pages, 304s).
    Raw {
        /// Status.
        status: u16,
        /// `Content-Type`.
        content_type: &'static str,
        /// The body.
        body: Bytes,
        /// Extra headers.
        headers: Headers,
    },
}

/// A request admitted to an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The admitted user.
    pub user: UserId,
    /// The purchase token nonce, on buys.
    pub nonce: Option<String>,
    /// The origin path.
    pub path: String,
}

/// What to do with a request.
#[derive(Debug)]
pub enum Decision {
    /// Answer at the edge.
    Answer(Answer),
    /// Send to an origin.
    Forward(Forward),
}

impl From<Refusal> for Decision {
    fn from(refusal: Refusal) -> Self {
        Self::Answer(Answer::Refuse(refusal))
    }
}

fn event<'a>(snapshot: &'a Snapshot, id: &str) -> Result<&'a EventConfig, Refusal> {
    snapshot.config.event(id).ok_or(Refusal::UnknownEvent)
}

fn json(value: impl serde::Serialize) -> Decision {
    Decision::Answer(Answer::Json(
        200,
        serde_json::to_value(value).unwrap_or_default(),
        Vec::new(),
    ))
}

fn query_param<'a>(req: &'a RequestHeader, name: &str) -> Option<&'a str> {
    req.uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Decides what happens to `req`, routed as `route`, at `now`.
pub fn decide(
    snapshot: &Snapshot,
    view: &EventView,
    route: &Route,
    req: &RequestHeader,
    now: u64,
) -> Decision {
    match admit(snapshot, view, route, req, now) {
        Ok(decision) => decision,
        Err(refusal) => refusal.into(),
    }
}

fn admit(
    snapshot: &Snapshot,
    view: &EventView,
    route: &Route,
    req: &RequestHeader,
    now: u64,
) -> Result<Decision, Refusal> {
    let config = &snapshot.config;
    let user = || identity::user(req, &config.secrets.session_keys, now);
    match route {
        Route::Page(name) => {
            let asset = snapshot.page.get(name).ok_or(Refusal::NotFound)?;
            Ok(Decision::Answer(page::answer(asset, req)))
        }
        Route::EventView(id) => Ok(json(view.document(event(snapshot, id)?, now))),
        Route::Token(id) => {
            let event = event(snapshot, id)?;
            let user = user()?;
            window::check(event, view, now)?;
            Ok(json(tokens::issue(config, event, &user, now)))
        }
        Route::Buy { event: id, token } => {
            let event = event(snapshot, id)?;
            let user = user()?;
            window::check(event, view, now)?;
            let claims = tokens::verify(config, event, &user, token, now)?;
            let path = route.origin_path().ok_or(Refusal::NotFound)?;
            Ok(Decision::Forward(Forward {
                user,
                nonce: Some(claims.nonce),
                path,
            }))
        }
        Route::Order { .. } => {
            let user = user()?;
            let path = route.origin_path().ok_or(Refusal::NotFound)?;
            Ok(Decision::Forward(Forward {
                user,
                nonce: None,
                path,
            }))
        }
        Route::DevSession => {
            if !config.edge.dev_sessions {
                return Err(Refusal::NotFound);
            }
            let user = query_param(req, "user")
                .and_then(|u| UserId::parse(u).ok())
                .ok_or(Refusal::BadRequest)?;
            let expires_at = sale::time::add(now, config.tokens.session_ttl);
            let session = sale::session::mint(&config.secrets.session_keys, &user, expires_at);
            let cookie = format!(
                "{}={session}; Path=/; HttpOnly; SameSite=Strict",
                identity::COOKIE
            );
            let body = serde_json::json!({
                "user": user.as_str(),
                "session": session,
                "expires_at": sale::time::rfc3339(expires_at),
            });
            Ok(Decision::Answer(Answer::Json(
                200,
                body,
                vec![("set-cookie", cookie)],
            )))
        }
        Route::MethodNotAllowed => Err(Refusal::MethodNotAllowed),
        Route::NotFound => Err(Refusal::NotFound),
    }
}
