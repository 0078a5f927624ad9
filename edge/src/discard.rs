//! Keeping the connection after a refusal: a request the edge answers itself may carry a body the
//! edge never needs (a buy refused at the gate, a token request with `{}`). Pingora cannot reuse
//! a connection whose body is unread, and closing it makes every refusal of a request with a
//! body cost a new connection (and, over TLS, a new handshake). Like nginx's discard, a small
//! body is read and dropped before the answer; a body over `edge.max_body_bytes`, one the client
//! waits to be invited to send (`Expect: 100-continue`), or one that fails to arrive closes the
//! connection instead, and the answer says so (`Connection: close`).

use pingora::proxy::Session;

/// Reads and drops the request's body if it is at most `limit` bytes, so the connection can
/// carry the next request; otherwise marks the connection to close after the answer.
pub async fn discard_body(session: &mut Session, limit: u64) {
    if session.is_body_done() || session.is_body_empty() {
        return;
    }
    let headers = &session.req_header().headers;
    let announced = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let awaits_invitation = headers
        .get(http::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    if awaits_invitation || announced.is_some_and(|length| length > limit) {
        session.set_keepalive(None);
        return;
    }
    let mut read = 0u64;
    loop {
        match session.read_request_body().await {
            Ok(Some(chunk)) => {
                read += chunk.len() as u64;
                if read > limit {
                    session.set_keepalive(None);
                    return;
                }
            }
            Ok(None) => return,
            Err(_) => {
                session.set_keepalive(None);
                return;
            }
        }
    }
}
