//! The edge's certificates: every `{ cert, key }` pair of `[edge.tls]` read from its PEM files
//! and checked before it may serve: a readable chain, a key the edge can sign with, the key
//! matching the leaf, and the leaf within its validity. Each problem names its file, so
//! check-config and a refused reload tell the operator which one to fix. The set also answers
//! which certificate a client's server name (SNI) gets.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::ring::sign::any_supported_type;
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sale::config::{CertificateFiles, TlsConfig};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

/// Seconds in a day, for days left.
const DAY: i64 = 86_400;

/// Why a certificate cannot serve.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    /// The file is missing or unreadable.
    #[error("{path}: cannot be read: {reason}")]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// What the OS or the PEM reader said.
        reason: String,
    },
    /// The file holds no PEM certificate.
    #[error("{path}: holds no PEM certificate")]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The leaf is not a certificate X.509 can read.
    #[error("{path}: not a readable X.509 certificate: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// The parser's words.
        reason: String,
    },
    /// The key cannot sign (an unsupported algorithm or a damaged key).
    #[error("{path}: not a usable private key: {reason}")]
    BadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        reason: String,
    },
    /// The key is not the leaf certificate's.
    #[error("{key}: does not match the certificate in {cert}")]
    Mismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The leaf has expired.
    #[error("{path}: expired on {date}")]
    Expired {
        /// The file.
        path: PathBuf,
        /// Its `notAfter`.
        date: String,
    },
    /// The leaf is not valid yet.
    #[error("{path}: not valid before {date}")]
    NotYetValid {
        /// The file.
        path: PathBuf,
        /// Its `notBefore`.
        date: String,
    },
}

/// One certificate ready to serve.
#[derive(Debug)]
pub struct Certificate {
    /// Where it came from.
    pub files: CertificateFiles,
    /// DNS names it covers (lowercase; `*.` wildcards kept as written).
    pub names: Vec<String>,
    /// The leaf's serial number, hex.
    pub serial: String,
    /// The leaf's `notAfter`, Unix seconds.
    pub not_after: i64,
    /// The chain and signing key rustls serves.
    pub key: Arc<CertifiedKey>,
}

impl Certificate {
    /// Whole days until it expires (negative once expired).
    pub fn days_left(&self, now_secs: i64) -> i64 {
        (self.not_after - now_secs).div_euclid(DAY)
    }

    fn covers(&self, name: &str) -> bool {
        self.names
            .iter()
            .any(|pattern| match pattern.strip_prefix("*.") {
                Some(parent) => name
                    .split_once('.')
                    .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
                None => pattern == name,
            })
    }
}

/// Every certificate of `[edge.tls]`, the default first.
#[derive(Debug)]
pub struct Certificates {
    /// Never empty.
    pub list: Vec<Certificate>,
}

impl Certificates {
    /// Reads and checks every pair; every problem is returned, not just the first.
    pub fn load(tls: &TlsConfig, now_secs: i64) -> Result<Self, Vec<CertificateError>> {
        let mut list = Vec::new();
        let mut problems = Vec::new();
        for files in &tls.certificates {
            match load_one(files, now_secs) {
                Ok(certificate) => list.push(certificate),
                Err(e) => problems.push(e),
            }
        }
        if problems.is_empty() && !list.is_empty() {
            Ok(Self { list })
        } else {
            Err(problems)
        }
    }

    /// The certificate for a client that asked for `server_name`: one that covers it, else the
    /// default (clients that connect by address send no name).
    pub fn for_name(&self, server_name: Option<&str>) -> &Certificate {
        let wanted = server_name.map(str::to_ascii_lowercase);
        wanted
            .and_then(|name| self.list.iter().find(|c| c.covers(&name)))
            .unwrap_or(&self.list[0])
    }
}

fn unreadable(path: &Path, reason: impl ToString) -> CertificateError {
    CertificateError::Unreadable {
        path: path.to_owned(),
        reason: reason.to_string(),
    }
}

fn load_one(files: &CertificateFiles, now_secs: i64) -> Result<Certificate, CertificateError> {
    let cert_path = &files.cert;
    let key_path = &files.key;
    // Read first, so a missing file is named as missing rather than as empty.
    let cert_pem = std::fs::read(cert_path).map_err(|e| unreadable(cert_path, e))?;
    let key_pem = std::fs::read(key_path).map_err(|e| unreadable(key_path, e))?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(cert_path, e))?;
    let Some(leaf) = chain.first() else {
        return Err(CertificateError::NoCertificate {
            path: cert_path.clone(),
        });
    };
    let malformed = |reason: String| CertificateError::Malformed {
        path: cert_path.clone(),
        reason,
    };
    let (_, parsed) = X509Certificate::from_der(leaf).map_err(|e| malformed(e.to_string()))?;
    let validity = parsed.validity();
    let not_before = validity.not_before.timestamp();
    let not_after = validity.not_after.timestamp();
    if now_secs > not_after {
        return Err(CertificateError::Expired {
            path: cert_path.clone(),
            date: validity.not_after.to_string(),
        });
    }
    if now_secs < not_before {
        return Err(CertificateError::NotYetValid {
            path: cert_path.clone(),
            date: validity.not_before.to_string(),
        });
    }
    let bad_key = |reason: String| CertificateError::BadKey {
        path: key_path.clone(),
        reason,
    };
    let key = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| bad_key(e.to_string()))?;
    let signer = any_supported_type(&key).map_err(|e| bad_key(e.to_string()))?;
    let certified = CertifiedKey::new(chain.clone(), signer);
    certified
        .keys_match()
        .map_err(|_| CertificateError::Mismatch {
            cert: cert_path.clone(),
            key: key_path.clone(),
        })?;
    let names = parsed
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some(dns.to_ascii_lowercase()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Certificate {
        files: files.clone(),
        names,
        serial: parsed.raw_serial_as_string().replace(':', ""),
        not_after,
        key: Arc::new(certified),
    })
}
