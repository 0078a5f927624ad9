//! What one HTTP/2 connection may ask of the edge, from `[edge.tls.h2]` as it stands when the
//! connection opens: concurrent streams, flow-control windows, the header list, and how many
//! streams a client may reset before the edge started on them (the rapid-reset attack: one more
//! and the connection is closed with GOAWAY). The head bound (`edge.max_header_bytes`) is the
//! gate's, which answers 431 with the contract's JSON over h2 as over HTTP/1; the h2 layer's own
//! bound is twice it (h2 counts 32 bytes more per field), so only a block far beyond gets the h2
//! crate's bare 431, and one that runs on in CONTINUATION frames past it closes the connection.

use pingora::protocols::http::v2::server::H2Options;
use sale::config::EdgeConfig;

/// Streams the edge itself may reset for a client's errors before it closes the connection
/// (h2's default is 1024; a client that provokes that many errors is not buying tickets).
const MAX_LOCAL_ERROR_RESETS: usize = 100;

/// The h2 settings for a new connection.
pub fn options(edge: &EdgeConfig) -> Option<H2Options> {
    let limits = edge.tls.as_ref()?.h2;
    let mut options = H2Options::default();
    options
        .max_concurrent_streams(limits.max_concurrent_streams)
        .initial_window_size(limits.stream_window_bytes)
        .initial_connection_window_size(limits.connection_window_bytes)
        .max_header_list_size(u32::try_from(edge.max_header_bytes * 2).unwrap_or(u32::MAX))
        .max_pending_accept_reset_streams(limits.max_pending_resets as usize)
        .max_local_error_reset_streams(Some(MAX_LOCAL_ERROR_RESETS));
    Some(options)
}
