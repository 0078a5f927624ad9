//! The few request bodies the edge reads itself, whole and bounded: a waiting-room join's proof
//! of work, and a payment provider's confirmation, whose MAC the edge checks before any origin
//! spends anything on it. Every other body streams through to the origin unread (or is dropped
//! by [`crate::discard`] after a refusal).

use pingora::proxy::Session;
use sale::Refusal;

/// The request's body, read to its end: 413 `too_large` past `limit` bytes, 400 `bad_request`
/// when it fails to arrive.
pub async fn read_whole(session: &mut Session, limit: u64) -> Result<Vec<u8>, Refusal> {
    let mut body = Vec::new();
    while let Some(chunk) = session
        .read_request_body()
        .await
        .map_err(|_| Refusal::BadRequest)?
    {
        body.extend_from_slice(&chunk);
        if body.len() as u64 > limit {
            return Err(Refusal::TooLarge);
        }
    }
    Ok(body)
}
