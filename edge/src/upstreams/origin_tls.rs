//! TLS from the edge to origins that asked for it (`[[origins]] tls`): the CA each origin's
//! certificate must chain to (the only one trusted for it, not the system's) and the name it
//! must carry, read when the config is loaded so a request only clones an `Arc`. The edge
//! signature goes on regardless: TLS hides and authenticates the hop, the signature says the
//! request passed the edge's checks.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use pingora::protocols::tls::CaType;
use pingora::utils::tls::{WrappedX509, parse_x509};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use sale::config::OriginNode;

use crate::tls::certificates::CertificateError;

/// How the edge verifies one origin.
#[derive(Debug)]
pub struct OriginTrust {
    /// The CA its certificate must chain to.
    pub ca: Arc<CaType>,
    /// The name (or address) its certificate must carry.
    pub server_name: String,
}

/// The trust for every origin with `tls`, by address.
pub fn load(
    origins: &[OriginNode],
) -> Result<HashMap<SocketAddr, Arc<OriginTrust>>, Vec<CertificateError>> {
    let mut trust = HashMap::new();
    let mut problems = Vec::new();
    for origin in origins {
        let Some(tls) = &origin.tls else { continue };
        let path = &tls.ca;
        let pem = match std::fs::read(path) {
            Ok(pem) => pem,
            Err(e) => {
                problems.push(CertificateError::Unreadable {
                    path: path.clone(),
                    reason: e.to_string(),
                });
                continue;
            }
        };
        let ders: Vec<Vec<u8>> = CertificateDer::pem_slice_iter(&pem)
            .filter_map(Result::ok)
            .filter(|der| x509_parser::parse_x509_certificate(der).is_ok())
            .map(|der| der.to_vec())
            .collect();
        if ders.is_empty() {
            problems.push(CertificateError::NoCertificate { path: path.clone() });
            continue;
        }
        let ca: Vec<WrappedX509> = ders
            .into_iter()
            .map(|der| WrappedX509::new(der, parse_x509))
            .collect();
        trust.insert(
            origin.listen,
            Arc::new(OriginTrust {
                ca: Arc::from(ca.into_boxed_slice()),
                server_name: tls.server_name.clone(),
            }),
        );
    }
    if problems.is_empty() {
        Ok(trust)
    } else {
        Err(problems)
    }
}
