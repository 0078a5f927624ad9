//! The few request bodies the edge reads itself, whole and bounded: a waiting-room join's proof
//! of work, and a payment provider's confirmation, whose MAC the edge checks before any origin
//! spends anything on it. Every other body streams through to the origin unread (or is dropped
//! by [`crate::discard`] after a refusal).

use pingora::ErrorType;
use pingora::proxy::Session;
use sale::Refusal;

/// The request's body, read to its end: 413 `too_large` past `limit` bytes (refused before
/// reading when the announced length says so), 408 `request_timeout` when the client stalls,
/// 400 `bad_request` when it fails to arrive. A client waiting to be invited to send
/// (`Expect: 100-continue`) is invited first, since the edge is the one reading. After a
/// refusal the connection ends: what is left of the body cannot be told from a next request.
pub async fn read_whole(session: &mut Session, limit: u64) -> Result<Vec<u8>, Refusal> {
    let headers = &session.req_header().headers;
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit) {
        return Err(ended(session, Refusal::TooLarge));
    }
    let awaits_invitation = headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if awaits_invitation {
        if session.write_continue_response().await.is_err() {
            return Err(ended(session, Refusal::BadRequest));
        }
        // Answered here; the origin the body goes to must not wait to invite it again.
        session
            .req_header_mut()
            .remove_header(&http::header::EXPECT);
    }
    let mut body = Vec::new();
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                body.extend_from_slice(&chunk);
                if body.len() as u64 > limit {
                    return Err(ended(session, Refusal::TooLarge));
                }
            }
            Ok(None) => return Ok(body),
            Err(e) if matches!(e.etype(), ErrorType::ReadTimedout) => {
                return Err(ended(session, Refusal::RequestTimeout));
            }
            Err(_) => return Err(ended(session, Refusal::BadRequest)),
        }
    }
}

/// `refusal`, with the connection set to close after it.
fn ended(session: &mut Session, refusal: Refusal) -> Refusal {
    session.set_keepalive(None);
    refusal
}
