//! Who is asking: the user session, from `Authorization: Bearer` or the `fg_session` cookie,
//! verified at the edge so no unauthenticated purchase request goes further.

use pingora::http::RequestHeader;
use sale::http_credentials::{bearer, cookie};
use sale::key_ring::KeyRing;
use sale::session::{self, SessionError};
use sale::{Refusal, UserId};

/// The session cookie's name.
pub const COOKIE: &str = "fg_session";

/// The session text the request presents, if any.
fn presented(req: &RequestHeader) -> Option<&str> {
    if req.headers.contains_key(http::header::AUTHORIZATION) {
        return bearer(&req.headers);
    }
    cookie(&req.headers, COOKIE)
}

/// The signed-in user, or why not.
pub fn user(req: &RequestHeader, keys: &KeyRing, now: u64) -> Result<UserId, Refusal> {
    let text = presented(req).ok_or(Refusal::NoSession)?;
    session::verify(keys, text, now)
        .map(|s| s.user)
        .map_err(|e| {
            tracing::debug!(reason = %e, "session refused");
            match e {
                SessionError::Invalid | SessionError::Expired => Refusal::BadSession,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(header: &str, value: &str) -> RequestHeader {
        let mut r = RequestHeader::build("POST", b"/", None).unwrap();
        r.insert_header(header.to_owned(), value).unwrap();
        r
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let r = req("cookie", "a=1; fg_session=abc.def.ghi; b=2");
        assert_eq!(presented(&r), Some("abc.def.ghi"));
    }

    #[test]
    fn bearer_wins_and_other_schemes_do_not_count() {
        assert_eq!(presented(&req("authorization", "Bearer xyz")), Some("xyz"));
        assert_eq!(presented(&req("authorization", "Basic xyz")), None);
        assert_eq!(
            presented(&RequestHeader::build("GET", b"/", None).unwrap()),
            None
        );
    }
}
