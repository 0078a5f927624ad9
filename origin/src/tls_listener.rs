//! The origin's listener when its `[[origins]] tls` asks for TLS: TCP accepted, then the TLS
//! handshake (rustls, TLS 1.2 and 1.3, HTTP/1.1) with the origin's certificate, before axum
//! sees the connection. Each handshake runs on its own and is bounded in time; a failed one is
//! logged and skipped, never fatal.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sale::config::OriginTls;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// Longest a client may take over its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why the origin's certificate cannot serve.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct OriginTlsError {
    /// The file at fault.
    pub path: std::path::PathBuf,
    /// What is wrong with it.
    pub reason: String,
}

fn problem(path: &Path, reason: impl ToString) -> OriginTlsError {
    OriginTlsError {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

/// The rustls acceptor for `tls`'s certificate and key.
pub fn acceptor(tls: &OriginTls) -> Result<TlsAcceptor, OriginTlsError> {
    let chain = CertificateDer::pem_file_iter(&tls.cert)
        .map_err(|e| problem(&tls.cert, e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| problem(&tls.cert, e))?;
    if chain.is_empty() {
        return Err(problem(&tls.cert, "holds no PEM certificate"));
    }
    let key = PrivateKeyDer::from_pem_file(&tls.key).map_err(|e| problem(&tls.key, e))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| problem(&tls.cert, e))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| problem(&tls.key, e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Handshakes finished but not yet taken by the server; beyond it, new handshakes wait.
const READY_QUEUE: usize = 64;

/// A TCP listener whose connections are TLS. A task of its own accepts TCP connections and runs
/// each handshake in a task of its own, so a slow or silent peer delays nobody else; finished
/// handshakes queue for the server.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local_addr: SocketAddr,
}

impl TlsListener {
    /// Starts accepting on `tcp` with `acceptor`; the accepting task ends with the listener.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local_addr = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_QUEUE);
        tokio::spawn(accept_loop(tcp, acceptor, sender));
        Ok(Self { ready, local_addr })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    while !ready.is_closed() {
        let (stream, peer) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of descriptors and the like: wait a moment rather than spin.
                tracing::warn!(error = %e, "origin cannot accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(accepted) => accepted,
            // The accepting task never ends while this listener lives.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local_addr)
    }
}
