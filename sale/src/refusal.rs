//! Every refusal code of the public contract and the HTTP status it maps to: the one place where
//! codes meet statuses, used by the edge and the origin alike so both answer identically.

use serde::Serialize;

/// A refusal the public API may answer with. Each variant's doc names its status and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// 400 `bad_request`: malformed request (body, quantity, path).
    BadRequest,
    /// 400 `unknown_ticket_type`: a buy names a ticket type the event does not sell.
    UnknownTicketType,
    /// 400 `unknown_seat`: a buy names a seat the event's venue does not have.
    UnknownSeat,
    /// 400 `ambiguous_length`: both Content-Length and Transfer-Encoding (request smuggling).
    AmbiguousLength,
    /// 401 `no_session`: no session cookie or bearer token.
    NoSession,
    /// 401 `bad_session`: a session that is forged, malformed or expired.
    BadSession,
    /// 401 `unsigned`: an origin request without a valid edge signature.
    Unsigned,
    /// 401 `bad_admin_token`: the admin listener without the right bearer token.
    BadAdminToken,
    /// 401 `bad_signature`: a payment confirmation whose signature is missing, malformed, does
    /// not match any payment secret, or was made outside the tolerance (a replay).
    BadSignature,
    /// 403 `not_started`: the sale has not opened yet.
    NotStarted,
    /// 403 `bad_token`: a purchase token that is malformed, forged or for another event.
    BadToken,
    /// 403 `token_expired`: a genuine purchase token past its expiry.
    TokenExpired,
    /// 403 `wrong_user`: a genuine purchase token issued to another user.
    WrongUser,
    /// 403 `not_admitted`: a purchase token asked for without a live admission from the event's
    /// waiting room (never admitted, or the admission expired).
    NotAdmitted,
    /// 403 `pow_required`: joining this waiting room needs a proof of work.
    PowRequired,
    /// 403 `code_required`: the phase on sale now is for holders of an access code.
    CodeRequired,
    /// 403 `bad_code`: the access code is not one of this phase's (or is bound to another user).
    BadCode,
    /// 400 `bad_pow`: the proof of work is wrong, expired or for another event or user.
    BadPow,
    /// 409 `queue_closed`: the event has no waiting room, or its pre-queue is not open yet.
    QueueClosed,
    /// 403 `cross_site`: a dashboard request that would change something, signed in by cookie
    /// but without the dashboard's own header, as a forged cross-site request would be.
    CrossSite,
    /// 403 `https_required`: an API request on the plain listener where `[edge.tls] plain =
    /// "redirect"` (pages are redirected instead; an API call must not silently change scheme).
    HttpsRequired,
    /// 404 `not_found`: no such page, route or order (also another user's order).
    NotFound,
    /// 404 `unknown_event`: no such event.
    UnknownEvent,
    /// 405 `method_not_allowed`: the route exists for another method.
    MethodNotAllowed,
    /// 409 `already_bought`: the user already holds their limit for this event.
    AlreadyBought,
    /// 409 `token_used`: this purchase token already bought an order.
    TokenUsed,
    /// 409 `limit_reached`: the buy would put the user over a ticket type's per-user limit.
    LimitReached,
    /// 409 `seat_taken`: a seat the buyer picked is held or sold (the body names the seats gone).
    SeatTaken,
    /// 409 `not_together`: no row has that many free seats of the category side by side (and
    /// the buyer did not allow split seats).
    NotTogether,
    /// 409 `illegal_transition`: the order's state does not allow this action.
    IllegalTransition,
    /// 409 `amount_mismatch`: a payment confirmation whose amount or currency is not the
    /// order's total; nothing changes and the confirmation is counted for the operator.
    AmountMismatch,
    /// 410 `ended`: the sale is over.
    Ended,
    /// 410 `sold_out`: no seats left.
    SoldOut,
    /// 410 `code_used_up`: the shared access code has no uses left.
    CodeUsedUp,
    /// 410 `expired`: the reservation passed its payment deadline.
    Expired,
    /// 408 `request_timeout`: the client stopped sending its request for longer than the edge
    /// waits (`edge.client_timeout`).
    RequestTimeout,
    /// 413 `too_large`: the request body exceeds the limit.
    TooLarge,
    /// 431 `header_too_large`: the request head, or one of its lines, exceeds the edge's bound.
    HeaderTooLarge,
    /// 429 `rate_limited`: over a frequency cap; sent with Retry-After.
    RateLimited,
    /// 503 `no_origin`: no healthy origin to serve the request.
    NoOrigin,
    /// 503 `unavailable`: Redis or the order database is unreachable, or a change was not
    /// confirmed by enough replicas in time; retrying the same link returns the order if one was
    /// made.
    Unavailable,
    /// 502 `origin_failed`: an origin accepted the request but did not answer; a buy may or may
    /// not have reserved, and retrying with the same link finds the order if it did.
    OriginFailed,
    /// 500 `internal`: a bug; details are in the server log, never in the response.
    Internal,
}

impl Refusal {
    /// Every refusal, for building per-refusal tables once.
    pub const ALL: [Refusal; 43] = [
        Self::NotAdmitted,
        Self::PowRequired,
        Self::CodeRequired,
        Self::BadCode,
        Self::CodeUsedUp,
        Self::BadPow,
        Self::QueueClosed,
        Self::BadRequest,
        Self::UnknownTicketType,
        Self::UnknownSeat,
        Self::AmbiguousLength,
        Self::NoSession,
        Self::BadSession,
        Self::Unsigned,
        Self::BadAdminToken,
        Self::BadSignature,
        Self::NotStarted,
        Self::BadToken,
        Self::TokenExpired,
        Self::WrongUser,
        Self::CrossSite,
        Self::HttpsRequired,
        Self::NotFound,
        Self::UnknownEvent,
        Self::MethodNotAllowed,
        Self::AlreadyBought,
        Self::TokenUsed,
        Self::LimitReached,
        Self::SeatTaken,
        Self::NotTogether,
        Self::IllegalTransition,
        Self::AmountMismatch,
        Self::Ended,
        Self::SoldOut,
        Self::Expired,
        Self::RequestTimeout,
        Self::TooLarge,
        Self::HeaderTooLarge,
        Self::RateLimited,
        Self::NoOrigin,
        Self::Unavailable,
        Self::OriginFailed,
        Self::Internal,
    ];

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::BadRequest
            | Self::UnknownTicketType
            | Self::UnknownSeat
            | Self::AmbiguousLength
            | Self::BadPow => 400,
            Self::NoSession
            | Self::BadSession
            | Self::Unsigned
            | Self::BadAdminToken
            | Self::BadSignature => 401,
            Self::NotStarted
            | Self::BadToken
            | Self::TokenExpired
            | Self::WrongUser
            | Self::NotAdmitted
            | Self::PowRequired
            | Self::CodeRequired
            | Self::BadCode
            | Self::CrossSite
            | Self::HttpsRequired => 403,
            Self::NotFound | Self::UnknownEvent => 404,
            Self::MethodNotAllowed => 405,
            Self::AlreadyBought
            | Self::TokenUsed
            | Self::LimitReached
            | Self::SeatTaken
            | Self::NotTogether
            | Self::IllegalTransition
            | Self::AmountMismatch
            | Self::QueueClosed => 409,
            Self::Ended | Self::SoldOut | Self::Expired | Self::CodeUsedUp => 410,
            Self::RequestTimeout => 408,
            Self::TooLarge => 413,
            Self::HeaderTooLarge => 431,
            Self::RateLimited => 429,
            Self::NoOrigin | Self::Unavailable => 503,
            Self::Internal => 500,
            Self::OriginFailed => 502,
        }
    }

    /// The stable machine-readable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadRequest => "bad_request",
            Self::UnknownTicketType => "unknown_ticket_type",
            Self::UnknownSeat => "unknown_seat",
            Self::AmbiguousLength => "ambiguous_length",
            Self::NoSession => "no_session",
            Self::BadSession => "bad_session",
            Self::Unsigned => "unsigned",
            Self::BadAdminToken => "bad_admin_token",
            Self::BadSignature => "bad_signature",
            Self::NotStarted => "not_started",
            Self::BadToken => "bad_token",
            Self::TokenExpired => "token_expired",
            Self::WrongUser => "wrong_user",
            Self::CrossSite => "cross_site",
            Self::HttpsRequired => "https_required",
            Self::NotAdmitted => "not_admitted",
            Self::PowRequired => "pow_required",
            Self::CodeRequired => "code_required",
            Self::BadCode => "bad_code",
            Self::CodeUsedUp => "code_used_up",
            Self::BadPow => "bad_pow",
            Self::QueueClosed => "queue_closed",
            Self::NotFound => "not_found",
            Self::UnknownEvent => "unknown_event",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::AlreadyBought => "already_bought",
            Self::TokenUsed => "token_used",
            Self::LimitReached => "limit_reached",
            Self::SeatTaken => "seat_taken",
            Self::NotTogether => "not_together",
            Self::IllegalTransition => "illegal_transition",
            Self::AmountMismatch => "amount_mismatch",
            Self::Ended => "ended",
            Self::SoldOut => "sold_out",
            Self::Expired => "expired",
            Self::RequestTimeout => "request_timeout",
            Self::TooLarge => "too_large",
            Self::HeaderTooLarge => "header_too_large",
            Self::RateLimited => "rate_limited",
            Self::NoOrigin => "no_origin",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::OriginFailed => "origin_failed",
        }
    }

    /// A short human explanation for the page to show.
    pub fn message(self) -> &'static str {
        match self {
            Self::BadRequest => "The request is malformed.",
            Self::UnknownTicketType => "This event does not sell that ticket type.",
            Self::UnknownSeat => "This venue has no such seat.",
            Self::AmbiguousLength => "The request has both Content-Length and Transfer-Encoding.",
            Self::NoSession => "Sign in first.",
            Self::BadSession => "Your session is not valid; sign in again.",
            Self::Unsigned => "Origins only serve requests signed by the edge.",
            Self::BadAdminToken => "The admin token is missing or wrong.",
            Self::BadSignature => "The payment signature is missing, wrong or too old.",
            Self::NotStarted => "The sale has not started yet.",
            Self::BadToken => "This purchase link is not valid.",
            Self::TokenExpired => "This purchase link has expired; get a new one.",
            Self::WrongUser => "This purchase link belongs to another user.",
            Self::CrossSite => "Changes from the dashboard must come from the dashboard page.",
            Self::HttpsRequired => "This API is served over HTTPS only.",
            Self::NotAdmitted => "Wait for your turn in the queue before buying.",
            Self::PowRequired => "Joining this queue needs a proof of work; fetch a challenge.",
            Self::CodeRequired => "This presale is for access code holders; enter your code.",
            Self::BadCode => "This access code is not valid for this presale or for you.",
            Self::CodeUsedUp => "This access code has been used up.",
            Self::BadPow => "The proof of work is not valid; fetch a new challenge.",
            Self::QueueClosed => "This queue is not open.",
            Self::NotFound => "Not found.",
            Self::UnknownEvent => "No such event.",
            Self::MethodNotAllowed => "This method is not allowed here.",
            Self::AlreadyBought => "You already hold your seats for this event.",
            Self::TokenUsed => "This purchase link was already used.",
            Self::LimitReached => "That is more of this ticket type than one buyer may hold.",
            Self::SeatTaken => "Someone else got one of those seats; pick again.",
            Self::NotTogether => {
                "No row has that many seats side by side left; allow split seats or ask for fewer."
            }
            Self::IllegalTransition => "The order cannot do that in its current state.",
            Self::AmountMismatch => "The payment's amount is not the order's total.",
            Self::Ended => "The sale has ended.",
            Self::SoldOut => "Sold out.",
            Self::Expired => "The reservation expired before payment.",
            Self::RequestTimeout => "The request arrived too slowly; send it again.",
            Self::TooLarge => "The request body is too large.",
            Self::HeaderTooLarge => "The request headers are too large.",
            Self::RateLimited => "Too many requests; retry after the indicated time.",
            Self::NoOrigin => "No server is available right now; retry shortly.",
            Self::Unavailable => {
                "The service is briefly unavailable. Retry shortly with the same link: if your order went through, you get it back."
            }
            Self::Internal => "Something went wrong on our side.",
            Self::OriginFailed => {
                "The server did not answer; retry with the same link to see whether your order went through."
            }
        }
    }

    /// The refusal whose code is `code`, for reading a code another component answered with.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The JSON body: `{"code": ..., "message": ...}`.
    pub fn body(self) -> RefusalBody {
        RefusalBody {
            code: self.code(),
            message: self.message(),
        }
    }
}

/// The JSON error body of the contract.
#[derive(Debug, Serialize)]
pub struct RefusalBody {
    /// Stable code.
    pub code: &'static str,
    /// Human explanation.
    pub message: &'static str,
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_refusal_is_listed_once_with_a_unique_code() {
        let codes: HashSet<&str> = Refusal::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), Refusal::ALL.len());
        assert!(
            Refusal::ALL
                .iter()
                .all(|r| (400..600).contains(&r.status()))
        );
    }

    #[test]
    fn codes_read_back_as_their_refusal() {
        for refusal in Refusal::ALL {
            assert_eq!(Refusal::from_code(refusal.code()), Some(refusal));
        }
        assert_eq!(Refusal::from_code("no_such_code"), None);
    }
}
