//! HTTPS to a test stack: the test CA and the certificates it issues into the stack's folder,
//! clients that trust that CA (and nothing else: verification is never turned off), and a raw
//! TLS connection for looking at which certificate a handshake got.

use std::path::Path;
use std::sync::Arc;

use flashgate::dev_tls::DevCa;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use x509_parser::prelude::{FromDer, X509Certificate};

use super::{Stack, certificate_files};

/// Makes the test CA and one certificate per entry of `names` under `dir/tls/`, and with
/// `origin_tls` the origins' certificate (`origin.pem`, `origin-key.pem`, `origin-ca.pem`).
pub fn issue_certificates(dir: &Path, names: &[&[&str]], origin_tls: bool) -> DevCa {
    let ca = DevCa::generate("flashgate test CA").expect("the test CA");
    std::fs::create_dir_all(dir.join("tls")).expect("tls folder");
    for (i, names) in names.iter().enumerate() {
        write_issued(dir, i, &ca, names);
    }
    if origin_tls {
        let issued = ca.issue(&["127.0.0.1"]).expect("the origins' certificate");
        std::fs::write(dir.join("tls/origin.pem"), issued.cert_pem).expect("written");
        std::fs::write(dir.join("tls/origin-key.pem"), issued.key_pem).expect("written");
        std::fs::write(dir.join("tls/origin-ca.pem"), ca.cert_pem()).expect("written");
    }
    ca
}

fn write_issued(dir: &Path, i: usize, ca: &DevCa, names: &[&str]) {
    let issued = ca.issue(names).expect("a certificate");
    let (cert, key) = certificate_files(i);
    std::fs::write(dir.join(cert), issued.cert_pem).expect("certificate written");
    std::fs::write(dir.join(key), issued.key_pem).expect("key written");
}

/// The serial number (hex) of a DER certificate.
pub fn serial_of(der: &[u8]) -> String {
    let (_, cert) = X509Certificate::from_der(der).expect("an X.509 certificate");
    cert.raw_serial_as_string().replace(':', "")
}

/// HTTP versions a test client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// HTTP/1.1 over TLS.
    H1,
    /// HTTP/2 over TLS (ALPN h2).
    H2,
}

impl Stack {
    fn test_ca(&self) -> &DevCa {
        self.ca
            .as_ref()
            .expect("a stack with tls_names or origin_tls")
    }

    /// `https://127.0.0.1:PORT{path}` on the https listener.
    pub fn https_url(&self, path: &str) -> String {
        format!(
            "https://{}{path}",
            self.tls_addr.expect("an https listener")
        )
    }

    /// `POST path` on the https listener with `client`, signed in with `session`.
    pub async fn https_post(
        &self,
        client: &reqwest::Client,
        path: &str,
        session: &str,
    ) -> reqwest::Response {
        client
            .post(self.https_url(path))
            .bearer_auth(session)
            .send()
            .await
            .expect("the edge answers over https")
    }

    /// A client that trusts only the test CA and speaks `protocol`.
    pub fn https_client(&self, protocol: Protocol) -> reqwest::Client {
        let ca = reqwest::Certificate::from_pem(self.test_ca().cert_pem().as_bytes())
            .expect("the CA certificate");
        let builder = reqwest::Client::builder()
            .add_root_certificate(ca)
            .timeout(std::time::Duration::from_secs(20));
        match protocol {
            Protocol::H1 => builder.http1_only(),
            Protocol::H2 => builder,
        }
        .build()
        .expect("client")
    }

    /// The CA's rustls client config, offering `alpn`.
    pub fn tls_client_config(&self, alpn: &[&[u8]]) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        let ca = CertificateDer::from_pem_slice(self.test_ca().cert_pem().as_bytes())
            .expect("a PEM certificate");
        roots.add(ca).expect("the CA is a root");
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Arc::new(config)
    }

    /// A TLS connection to the https listener asking for `server_name` (an IP address sends
    /// no SNI), verified against the test CA; and the serial of the certificate it got.
    pub async fn tls_connect(
        &self,
        server_name: &str,
        alpn: &[&[u8]],
    ) -> std::io::Result<(TlsStream<TcpStream>, String)> {
        let tcp = TcpStream::connect(self.tls_addr.expect("an https listener")).await?;
        let name = ServerName::try_from(server_name.to_owned()).expect("a server name");
        let stream = TlsConnector::from(self.tls_client_config(alpn))
            .connect(name, tcp)
            .await?;
        let serial = {
            let (_, session) = stream.get_ref();
            let chain = session.peer_certificates().expect("a certificate");
            serial_of(&chain[0])
        };
        Ok((stream, serial))
    }

    /// Issues certificate `i` again for `names` (a new serial), replacing its files.
    pub fn reissue_certificate(&self, i: usize, names: &[&str]) {
        write_issued(self.dir.path(), i, self.test_ca(), names);
    }

    /// Where a file of the stack's folder is.
    pub fn path(&self, relative: &str) -> std::path::PathBuf {
        self.dir.path().join(relative)
    }

    /// The test CA, for issuing certificates a test breaks on purpose.
    pub fn ca(&self) -> &DevCa {
        self.test_ca()
    }
}
