//! Asking an origin which config it has in force: `/healthz` answers `ok N`, N counting the
//! configs it has put in force (1 until it reloads). An origin with `[[origins]] tls` speaks only
//! TLS, so it is asked over TLS, verified against its CA and name exactly as the edge verifies
//! it (never unverified); any other over a bare HTTP/1.0 request.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use sale::config::{OriginNode, OriginTls};

use super::ready;

/// The config version the origin `node` reports, if it answers.
pub fn config_version(node: &OriginNode) -> Option<u64> {
    let body = match &node.tls {
        None => ready::http_body(node.listen, "/healthz", "")?,
        Some(tls) => https_body(node.listen, tls, "/healthz")?,
    };
    body.lines()
        .next()?
        .strip_prefix("ok ")?
        .trim()
        .parse()
        .ok()
}

/// The body of `GET path` on the TLS origin at `addr`, if it answers 200.
fn https_body(addr: SocketAddr, tls: &OriginTls, path: &str) -> Option<String> {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(&tls.ca).ok()?;
    for certificate in CertificateDer::pem_slice_iter(&pem) {
        roots.add(certificate.ok()?).ok()?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from(tls.server_name.clone()).ok()?;
    let connection = rustls::ClientConnection::new(Arc::new(config), name).ok()?;
    let socket = TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok()?;
    socket.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
    socket
        .set_write_timeout(Some(Duration::from_secs(1)))
        .ok()?;
    let mut stream = rustls::StreamOwned::new(connection, socket);
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {}\r\n\r\n",
        tls.server_name
    )
    .ok()?;
    let mut answer = Vec::new();
    // A server that closes without TLS's close_notify ends the read with an error after the
    // whole answer; the answer is judged by what arrived.
    let _ = stream.read_to_end(&mut answer);
    ready::body_if_ok(&String::from_utf8(answer).ok()?)
}
