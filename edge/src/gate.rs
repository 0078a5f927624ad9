//! The decision for one request: answer it here, or forward it to an origin as a given
//! user. No I/O, time passed in, so every refusal path is a plain unit test; the Pingora phases
//! only carry out what this decides.
//!
//! Order of checks, cheapest and broadest first: request shape ([`request_shape`]), per-address
//! cap, event, sale window, staleness and sold out (public facts, so answering them before the
//! session costs no secrecy and saves the flood a MAC check each), session, per-user cap, token,
//! token reuse, and last the global origin rate, so only a buy that would otherwise be
//! forwarded spends origin capacity. A buy checks the window only after its token: a genuine
//! token may already have bought, and its retry must get that order back even once the event sold
//! out or ended, or the token expired (then it goes to an origin as a replay, which buys nothing).
//! What still needs Redis (the fleet's caps, a stored md5 token) is returned in the plan
//! ([`RedisChecks`]) for the proxy to carry out.
//!
//! Over 400 lines because the decision is one ordered list of checks per route, read top to
//! bottom; what each check means lives in the modules it calls.

use std::net::IpAddr;

use pingora::http::RequestHeader;
use sale::config::{Config, EventConfig, PaymentProvider, TokenScheme};
use sale::{EventId, OrderId, Refusal, UserId};

use crate::limits::Limited;
use crate::limits::code_guesses::CodeGuesses;
use crate::live_config::Snapshot;
use crate::queue::ticket::Ticket;
use crate::request_shape::{self, ShapeLimits};
use crate::respond::Answer;
use crate::routes::{QueueKind, Route};
use crate::tokens::used::UsedTokens;
use crate::view::EventView;
use crate::{identity, page, payments, tokens, window};

/// A request admitted to an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    /// The admitted user; none for a payment provider's confirmation.
    pub user: Option<UserId>,
    /// The origin path.
    pub path: String,
    /// On buys: the event, the token's nonce and expiry.
    pub purchase: Option<Purchase>,
    /// What it must still pass, in Redis, before it leaves.
    pub redis_checks: RedisChecks,
}

/// The steps a forwarded request still takes before it leaves for an origin: those that need
/// Redis, which the gate (no I/O) cannot take itself. The proxy carries them out in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedisChecks {
    /// Nothing more: order requests.
    None,
    /// The fleet's per-user cap only: replays of a link that bought or can no longer buy (they
    /// spend nothing of the origin rate, but each still costs an origin a script call).
    FleetUserCap,
    /// A buy: the fleet's per-user cap, then its origin rate.
    FleetCaps,
    /// A buy with a classic md5 token: the fleet's per-user cap, the token confirmed in Redis,
    /// then the origin rate. A link Redis no longer holds (expired, or replaced by a newer
    /// token) may still have bought: it is replayed instead, refused as Redis said if it did not.
    StoredTokenThenFleetCaps,
}

impl Forward {
    /// This buy as a replay of its link: an origin answers the order its nonce bought, as it
    /// stands now, and buys nothing; `otherwise` if it bought nothing.
    pub fn into_replay(self, otherwise: Refusal) -> Self {
        let path = match &self.purchase {
            Some(purchase) => sale::wire::replay_path(purchase.event.as_str(), otherwise),
            None => self.path,
        };
        Self {
            path,
            redis_checks: RedisChecks::FleetUserCap,
            ..self
        }
    }
}

/// What the edge remembers about an admitted buy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purchase {
    /// The event.
    pub event: EventId,
    /// The token's nonce.
    pub nonce: String,
    /// The token's expiry, Unix ms.
    pub expires_at: u64,
}

/// What to do with a request.
#[derive(Debug)]
pub enum Decision {
    /// Answer at the edge.
    Answer(Answer),
    /// Send to an origin.
    Forward(Forward),
    /// Issue a purchase token once the fleet-wide per-user cap agrees (signed, or under the
    /// classic md5 scheme minted and stored in Redis).
    IssueToken {
        /// The event.
        event: EventId,
        /// The buyer.
        user: UserId,
    },
    /// A waiting-room request, answered by [`crate::queue::serve`].
    Queue(QueueRequest),
    /// A payment provider's confirmation whose header could be genuine: sent to an origin once
    /// [`payments::check_confirmation`] finds its body signed.
    Confirmation(Forward),
}

/// Whether `config` serves `route` at all: the development routes and the provider's webhook
/// exist only in the configs that use them, so under any method they are 404, never 405.
fn served(config: &Config, route: &Route) -> bool {
    match route {
        Route::DevSession => config.edge.dev_sessions,
        Route::PaymentWebhook => matches!(config.payments, PaymentProvider::Webhook { .. }),
        Route::DevCheckout | Route::DevPaymentSign => payments::dev_provider(config),
        _ => true,
    }
}

/// A waiting-room request the gate let through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueRequest {
    /// The event (it has a waiting room).
    pub event: EventId,
    /// What is asked.
    pub kind: QueueKind,
    /// The signed-in user (required for the place, optional for a challenge).
    pub user: Option<UserId>,
}

/// Everything a decision may consult.
pub struct Inputs<'a> {
    /// The config, page and limiters in force.
    pub snapshot: &'a Snapshot,
    /// Seats and gates.
    pub view: &'a EventView,
    /// Tokens that already bought.
    pub used: &'a UsedTokens,
    /// The client's address (after trusted proxies).
    pub client: IpAddr,
    /// Now, Unix ms.
    pub now: u64,
    /// The request arrived with both length headers ([`sent_both_lengths`]).
    pub both_lengths: bool,
    /// Wrong access codes so far, and the monotonic now they are counted against.
    pub guesses: (&'a CodeGuesses, tokio::time::Instant),
}

/// Why a request was refused, before it becomes an answer.
enum Refused {
    Plain(Refusal),
    Limited(Limited),
    /// `not_started`, with when it starts so the page can count down.
    NotStarted(u64),
}

impl From<Refusal> for Refused {
    fn from(refusal: Refusal) -> Self {
        Self::Plain(refusal)
    }
}

impl From<Limited> for Refused {
    fn from(limited: Limited) -> Self {
        Self::Limited(limited)
    }
}

/// The sale window check, with the start time attached to `not_started`.
fn open_now(
    event: &EventConfig,
    view: &EventView,
    now: u64,
    grace: std::time::Duration,
) -> Result<(), Refused> {
    let id = event.id.as_str();
    window::check(event, view.gate(id), view.sold_out(id), now, grace).map_err(|refusal| {
        match refusal {
            Refusal::NotStarted => Refused::NotStarted(window::next_start(event, now)),
            other => Refused::Plain(other),
        }
    })
}

fn event<'a>(snapshot: &'a Snapshot, id: &str) -> Result<&'a EventConfig, Refusal> {
    snapshot.config.event(id).ok_or(Refusal::UnknownEvent)
}

/// The event document is the same for every buyer and changes at most once a second, so a CDN
/// may answer a refreshing crowd from one copy a second (the stock it shows is then up to a
/// second old, as the edge's own view may be); browsers keep it no longer either.
pub const EVENT_CACHE_CONTROL: &str = "public, max-age=1";

/// A seat map document, cacheable as `cache_control` says (nothing in it is personal).
fn seat_answer(body: bytes::Bytes, cache_control: &str) -> Decision {
    Decision::Answer(Answer::Raw {
        status: 200,
        content_type: "application/json",
        body,
        headers: vec![("cache-control", cache_control.to_owned())],
    })
}

/// The value of query parameter `name` in `req`, if present.
pub(crate) fn query_param<'a>(req: &'a RequestHeader, name: &str) -> Option<&'a str> {
    req.uri
        .query()?
        .split('&')
        .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Decides what happens to `req`, routed as `route`.
pub fn decide(inputs: &Inputs<'_>, route: &Route, req: &RequestHeader) -> Decision {
    match admit(inputs, route, req) {
        Ok(decision) => decision,
        Err(Refused::Plain(refusal)) => Decision::Answer(Answer::Refuse(refusal, Vec::new())),
        Err(Refused::NotStarted(starts_at)) => {
            let refusal = Refusal::NotStarted;
            let body = serde_json::json!({
                "code": refusal.code(),
                "message": refusal.message(),
                "starts_at": sale::time::rfc3339(starts_at),
            });
            Decision::Answer(Answer::json(refusal.status(), &body, Vec::new()))
        }
        Err(Refused::Limited(limited)) => Decision::Answer(limited.answer()),
    }
}

fn admit(inputs: &Inputs<'_>, route: &Route, req: &RequestHeader) -> Result<Decision, Refused> {
    let Inputs {
        snapshot,
        view,
        used,
        client,
        now,
        both_lengths,
        guesses,
    } = *inputs;
    let config = &snapshot.config;
    let limits = &snapshot.limits;
    request_shape::check(req, both_lengths, &ShapeLimits::of(&config.edge))?;
    let staleness = config.edge.view_staleness;
    // A view Redis has not refreshed for too long cannot decide who may buy.
    let fresh = || {
        if view.stale(now, staleness) {
            Err(Refusal::Unavailable)
        } else {
            Ok(())
        }
    };
    if route.is_api() {
        limits.check_ip(client)?;
    }
    let user = || identity::user(req, &config.secrets.session_keys, now);
    let grace = config.edge.clock_skew_grace;
    match route {
        Route::Page(name) => {
            let asset = snapshot.page.get(name).ok_or(Refusal::NotFound)?;
            Ok(Decision::Answer(page::answer(asset, req)))
        }
        Route::EventView(id) => {
            let document = view.document(event(snapshot, id)?, now, staleness);
            Ok(Decision::Answer(Answer::json(
                200,
                &document,
                vec![("cache-control", EVENT_CACHE_CONTROL.to_owned())],
            )))
        }
        Route::SeatMap(id) => {
            let event = event(snapshot, id)?;
            if event.venue.is_none() {
                return Err(Refusal::NotFound.into());
            }
            // Before its first read of Redis the edge cannot say what is taken; after that it
            // answers its last read, whose `as_of` says how old it is.
            let map = view.seat_map(event).ok_or(Refusal::Unavailable)?;
            Ok(seat_answer(map.body, crate::view::seat_maps::MAX_AGE))
        }
        Route::Venue(id) => {
            let map = config
                .events
                .iter()
                .filter_map(|e| e.venue.as_deref())
                .find(|m| m.venue.id == *id)
                .ok_or(Refusal::NotFound)?;
            Ok(seat_answer(map.document().clone(), "public, max-age=60"))
        }
        Route::Token(id) => {
            let event = event(snapshot, id)?;
            fresh()?;
            open_now(event, view, now, grace)?;
            let user = user()?;
            limits.check_user(user.as_str())?;
            if event.queue.is_some() {
                let ring = &config.secrets.token_keys;
                let ticket = Ticket::from_request(req, ring, &event.id, &user);
                if !ticket.is_some_and(|t| t.admitted_at(now)) {
                    return Err(Refusal::NotAdmitted.into());
                }
            }
            Ok(Decision::IssueToken {
                event: event.id.clone(),
                user,
            })
        }
        Route::Buy { event: id, token } => {
            let event = event(snapshot, id)?;
            let user = user()?;
            limits.check_user(user.as_str())?;
            if let Some(wait) = guesses.0.locked(&user, client, guesses.1) {
                return Ok(Decision::Answer(Answer::Refuse(
                    Refusal::RateLimited,
                    vec![("retry-after", wait.max(1).to_string())],
                )));
            }
            let (nonce, expires_at, expired) = match config.tokens.scheme {
                TokenScheme::HmacSha256 => {
                    let (claims, expired) = tokens::verify(config, event, &user, token, now)?;
                    (claims.nonce, claims.expires_at, expired)
                }
                TokenScheme::Md5 { .. } if tokens::stored::well_formed(token) => (
                    (*token).to_owned(),
                    sale::time::add(now, config.tokens.ttl),
                    false,
                ),
                TokenScheme::Md5 { .. } => return Err(Refusal::BadToken.into()),
            };
            let buyer = used.buyer(&nonce);
            let buy = Forward {
                user: Some(user),
                path: route.origin_path().ok_or(Refusal::NotFound)?,
                purchase: Some(Purchase {
                    event: event.id.clone(),
                    nonce,
                    expires_at,
                }),
                redis_checks: RedisChecks::FleetCaps,
            };
            // A genuine link that can no longer buy may have bought (its answer lost, or a 503
            // while replicas confirmed it): an origin answers that order, or `token_expired`.
            if expired {
                return Ok(Decision::Forward(buy.into_replay(Refusal::TokenExpired)));
            }
            match buyer {
                // It bought: the script replays its order as it stands now; no origin capacity
                // is spent and the window does not matter.
                Some(buyer) if buy.user.as_ref() == Some(&buyer) => {
                    return Ok(Decision::Forward(Forward {
                        redis_checks: RedisChecks::FleetUserCap,
                        ..buy
                    }));
                }
                Some(_) => return Err(Refusal::WrongUser.into()),
                None => {}
            }
            fresh()?;
            match open_now(event, view, now, grace) {
                // After the sell-out or the end only Redis knows whether this genuine token
                // already bought (its answer lost on the way): the script answers the same order
                // again, or the refusal.
                Ok(()) | Err(Refused::Plain(Refusal::SoldOut | Refusal::Ended)) => {}
                Err(refused) => return Err(refused),
            }
            match config.tokens.scheme {
                TokenScheme::HmacSha256 => {
                    limits.forward_buy()?;
                    Ok(Decision::Forward(buy))
                }
                // Admission is spent only once Redis has confirmed the token, so junk tokens
                // of the right shape cannot use up the origins' capacity.
                TokenScheme::Md5 { .. } => Ok(Decision::Forward(Forward {
                    redis_checks: RedisChecks::StoredTokenThenFleetCaps,
                    ..buy
                })),
            }
        }
        Route::Queue(id, kind) => {
            let event = event(snapshot, id)?;
            if event.queue.is_none() {
                let refusal = match kind {
                    QueueKind::Join => Refusal::QueueClosed,
                    _ => Refusal::NotFound,
                };
                return Err(refusal.into());
            }
            let user = match kind {
                QueueKind::Challenge => user().ok(),
                _ if kind.personal() => Some(user()?),
                _ => None,
            };
            if kind.personal() {
                fresh()?;
            }
            Ok(Decision::Queue(QueueRequest {
                event: event.id.clone(),
                kind: *kind,
                user,
            }))
        }
        Route::EventOrders(id) => {
            event(snapshot, id)?;
            Ok(Decision::Forward(Forward {
                user: Some(user()?),
                path: route.origin_path().ok_or(Refusal::NotFound)?,
                purchase: None,
                redis_checks: RedisChecks::None,
            }))
        }
        Route::Order { order, .. } => {
            let user = user()?;
            // A segment that is no order id (or not valid percent-encoding) is nobody's order:
            // refused here as the origin would, without spending one.
            OrderId::parse(order).map_err(|_| Refusal::NotFound)?;
            Ok(Decision::Forward(Forward {
                user: Some(user),
                path: route.origin_path().ok_or(Refusal::NotFound)?,
                purchase: None,
                redis_checks: RedisChecks::None,
            }))
        }
        Route::DevSession => {
            if !config.edge.dev_sessions {
                return Err(Refusal::NotFound.into());
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
            Ok(Decision::Answer(Answer::json(
                200,
                &body,
                vec![("set-cookie", cookie)],
            )))
        }
        Route::PaymentWebhook => Ok(Decision::Confirmation(payments::admit_webhook(
            config, req, now,
        )?)),
        Route::DevCheckout => {
            let name = payments::checkout_page(config)?;
            let asset = snapshot.page.get(name).ok_or(Refusal::NotFound)?;
            Ok(Decision::Answer(page::answer(asset, req)))
        }
        Route::DevPaymentSign => Ok(Decision::Answer(payments::sign(config, req, now)?)),
        Route::OpenApi => Ok(Decision::Answer(crate::openapi::answer(req))),
        Route::MethodNotAllowed => {
            let allowed = Route::allowed_methods(req.uri.path(), |route| served(config, route));
            if allowed.is_empty() {
                return Err(Refusal::NotFound.into());
            }
            Ok(Decision::Answer(Answer::Refuse(
                Refusal::MethodNotAllowed,
                vec![("allow", allowed.to_owned())],
            )))
        }
        Route::NotFound => Err(Refusal::NotFound.into()),
    }
}
