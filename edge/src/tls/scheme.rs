//! Whether a request came over HTTPS, and what that changes. Over TLS to this edge, or from a
//! trusted proxy that says `X-Forwarded-Proto: https`, a request is secure: its answers carry
//! HSTS (when configured) and its cookies are `Secure`. A request on the plain listener when
//! `[edge.tls] plain = "redirect"` gets no further: a page is sent to its https URL (308, which
//! keeps the method), an API call is refused 403 `https_required` (a client that silently
//! followed a redirect could have sent its session in the clear already, and should learn).

use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;
use pingora::http::RequestHeader;
use sale::Refusal;
use sale::config::{Network, PlainHttp, TlsConfig};

use crate::respond::Answer;
use crate::routes::Route;

/// Whether a request is secure: it arrived over TLS, or the trusted proxy in front says its
/// client used https (the last `X-Forwarded-Proto` value: the one that proxy set or appended;
/// anything before it may come from the client).
pub fn is_secure(tls: bool, peer: IpAddr, headers: &HeaderMap, trusted: &[Network]) -> bool {
    if tls {
        return true;
    }
    crate::client_ip::is_trusted(peer, trusted)
        && headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .is_some_and(|proto| proto.trim().eq_ignore_ascii_case("https"))
}

/// The answer to an insecure request where the plain listener only redirects; `None` where it
/// serves.
pub fn plain_answer(tls: &TlsConfig, route: &Route<'_>, req: &RequestHeader) -> Option<Answer> {
    if tls.plain == PlainHttp::Serve {
        return None;
    }
    if route.is_api() {
        return Some(Answer::Refuse(Refusal::HttpsRequired, Vec::new()));
    }
    let location = https_url(tls.listen, req);
    Some(Answer::Raw {
        status: 308,
        content_type: "text/plain; charset=utf-8",
        body: bytes::Bytes::from_static(b"This site is served over HTTPS.\n"),
        headers: vec![("location", location)],
    })
}

/// The request's URL on the https listener: the host the client asked for (without its port,
/// and only if it looks like a host name), the listener's port unless it is 443.
fn https_url(listen: SocketAddr, req: &RequestHeader) -> String {
    let asked = req
        .headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri.authority().map(|a| a.as_str()))
        .and_then(host_without_port);
    let host = match asked {
        Some(host) => host.to_owned(),
        None => match listen.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        },
    };
    let port = match listen.port() {
        443 => String::new(),
        port => format!(":{port}"),
    };
    let path = req.uri.path_and_query().map_or("/", |p| p.as_str());
    format!("https://{host}{port}{path}")
}

/// `host` of `host[:port]` (IPv6 literals in brackets), if it is made only of the characters a
/// host name or address may have; anything else is not echoed into a Location.
fn host_without_port(authority: &str) -> Option<&str> {
    let host = if authority.starts_with('[') {
        &authority[..=authority.find(']')?]
    } else {
        authority.split(':').next()?
    };
    let plausible = !host.is_empty()
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    plausible.then_some(host)
}

/// Adds what a secure answer carries: HSTS, and `Secure` on every cookie it sets.
pub fn secure_headers(headers: &mut Vec<(&'static str, String)>, hsts: Option<&str>) {
    for (name, value) in headers.iter_mut() {
        if name.eq_ignore_ascii_case("set-cookie") && !value.contains("; Secure") {
            value.push_str("; Secure");
        }
    }
    if let Some(hsts) = hsts {
        headers.push(("strict-transport-security", hsts.to_owned()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str, host: Option<&str>) -> RequestHeader {
        let mut req = RequestHeader::build("GET", path.as_bytes(), None).unwrap();
        if let Some(host) = host {
            req.insert_header("host", host).unwrap();
        }
        req
    }

    #[test]
    fn pages_go_to_the_same_host_on_the_https_port() {
        let listen: SocketAddr = "0.0.0.0:8443".parse().unwrap();
        let url = |path, host| https_url(listen, &get(path, host));
        assert_eq!(
            url("/events/demo?x=1", Some("tickets.example:8080")),
            "https://tickets.example:8443/events/demo?x=1"
        );
        assert_eq!(
            url("/", Some("[::1]:8080")),
            "https://[::1]:8443/",
            "an IPv6 literal keeps its brackets"
        );
        assert_eq!(
            url("/", Some("evil.example/x@y")),
            "https://0.0.0.0:8443/",
            "a host with other characters is not echoed"
        );
        let standard: SocketAddr = "0.0.0.0:443".parse().unwrap();
        assert_eq!(
            https_url(standard, &get("/", Some("tickets.example"))),
            "https://tickets.example/"
        );
    }

    #[test]
    fn forwarded_proto_counts_only_from_a_trusted_proxy() {
        let trusted = [Network::parse("10.0.0.0/8").unwrap()];
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-proto", "https".parse().unwrap());
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "198.51.100.7".parse().unwrap();
        assert!(is_secure(false, proxy, &headers, &trusted));
        assert!(!is_secure(false, stranger, &headers, &trusted));
        assert!(is_secure(true, stranger, &HeaderMap::new(), &trusted));
        assert!(!is_secure(false, proxy, &HeaderMap::new(), &trusted));
        let mut appended = HeaderMap::new();
        appended.insert("x-forwarded-proto", "https, http".parse().unwrap());
        assert!(
            !is_secure(false, proxy, &appended, &trusted),
            "the proxy's own value is the last"
        );
    }

    #[test]
    fn secure_answers_mark_cookies_and_carry_hsts() {
        let mut headers = vec![("set-cookie", "fg_session=x; Path=/; HttpOnly".to_owned())];
        secure_headers(&mut headers, Some("max-age=60"));
        assert_eq!(headers[0].1, "fg_session=x; Path=/; HttpOnly; Secure");
        assert_eq!(
            headers[1],
            ("strict-transport-security", "max-age=60".to_owned())
        );
    }
}
