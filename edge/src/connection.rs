//! Limits on every client connection, applied before anything else runs: Pingora's defaults keep
//! an idle keep-alive connection and a stalled body read open forever, which a flash crowd turns
//! into exhausted sockets and memory.

use std::time::Duration;

use pingora::proxy::Session;

/// How long an idle keep-alive connection waits for its next request.
pub const KEEPALIVE_IDLE_SECS: u64 = 60;
/// How long a read of the request body, or a write of the response, may stall.
pub const IO_STALL: Duration = Duration::from_secs(10);

/// Applies the limits to `session`. Keep-alive is only bounded where the request has it: an
/// HTTP/1.0 request without `Connection: keep-alive` must see its connection closed after the
/// response, or clients that read to the end of the connection (ApacheBench) wait forever.
pub fn limit(session: &mut Session) {
    if session.get_keepalive().is_some() {
        session.set_keepalive(Some(KEEPALIVE_IDLE_SECS));
    }
    session.set_read_timeout(Some(IO_STALL));
    session.set_write_timeout(Some(IO_STALL));
}
