//! `[edge.tls]`: the edge's HTTPS listener, as written and validated into a [`TlsConfig`]. Only
//! the shape is checked here (addresses, values, which files are named); whether the files hold
//! a usable certificate is the edge's check (`edge::tls::certificates`), which check-config and
//! every reload also run.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::problems::Problems;
use super::values;

/// `[edge.tls]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTls {
    /// HTTPS listener, `host:port`; defaults to `127.0.0.1:8443`.
    pub listen: Option<String>,
    /// Certificate chains and their keys (PEM files, relative to the config file). The server
    /// name a client asks for (SNI) picks the certificate that covers it; the first is the
    /// default. Empty: the development certificate `flashgate up` makes under
    /// `{up.var_dir}/tls/` (only beside `edge.dev_sessions = true`).
    #[serde(default)]
    pub certificates: Vec<RawCertificate>,
    /// Offer HTTP/2 (ALPN `h2`) beside HTTP/1.1; default true.
    pub http2: Option<bool>,
    /// What the plain listener (`edge.listen`) does: `"redirect"` (default: pages answer 308 to
    /// the https URL, the API 403 `https_required`) or `"serve"` (it serves as over https:
    /// development, or a TLS-terminating proxy in front).
    pub plain: Option<String>,
    /// `Strict-Transport-Security` value for https answers, e.g. `"max-age=31536000"`; absent:
    /// none is sent.
    pub hsts: Option<String>,
    /// HTTP/2 limits.
    #[serde(default)]
    pub h2: RawH2,
}

/// One `{ cert, key }` pair.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCertificate {
    /// The certificate chain, leaf first (PEM).
    pub cert: String,
    /// The leaf's private key (PEM: PKCS#8, PKCS#1 or SEC1).
    pub key: String,
}

/// `[edge.tls.h2]`: what one HTTP/2 connection may ask of the edge.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawH2 {
    /// Streams a client may have open at once on one connection; 1 to 1000, default 100.
    pub max_concurrent_streams: Option<u32>,
    /// Flow-control window of each stream, in bytes; 65535 to 16777215, default 65535.
    pub stream_window_bytes: Option<u32>,
    /// Flow-control window of a whole connection, in bytes; 65535 to 2147483647, default 1 MiB.
    pub connection_window_bytes: Option<u32>,
    /// Streams a client may reset before the edge has even started on them (the rapid-reset
    /// attack, CVE-2023-44487); one more closes the connection. 1 to 1000, default 20.
    pub max_pending_resets: Option<u32>,
}

/// `[edge.tls]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// The HTTPS listener.
    pub listen: SocketAddr,
    /// Certificate files, the default first.
    pub certificates: Vec<CertificateFiles>,
    /// Whether the certificates are `flashgate up`'s development ones.
    pub development: bool,
    /// Whether ALPN offers `h2`.
    pub http2: bool,
    /// What the plain listener does.
    pub plain: PlainHttp,
    /// `Strict-Transport-Security` for https answers.
    pub hsts: Option<String>,
    /// HTTP/2 limits.
    pub h2: H2Limits,
}

/// One certificate chain and its key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateFiles {
    /// The chain, leaf first.
    pub cert: PathBuf,
    /// The leaf's key.
    pub key: PathBuf,
}

impl CertificateFiles {
    /// The development certificate `flashgate up` keeps under `var_dir`.
    pub fn development(var_dir: &Path) -> Self {
        let dir = var_dir.join("tls");
        Self {
            cert: dir.join("edge.pem"),
            key: dir.join("edge-key.pem"),
        }
    }
}

/// What the plain HTTP listener does once HTTPS is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlainHttp {
    /// Pages answer 308 to their https URL; the API answers 403 `https_required`.
    Redirect,
    /// Everything is served as over https (a TLS-terminating proxy in front, or development).
    Serve,
}

/// HTTP/2 limits per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct H2Limits {
    /// Concurrent streams.
    pub max_concurrent_streams: u32,
    /// Each stream's flow-control window.
    pub stream_window_bytes: u32,
    /// The connection's flow-control window.
    pub connection_window_bytes: u32,
    /// Resets of streams not yet started before the connection is closed.
    pub max_pending_resets: u32,
}

fn bounded(value: Option<u32>, default: u32, min: u32, max: u32) -> Result<u32, String> {
    match value.unwrap_or(default) {
        v if (min..=max).contains(&v) => Ok(v),
        v => Err(format!("must be between {min} and {max}, got {v}")),
    }
}

/// A header value a browser will take: visible ASCII and spaces, not empty.
fn header_value(text: &str) -> Result<String, String> {
    let visible = text.bytes().all(|b| b == b' ' || b.is_ascii_graphic());
    if text.trim().is_empty() || !visible || !text.contains("max-age=") {
        return Err(format!(
            "must be a Strict-Transport-Security value with max-age=, got {text:?}"
        ));
    }
    Ok(text.to_owned())
}

/// Validates `[edge.tls]`: `Some(None)` when absent, `None` on a problem (recorded in `p`).
pub(super) fn validate(
    p: &mut Problems,
    raw: Option<&RawTls>,
    base: &Path,
    var_dir: &Path,
    dev_sessions: bool,
) -> Option<Option<TlsConfig>> {
    let Some(raw) = raw else {
        return Some(None);
    };
    let listen = p.check(
        "edge.tls.listen",
        values::socket_addr(raw.listen.as_deref().unwrap_or("127.0.0.1:8443")),
    );
    let development = raw.certificates.is_empty();
    if development && !dev_sessions {
        p.check::<()>(
            "edge.tls.certificates",
            Err(
                "lists none; only a development config (edge.dev_sessions = true) may use the \
                 certificate `flashgate up` makes"
                    .into(),
            ),
        );
    }
    let certificates = if development {
        vec![CertificateFiles::development(var_dir)]
    } else {
        raw.certificates
            .iter()
            .map(|c| CertificateFiles {
                cert: base.join(&c.cert),
                key: base.join(&c.key),
            })
            .collect()
    };
    let plain = p.check(
        "edge.tls.plain",
        // Sessions must not travel in the clear unless the operator says so.
        match raw.plain.as_deref().unwrap_or("redirect") {
            "redirect" => Ok(PlainHttp::Redirect),
            "serve" => Ok(PlainHttp::Serve),
            other => Err(format!("must be \"redirect\" or \"serve\", got {other:?}")),
        },
    );
    let hsts = match raw.hsts.as_deref() {
        Some(text) => p.check("edge.tls.hsts", header_value(text)).map(Some),
        None => Some(None),
    };
    let h2 = &raw.h2;
    let streams = p.check(
        "edge.tls.h2.max_concurrent_streams",
        bounded(h2.max_concurrent_streams, 100, 1, 1000),
    );
    let stream_window = p.check(
        "edge.tls.h2.stream_window_bytes",
        bounded(h2.stream_window_bytes, 65_535, 65_535, 16_777_215),
    );
    let connection_window = p.check(
        "edge.tls.h2.connection_window_bytes",
        bounded(h2.connection_window_bytes, 1 << 20, 65_535, i32::MAX as u32),
    );
    let resets = p.check(
        "edge.tls.h2.max_pending_resets",
        bounded(h2.max_pending_resets, 20, 1, 1000),
    );
    Some(Some(TlsConfig {
        listen: listen?,
        certificates,
        development,
        http2: raw.http2.unwrap_or(true),
        plain: plain?,
        hsts: hsts?,
        h2: H2Limits {
            max_concurrent_streams: streams?,
            stream_window_bytes: stream_window?,
            connection_window_bytes: connection_window?,
            max_pending_resets: resets?,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, dev_sessions: bool) -> Result<Option<TlsConfig>, Vec<String>> {
        let raw: RawTls = toml::from_str(text).expect("valid TOML");
        let mut p = Problems::default();
        let validated = validate(
            &mut p,
            Some(&raw),
            Path::new("/etc/fg"),
            Path::new("/var/fg"),
            dev_sessions,
        );
        match validated {
            Some(config) if p.0.is_empty() => Ok(config),
            _ => Err(p.0.iter().map(|x| x.field.clone()).collect()),
        }
    }

    #[test]
    fn defaults_and_relative_files() {
        let config = check(
            r#"certificates = [{ cert = "a.pem", key = "a.key" }]"#,
            false,
        )
        .unwrap()
        .unwrap();
        assert_eq!(config.listen, "127.0.0.1:8443".parse().unwrap());
        assert_eq!(config.certificates[0].cert, Path::new("/etc/fg/a.pem"));
        assert!(config.http2 && !config.development);
        assert_eq!(config.plain, PlainHttp::Redirect);
        assert_eq!(config.hsts, None);
        assert_eq!(config.h2.max_concurrent_streams, 100);
    }

    #[test]
    fn no_certificates_means_the_development_one_in_development_only() {
        let config = check("", true).unwrap().unwrap();
        assert!(config.development);
        assert_eq!(
            config.certificates[0].cert,
            Path::new("/var/fg/tls/edge.pem")
        );
        assert_eq!(check("", false), Err(vec!["edge.tls.certificates".into()]));
    }

    #[test]
    fn each_bad_value_is_named() {
        let cert = r#"certificates = [{ cert = "a.pem", key = "a.key" }]"#;
        for (line, field) in [
            (r#"listen = "nowhere""#, "edge.tls.listen"),
            (r#"plain = "upgrade""#, "edge.tls.plain"),
            (r#"hsts = "forever""#, "edge.tls.hsts"),
            ("hsts = \"max-age=1\\n\"", "edge.tls.hsts"),
            (
                "h2 = { max_concurrent_streams = 0 }",
                "edge.tls.h2.max_concurrent_streams",
            ),
            (
                "h2 = { stream_window_bytes = 100 }",
                "edge.tls.h2.stream_window_bytes",
            ),
            (
                "h2 = { connection_window_bytes = 4294967295 }",
                "edge.tls.h2.connection_window_bytes",
            ),
            (
                "h2 = { max_pending_resets = 0 }",
                "edge.tls.h2.max_pending_resets",
            ),
        ] {
            assert_eq!(
                check(&format!("{cert}\n{line}"), false),
                Err(vec![field.to_owned()]),
                "{line}"
            );
        }
    }
}
