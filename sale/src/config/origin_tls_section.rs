//! `[[origins]] tls`: TLS between the edge and an origin on another network, as written and
//! validated into an [`OriginTls`]. The files are read where they are used: the CA by the edge
//! (`edge::upstreams::origin_tls`), the certificate and key by that origin's listener; both are
//! also checked by check-config.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::problems::Problems;

/// `[[origins]] tls = { ca, cert, key, server_name }` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOriginTls {
    /// The CA that signs this origin's certificate (PEM): the only one the edge trusts for it.
    pub ca: String,
    /// The certificate chain this origin serves (PEM, leaf first).
    pub cert: String,
    /// Its private key (PEM).
    pub key: String,
    /// The name the edge asks for and verifies; defaults to the origin's IP address (then the
    /// certificate must list it as an IP address).
    pub server_name: Option<String>,
}

/// `[[origins]] tls`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginTls {
    /// The CA the edge trusts for this origin.
    pub ca: PathBuf,
    /// The origin's certificate.
    pub cert: PathBuf,
    /// The origin's key.
    pub key: PathBuf,
    /// The name the edge verifies.
    pub server_name: String,
}

/// Validates origin `i`'s `tls`: `Some(None)` when absent, `None` on a problem.
pub(super) fn origin_tls(
    p: &mut Problems,
    i: usize,
    raw: Option<&RawOriginTls>,
    base: &Path,
    listen: Option<SocketAddr>,
) -> Option<Option<OriginTls>> {
    let Some(raw) = raw else {
        return Some(None);
    };
    let server_name = match &raw.server_name {
        Some(name) => p.check(
            format!("origins[{i}].tls.server_name"),
            if !name.is_empty()
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
            {
                Ok(name.clone())
            } else {
                Err(format!("must be a host name or address, got {name:?}"))
            },
        )?,
        None => listen?.ip().to_string(),
    };
    Some(Some(OriginTls {
        ca: base.join(&raw.ca),
        cert: base.join(&raw.cert),
        key: base.join(&raw.key),
        server_name,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_origin_is_verified_by_its_address_unless_named() {
        let raw: RawOriginTls = toml::from_str(
            r#"ca = "ca.pem"
cert = "o.pem"
key = "o.key""#,
        )
        .unwrap();
        let mut p = Problems::default();
        let listen = Some("10.0.0.7:8181".parse().unwrap());
        let tls = origin_tls(&mut p, 0, Some(&raw), Path::new("/etc/fg"), listen)
            .unwrap()
            .unwrap();
        assert_eq!(tls.server_name, "10.0.0.7");
        assert_eq!(tls.ca, Path::new("/etc/fg/ca.pem"));
        let named: RawOriginTls = toml::from_str(
            r#"ca = "ca.pem"
cert = "o.pem"
key = "o.key"
server_name = "bad name""#,
        )
        .unwrap();
        assert!(origin_tls(&mut p, 0, Some(&named), Path::new("/"), listen).is_none());
        assert_eq!(p.0[0].field, "origins[0].tls.server_name");
    }
}
