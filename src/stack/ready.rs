//! Waiting for a component to become ready: poll a real condition (a port answers, a probe
//! returns 200) until it holds or a deadline passes, and say clearly which one never came up.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Polls `probe` every 25 ms until it returns true or `timeout` passes: the one place a thread
/// of this binary sleeps, always on a real condition, always bounded.
#[allow(
    clippy::disallowed_methods,
    reason = "the sanctioned bounded wait, for callers without a runtime"
)]
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut probe: impl FnMut() -> bool,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        if probe() {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{what} did not become ready within {}s",
                timeout.as_secs()
            ));
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// Whether `GET path` on `addr` answers with one of `statuses`, using a bare HTTP/1.0 request
/// so it needs no client library and no runtime.
fn answers(addr: SocketAddr, path: &str, statuses: &[&[u8; 3]]) -> bool {
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head)?;
        Ok(head.starts_with(b"HTTP/1.") && statuses.iter().any(|s| &head[9..12] == *s))
    };
    attempt().unwrap_or(false)
}

/// Whether `GET path` on `addr` answers with status 200.
pub fn http_ok(addr: SocketAddr, path: &str) -> bool {
    answers(addr, path, &[b"200"])
}

/// Whether the edge's plain listener at `addr` serves its page: 200, or 308 to https where
/// `[edge.tls] plain = "redirect"`.
pub fn edge_serves(addr: SocketAddr) -> bool {
    answers(addr, "/", &[b"200", b"308"])
}

/// The body of `GET path` on `addr`, sent with `bearer` as its `Authorization`, if it answers
/// 200, over a bare HTTP/1.0 request.
pub fn http_body(addr: SocketAddr, path: &str, bearer: &str) -> Option<String> {
    let attempt = || -> std::io::Result<String> {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        write!(
            stream,
            "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {bearer}\r\n\r\n"
        )?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer)?;
        Ok(answer)
    };
    body_if_ok(&attempt().ok()?)
}

/// The body of a whole HTTP/1 `answer`, if its status is 200.
pub fn body_if_ok(answer: &str) -> Option<String> {
    let (head, body) = answer.split_once("\r\n\r\n")?;
    (head.starts_with("HTTP/1.") && head.get(9..12) == Some("200")).then(|| body.to_owned())
}

/// Whether something accepts TCP connections on `addr`.
pub fn port_open(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok()
}

/// Fails with a clear message when `addr` is already taken by another program.
pub fn ensure_free(addr: SocketAddr, owner: &str) -> Result<(), String> {
    std::net::TcpListener::bind(addr)
        .map(drop)
        .map_err(|e| format!("{owner} needs {addr}, but it is not available ({e}); stop what uses it or change the config"))
}

/// A Redis link for batch tools (reconcile, the rush's checks): they read whole events, which
/// can take longer than a request path's half-second reply timeout.
pub async fn batch_redis(
    target: &sale::config::RedisTarget,
) -> redis::RedisResult<sale::redis_link::RedisLink> {
    let options = sale::redis_link::LinkOptions {
        response_timeout: Some(Duration::from_secs(30)),
        connection_timeout: Duration::from_secs(2),
        retries: 3,
        read_from_replicas: false,
    };
    sale::redis_link::RedisLink::open(target, options).await
}
