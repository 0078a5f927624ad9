//! The shape a request must have before anything else is looked at: a head within the edge's
//! bounds (431 otherwise), exactly one way of saying how long the body is (request smuggling is
//! refused), and a declared body within the limit.

use pingora::http::RequestHeader;
use sale::Refusal;

/// Whether the request as it arrived carried both `Transfer-Encoding` and `Content-Length`.
/// Pingora drops the `Content-Length` of such a request while parsing (RFC 9112 §6.3), so the
/// raw header bytes are the only place left to see it; only chunked requests need the look.
pub fn sent_both_lengths(req: &RequestHeader, raw_header: &[u8]) -> bool {
    req.headers.contains_key(http::header::TRANSFER_ENCODING)
        && raw_header
            .split(|b| *b == b'\n')
            .any(|line| line.len() > 15 && line[..15].eq_ignore_ascii_case(b"content-length:"))
}

/// The bounds a request's shape must keep.
#[derive(Debug, Clone, Copy)]
pub struct ShapeLimits {
    /// Largest body.
    pub body: u64,
    /// Largest head, request line and headers together.
    pub head: u64,
    /// Largest line of the head.
    pub head_line: u64,
}

impl ShapeLimits {
    /// The bounds `edge` sets.
    pub fn of(edge: &sale::config::EdgeConfig) -> Self {
        Self {
            body: edge.max_body_bytes,
            head: edge.max_header_bytes,
            head_line: edge.max_header_line_bytes,
        }
    }
}

/// Refuses a head over its bounds, judged by its parsed size (each line's text plus its `: `
/// and CRLF, as sent). Pingora itself buffers at most 1 MiB of head; this bound is the
/// operator's, nginx-sized by default, and is enforced before the body is read.
fn check_head(req: &RequestHeader, limits: &ShapeLimits) -> Result<(), Refusal> {
    const VERSION_AND_CRLF: u64 = 12;
    let request_line =
        (req.method.as_str().len() + 1 + req.raw_path().len()) as u64 + VERSION_AND_CRLF;
    let mut total = request_line;
    let mut longest = request_line;
    for (name, value) in &req.headers {
        let line = (name.as_str().len() + 2 + value.len() + 2) as u64;
        total += line;
        longest = longest.max(line);
    }
    if total > limits.head || longest > limits.head_line {
        return Err(Refusal::HeaderTooLarge);
    }
    Ok(())
}

/// Refuses oversized heads, request smuggling and bodies over the limit, judged by the headers.
pub fn check(req: &RequestHeader, both_lengths: bool, limits: &ShapeLimits) -> Result<(), Refusal> {
    check_head(req, limits)?;
    let max_body = limits.body;
    let length = req.headers.get(http::header::CONTENT_LENGTH);
    if both_lengths
        || (length.is_some() && req.headers.contains_key(http::header::TRANSFER_ENCODING))
    {
        return Err(Refusal::AmbiguousLength);
    }
    match length.map(|v| v.to_str().ok().and_then(|v| v.parse::<u64>().ok())) {
        Some(None) => Err(Refusal::BadRequest),
        Some(Some(n)) if n > max_body => Err(Refusal::TooLarge),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(headers: &[(&str, &str)]) -> RequestHeader {
        let mut r = RequestHeader::build("POST", b"/api/events/demo/token", None).unwrap();
        for (name, value) in headers {
            r.append_header(name.to_string(), *value).unwrap();
        }
        r
    }

    #[test]
    fn both_length_headers_are_refused() {
        let r = req(&[("content-length", "3"), ("transfer-encoding", "chunked")]);
        assert_eq!(check(&r, false, &LIMITS), Err(Refusal::AmbiguousLength));
        let chunked = req(&[("transfer-encoding", "chunked")]);
        let raw = b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n";
        assert!(sent_both_lengths(&chunked, raw));
        assert!(!sent_both_lengths(
            &chunked,
            b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
        ));
        assert_eq!(
            check(&chunked, true, &LIMITS),
            Err(Refusal::AmbiguousLength)
        );
    }

    const LIMITS: ShapeLimits = ShapeLimits {
        body: 100,
        head: 2048,
        head_line: 512,
    };

    #[test]
    fn heads_over_their_bounds_are_refused() {
        let line = "x".repeat(600);
        assert_eq!(
            check(&req(&[("x-long", &line)]), false, &LIMITS),
            Err(Refusal::HeaderTooLarge)
        );
        let many: Vec<(String, String)> = (0..10)
            .map(|i| (format!("x-{i}"), "y".repeat(300)))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        assert_eq!(
            check(&req(&many), false, &LIMITS),
            Err(Refusal::HeaderTooLarge)
        );
        assert_eq!(check(&req(&many[..5]), false, &LIMITS), Ok(()));
    }

    #[test]
    fn oversized_and_unparsable_lengths_are_refused() {
        let shape = |headers: &[(&str, &str)]| check(&req(headers), false, &LIMITS);
        assert_eq!(shape(&[("content-length", "101")]), Err(Refusal::TooLarge));
        assert_eq!(shape(&[("content-length", "x")]), Err(Refusal::BadRequest));
        assert_eq!(shape(&[("content-length", "100")]), Ok(()));
        assert_eq!(shape(&[]), Ok(()));
    }
}
