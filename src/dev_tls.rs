//! A development certificate authority: what `flashgate up` makes under `{up.var_dir}/tls/` when
//! `[edge.tls]` lists no certificates (`ca.pem`, which a browser or `flashgate rush --ca` is
//! told to trust, and `edge.pem`/`edge-key.pem` for 127.0.0.1, ::1 and localhost), and what the
//! tests issue their certificates from. The CA is kept across runs, so a browser that trusts it
//! once keeps trusting the stack; the edge's certificate is issued again when it is missing, no
//! longer the CA's, or near its end.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};
use time::{Duration, OffsetDateTime};

/// How long the development CA is valid.
const CA_LIFETIME: Duration = Duration::days(3650);
/// How long an issued certificate is valid.
const LEAF_LIFETIME: Duration = Duration::days(365);
/// An edge certificate with less left than this is issued again at the next start.
const RENEW_BEFORE: Duration = Duration::days(30);

/// Why the development CA or certificate could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DevTlsError {
    /// Generating a key or signing a certificate failed.
    #[error("cannot make a development certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A certificate authority that can issue certificates.
pub struct DevCa {
    params: CertificateParams,
    key: KeyPair,
    pem: String,
}

/// An issued certificate and its key, PEM.
pub struct Issued {
    /// The certificate (leaf only: clients trust the CA).
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
}

impl DevCa {
    /// A new CA named `name`.
    pub fn generate(name: &str) -> Result<Self, DevTlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + CA_LIFETIME;
        let pem = params.clone().self_signed(&key)?.pem();
        Ok(Self { params, key, pem })
    }

    /// The CA stored as `cert_pem` with its `key_pem`.
    pub fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self, DevTlsError> {
        Ok(Self {
            params: CertificateParams::from_ca_cert_pem(cert_pem)?,
            key: KeyPair::from_pem(key_pem)?,
            pem: cert_pem.to_owned(),
        })
    }

    /// The CA certificate, PEM: what clients trust.
    pub fn cert_pem(&self) -> &str {
        &self.pem
    }

    /// The CA's key, PEM.
    pub fn key_pem(&self) -> String {
        self.key.serialize_pem()
    }

    /// A server certificate for `names` (DNS names or IP addresses), valid from `not_before`
    /// to `not_after`.
    pub fn issue_between(
        &self,
        names: &[&str],
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
    ) -> Result<Issued, DevTlsError> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(
            DnType::CommonName,
            names.first().copied().unwrap_or("flashgate"),
        );
        params.subject_alt_names = names
            .iter()
            .map(|name| match name.parse::<IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) => Ok(SanType::DnsName((*name).try_into()?)),
            })
            .collect::<Result<_, rcgen::Error>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.not_before = not_before;
        params.not_after = not_after;
        let issuer = self.params.clone().self_signed(&self.key)?;
        let cert = params.signed_by(&key, &issuer, &self.key)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A server certificate for `names`, valid from yesterday for a year.
    pub fn issue(&self, names: &[&str]) -> Result<Issued, DevTlsError> {
        let now = OffsetDateTime::now_utc();
        self.issue_between(names, now - Duration::days(1), now + LEAF_LIFETIME)
    }
}

/// The development files under `{var_dir}/tls/`.
pub struct DevFiles {
    /// The CA certificate to trust.
    pub ca: PathBuf,
    /// The edge's certificate.
    pub cert: PathBuf,
    /// The edge's key.
    pub key: PathBuf,
}

fn read(path: &Path) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

fn write(path: &Path, text: &str, private: bool) -> Result<(), DevTlsError> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |source| DevTlsError::Io {
        path: path.to_owned(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(if private { 0o600 } else { 0o644 })
        .open(path)
        .map_err(io)?;
    // `mode` applies only to a file created now; one left by an earlier run is set too.
    let permissions = std::fs::Permissions::from_mode(if private { 0o600 } else { 0o644 });
    file.set_permissions(permissions).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)
}

/// A PEM certificate's issuer and subject names and its end, Unix seconds.
fn describe(pem: &str) -> Option<(String, String, i64)> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).ok()?;
    let cert = pem.parse_x509().ok()?;
    Some((
        cert.issuer().to_string(),
        cert.subject().to_string(),
        cert.validity().not_after.timestamp(),
    ))
}

/// Whether `cert_pem` was issued by the CA of `ca_pem` and has more than [`RENEW_BEFORE`] left.
fn still_good(cert_pem: &str, ca_pem: &str) -> bool {
    let (Some((issuer, _, not_after)), Some((_, ca_subject, _))) =
        (describe(cert_pem), describe(ca_pem))
    else {
        return false;
    };
    let left = not_after - OffsetDateTime::now_utc().unix_timestamp();
    issuer == ca_subject && left > RENEW_BEFORE.whole_seconds()
}

/// Makes the development CA and the edge's certificate under `{var_dir}/tls/` where they are
/// missing (or the certificate is near its end), and returns where they are.
pub fn ensure(var_dir: &Path) -> Result<DevFiles, DevTlsError> {
    let dir = var_dir.join("tls");
    std::fs::create_dir_all(&dir).map_err(|source| DevTlsError::Io {
        path: dir.clone(),
        source,
    })?;
    let files = DevFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("edge.pem"),
        key: dir.join("edge-key.pem"),
    };
    let ca_key_path = dir.join("ca-key.pem");
    let stored = match (read(&files.ca), read(&ca_key_path)) {
        (Some(cert), Some(key)) => DevCa::from_pem(&cert, &key).ok(),
        _ => None,
    };
    let ca = match stored {
        Some(ca) => ca,
        None => {
            // A CA named for this folder and moment, so two stacks' CAs are told apart.
            let name = format!(
                "flashgate development CA {}",
                OffsetDateTime::now_utc().unix_timestamp()
            );
            let ca = DevCa::generate(&name)?;
            write(&ca_key_path, &ca.key_pem(), true)?;
            write(&files.ca, ca.cert_pem(), false)?;
            ca
        }
    };
    let current =
        read(&files.cert).filter(|pem| still_good(pem, ca.cert_pem()) && files.key.exists());
    if current.is_none() {
        let issued = ca.issue(&["localhost", "127.0.0.1", "::1"])?;
        write(&files.key, &issued.key_pem, true)?;
        write(&files.cert, &issued.cert_pem, false)?;
    }
    Ok(files)
}
