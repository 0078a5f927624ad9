//! The operator dashboard's pages on the admin listener: the sign-in form, the dashboard itself
//! and its script and style. They are compiled into the binary, so the dashboard works with no
//! static folder and no network, and nothing on the public listener can replace it. The data
//! comes from the admin API (`/admin/status`, `/metrics`), which the page polls.

use tokio::time::Instant;

use axum::extract::{FromRequest, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

use super::Admin;
use super::auth;

/// The dashboard page.
pub const DASHBOARD_PATH: &str = "/admin/dashboard";

const DASHBOARD_HTML: &str = include_str!("../../dashboard/dashboard.html");
const DASHBOARD_JS: &str = include_str!("../../dashboard/dashboard.js");
const DASHBOARD_CSS: &str = include_str!("../../dashboard/dashboard.css");
const SIGN_IN_HTML: &str = include_str!("../../dashboard/sign-in.html");
/// Where the sign-in form shows why the last attempt failed.
const ERROR_SLOT: &str = "<!-- error -->";

/// What the sign-in form posts.
#[derive(Debug, Deserialize)]
pub struct SignIn {
    /// The admin token, as typed.
    token: String,
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn page(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            // Only this listener's own script and style run, and no other site may frame the
            // page to trick an operator into pressing its buttons.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; frame-ancestors 'none'; form-action 'self'",
            ),
        ],
        body,
    )
        .into_response()
}

async fn sign_in_form() -> Response {
    page(StatusCode::OK, SIGN_IN_HTML.to_owned())
}

/// The sign-in form again, with `message` as its alert.
fn form_with(status: StatusCode, message: &str) -> Response {
    let alert = format!(r#"<p class="error" role="alert">{message}</p>"#);
    page(status, SIGN_IN_HTML.replace(ERROR_SLOT, &alert))
}

async fn sign_in(State(admin): State<Admin>, request: Request) -> Response {
    let ip = auth::client_ip(&admin, &request);
    if let Some(wait) = admin.lockout.locked(ip, Instant::now()) {
        let mut form = form_with(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("Too many wrong tokens from this address; try again in {wait} s."),
        );
        sale::refusal_response::with_retry_after(&mut form, wait);
        return form;
    }
    let Ok(Form(form)) = Form::<SignIn>::from_request(request, &()).await else {
        return form_with(StatusCode::BAD_REQUEST, "Type the admin token.");
    };
    let admin_token = admin.live.snapshot().config.secrets.admin_token.clone();
    if admin_token.matches(form.token.trim().as_bytes()) {
        let cookie = auth::sign_in_cookie(&admin_token, sale::time::now_millis());
        tracing::info!(%ip, "operator signed in to the dashboard");
        ([(header::SET_COOKIE, cookie)], Redirect::to(DASHBOARD_PATH)).into_response()
    } else {
        tracing::warn!(%ip, "dashboard sign-in with a wrong admin token");
        admin.lockout.failed(ip, Instant::now());
        form_with(StatusCode::UNAUTHORIZED, "That is not the admin token.")
    }
}

async fn sign_out() -> Response {
    (
        [(header::SET_COOKIE, auth::sign_out_cookie())],
        Redirect::to(auth::SIGN_IN_PATH),
    )
        .into_response()
}

/// Routes anyone may load: the sign-in form and the style it shares with the dashboard.
pub fn public_routes() -> Router<Admin> {
    Router::new()
        .route("/", get(|| async { Redirect::to(DASHBOARD_PATH) }))
        .route(auth::SIGN_IN_PATH, get(sign_in_form).post(sign_in))
        .route("/admin/sign-out", post(sign_out))
        .route(
            "/admin/dashboard.css",
            get(|| async { asset("text/css; charset=utf-8", DASHBOARD_CSS) }),
        )
}

/// Routes for signed-in operators: the dashboard and its script.
pub fn signed_in_routes() -> Router<Admin> {
    Router::new()
        .route(
            DASHBOARD_PATH,
            get(|| async { page(StatusCode::OK, DASHBOARD_HTML.to_owned()) }),
        )
        .route(
            "/admin/dashboard.js",
            get(|| async { asset("text/javascript; charset=utf-8", DASHBOARD_JS) }),
        )
}
