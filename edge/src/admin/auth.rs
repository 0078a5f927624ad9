//! Who may use the admin listener. Scripts and Prometheus send the admin token as a bearer
//! token; a browser cannot put a header on a page load, so the dashboard trades the token once
//! (the sign-in form) for an operator-session cookie. A cookie is sent by the browser on its
//! own, so requests that change something must also carry the dashboard's header: a forged
//! cross-site request cannot add a custom header without a CORS preflight, which this listener
//! never grants. Ports do not separate sites, so `SameSite` alone would not keep the public page
//! on the same host out. Addresses that keep presenting wrong credentials are locked out for a
//! while (`lockout`).

use std::net::{IpAddr, SocketAddr};
use tokio::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sale::Refusal;
use sale::key_ring::Secret;
use sale::operator_session;

use sale::refusal_response::locked_out;

use super::Admin;

/// Where a signed-out browser is sent.
pub const SIGN_IN_PATH: &str = "/admin/sign-in";
use sale::http_credentials::{bearer, cookie};

/// The header the dashboard's own script (`dashboard.js`) puts on every request that changes
/// something.
const DASHBOARD_HEADER: &str = "x-flashgate-dashboard";

/// How a request proved it comes from an operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// The admin token as `Authorization: Bearer`.
    Bearer,
    /// A valid operator-session cookie.
    Cookie,
}

/// The credential `headers` carry for `admin_token` at `now`, if any holds.
pub fn credential(headers: &HeaderMap, admin_token: &Secret, now: u64) -> Option<Credential> {
    if bearer(headers).is_some_and(|token| admin_token.matches(token.as_bytes())) {
        return Some(Credential::Bearer);
    }
    cookie(headers, operator_session::COOKIE)
        .filter(|session| operator_session::verify(admin_token, session, now))
        .map(|_| Credential::Cookie)
}

/// The `Set-Cookie` value signing a browser in.
pub fn sign_in_cookie(admin_token: &Secret, now: u64) -> String {
    format!(
        "{}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        operator_session::COOKIE,
        operator_session::mint(admin_token, now),
        operator_session::TTL_MILLIS / 1000
    )
}

/// The `Set-Cookie` value signing a browser out.
pub fn sign_out_cookie() -> String {
    format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        operator_session::COOKIE
    )
}

fn admin_token(admin: &Admin) -> Secret {
    admin.live.snapshot().config.secrets.admin_token.clone()
}

/// What authenticating a request found.
enum Verdict {
    /// A valid credential.
    Operator(Credential),
    /// No credential at all: a browser that has not signed in yet.
    SignedOut,
    /// A wrong credential, already counted against its client.
    Wrong,
    /// The client is locked out: this answer, with its Retry-After.
    LockedOut(Response),
}

/// Every path that accepts the admin credential goes through here: a locked-out client is
/// refused before its credential is even checked (so a lucky guess does not get through), and a
/// wrong credential counts against its client.
fn authenticate(admin: &Admin, request: &Request) -> Verdict {
    let ip = client_ip(admin, request);
    if let Some(wait) = admin.lockout.locked(ip, Instant::now()) {
        return Verdict::LockedOut(locked_out(wait));
    }
    let now = sale::time::now_millis();
    match credential(request.headers(), &admin_token(admin), now) {
        Some(credential) => Verdict::Operator(credential),
        None if presents_credential(request.headers()) => {
            tracing::warn!(%ip, "wrong admin credential");
            admin.lockout.failed(ip, Instant::now());
            Verdict::Wrong
        }
        None => Verdict::SignedOut,
    }
}

/// Middleware for the admin API: a bearer token, or a cookie plus the dashboard's header on
/// anything but a read.
pub async fn require_operator(
    State(admin): State<Admin>,
    request: Request,
    next: Next,
) -> Response {
    match authenticate(&admin, &request) {
        Verdict::Operator(Credential::Bearer) => next.run(request).await,
        Verdict::Operator(Credential::Cookie)
            if request.method() == Method::GET
                || request.headers().contains_key(DASHBOARD_HEADER) =>
        {
            next.run(request).await
        }
        Verdict::Operator(Credential::Cookie) => Refusal::CrossSite.into_response(),
        Verdict::SignedOut | Verdict::Wrong => Refusal::BadAdminToken.into_response(),
        Verdict::LockedOut(response) => response,
    }
}

/// The client a request came from: behind a trusted proxy (a TLS terminator in front of the
/// admin listener) the address it forwards for, as on the public listener, so one attacker
/// cannot lock every operator behind that proxy out.
pub fn client_ip(admin: &Admin, request: &Request) -> IpAddr {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([0, 0, 0, 0]), |info| info.0.ip());
    let trusted = &admin.live.snapshot().config.edge.trusted_proxies;
    crate::client_ip::resolve(peer, request.headers(), trusted)
}

/// Whether the request guesses the admin token: a bearer credential that was wrong. A sign-in
/// cookie that fails to verify is no guess (forging one is as hard as the token itself) but a
/// stale session, such as every open dashboard holds after the token is rotated: counting those
/// would lock the operators out; such a browser is simply signed out.
fn presents_credential(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION)
}

/// Middleware for the dashboard's pages: a signed-out browser is sent to the sign-in form
/// rather than shown a JSON refusal; a wrong credential counts like anywhere else.
pub async fn require_signed_in(
    State(admin): State<Admin>,
    request: Request,
    next: Next,
) -> Response {
    match authenticate(&admin, &request) {
        Verdict::Operator(_) => next.run(request).await,
        Verdict::SignedOut | Verdict::Wrong => Redirect::to(SIGN_IN_PATH).into_response(),
        Verdict::LockedOut(response) => response,
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn token() -> Secret {
        Secret::parse("admin-token-0123456789").unwrap()
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_bearer_token_is_a_credential() {
        let good = headers(&[(header::AUTHORIZATION, "Bearer admin-token-0123456789")]);
        assert_eq!(credential(&good, &token(), 1), Some(Credential::Bearer));
        let bad = headers(&[(header::AUTHORIZATION, "Bearer admin-token-012345678")]);
        assert_eq!(credential(&bad, &token(), 1), None);
        assert_eq!(credential(&HeaderMap::new(), &token(), 1), None);
    }

    #[test]
    fn the_sign_in_cookie_is_a_credential_among_other_cookies() {
        let set = sign_in_cookie(&token(), 1_000);
        let pair = set.split(';').next().unwrap();
        let sent = headers(&[(
            header::COOKIE,
            &format!("fg_session=abc; {pair}; theme=dark"),
        )]);
        assert_eq!(credential(&sent, &token(), 2_000), Some(Credential::Cookie));
        let other_token = Secret::parse("another-token-0123456789").unwrap();
        assert_eq!(credential(&sent, &other_token, 2_000), None);
    }

    #[test]
    fn a_signed_out_cookie_is_no_credential() {
        let cleared = sign_out_cookie();
        let pair = cleared.split(';').next().unwrap();
        let sent = headers(&[(header::COOKIE, pair)]);
        assert_eq!(credential(&sent, &token(), 1), None);
    }
}
