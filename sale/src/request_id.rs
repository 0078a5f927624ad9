//! Request ids: the edge gives every request one (or keeps the one a trusted proxy sent), sends it
//! to the origin in [`HEADER`], writes it in its log lines and in refusal bodies (`request_id`),
//! and the origin does the same, so a buyer's complaint quoting it is traced end to end.
//!
//! An id is 16 hex digits: a per-thread counter from a random start, so making one takes no lock
//! and no shared write, and ids of different threads and edges collide only by chance of 64 bits.
//! Ids from outside are kept only when short and plain (see [`RequestId::given`]), since they
//! are written into logs and JSON.

use std::cell::Cell;
use std::fmt;

/// The header that carries the id from a trusted proxy to the edge and from the edge to the
/// origin.
pub const HEADER: &str = "x-request-id";

/// The longest id accepted from outside.
pub const MAX_LEN: usize = 64;

/// One request's id, held inline.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct RequestId {
    bytes: [u8; MAX_LEN],
    len: u8,
}

thread_local! {
    static NEXT: Cell<u64> = Cell::new(rand::random());
}

impl RequestId {
    /// A new id.
    pub fn generate() -> Self {
        let n = NEXT.with(|next| {
            let n = next.get();
            next.set(n.wrapping_add(1));
            n
        });
        let mut bytes = [0; MAX_LEN];
        let digits = b"0123456789abcdef";
        for (i, byte) in bytes.iter_mut().take(16).enumerate() {
            *byte = digits[((n >> (60 - 4 * i)) & 0xf) as usize];
        }
        Self { bytes, len: 16 }
    }

    /// `value` as an id, if it is 1 to [`MAX_LEN`] characters of letters, digits and `-_.:`
    /// (what proxies and tracing systems send), so it is safe in a log line and a JSON string.
    pub fn given(value: &[u8]) -> Option<Self> {
        let plain = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':');
        if value.is_empty() || value.len() > MAX_LEN || !value.iter().all(plain) {
            return None;
        }
        let mut bytes = [0; MAX_LEN];
        bytes[..value.len()].copy_from_slice(value);
        Some(Self {
            bytes,
            len: value.len() as u8,
        })
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.as_str())
    }
}

#[cfg(feature = "http")]
tokio::task_local! {
    /// The id of the request an axum listener is answering, set by its request-id layer, read
    /// where refusal bodies are written.
    pub static CURRENT: RequestId;
}

/// The id of the request being answered on this task, if a request-id layer set one.
#[cfg(feature = "http")]
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(|id| *id).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_sixteen_hex_digits_and_differ() {
        let (a, b) = (RequestId::generate(), RequestId::generate());
        assert_ne!(a, b);
        for id in [a, b] {
            assert_eq!(id.as_str().len(), 16);
            assert!(id.as_str().bytes().all(|b| b.is_ascii_hexdigit()));
        }
    }

    #[test]
    fn plain_ids_from_outside_are_kept() {
        let id = RequestId::given(b"req-42_a.b:c").expect("plain");
        assert_eq!(id.as_str(), "req-42_a.b:c");
        assert!(RequestId::given(&[b'a'; MAX_LEN]).is_some());
    }

    #[test]
    fn empty_long_or_unusual_ids_are_refused() {
        assert!(RequestId::given(b"").is_none());
        assert!(RequestId::given(&[b'a'; MAX_LEN + 1]).is_none());
        for bad in [&b"a b"[..], b"a\"b", b"a\nb", b"caf\xc3\xa9", b"a{b}"] {
            assert!(RequestId::given(bad).is_none(), "{bad:?}");
        }
    }
}
