//! Which certificate a TLS handshake gets: rustls asks on every handshake, and the answer comes
//! from the live config's certificate set, so a reload that loads new files changes what the
//! next handshake sees while connections already open keep the keys they agreed.

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::live_config::Live;

/// Picks the certificate by the server name the client asked for (SNI).
pub struct SniResolver {
    /// Where the certificates in force are.
    pub live: Arc<Live>,
}

impl std::fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SniResolver")
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let snapshot = self.live.snapshot();
        let certificates = snapshot.certificates.as_ref()?;
        Some(certificates.for_name(hello.server_name()).key.clone())
    }
}
