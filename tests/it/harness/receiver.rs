//! The operator's webhook receiver, as a test runs it: a real HTTP server on a free port that
//! checks every delivery's signature with the webhook secret, records what it accepted, and can
//! be taken down (answering 503), made to hold deliveries without answering, and brought back.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use sale::payments::OrderWebhook;
use sale::signed_body::{self, WEBHOOK_HEADER};

use super::{WEBHOOK_SECRET, ring};

#[derive(Default)]
struct Seen {
    up: AtomicBool,
    holding: AtomicBool,
    held: AtomicUsize,
    release: tokio::sync::Notify,
    accepted: Mutex<Vec<OrderWebhook>>,
    turned_away: AtomicUsize,
    bad_signatures: AtomicUsize,
}

/// A running receiver; it stops with the test's runtime.
pub struct Receiver {
    /// Its URL, for `[webhooks] url`.
    pub url: String,
    seen: Arc<Seen>,
}

async fn receive(State(seen): State<Arc<Seen>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get(WEBHOOK_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let now = sale::time::now_millis() / 1000;
    let ring = ring("w1", WEBHOOK_SECRET);
    if signed_body::verify(&ring, signature, &body, now, Duration::from_secs(300)).is_err() {
        seen.bad_signatures.fetch_add(1, Ordering::Relaxed);
        return StatusCode::UNAUTHORIZED;
    }
    if seen.holding.load(Ordering::Relaxed) {
        // Hold the delivery unanswered, as a stalled receiver does; if the sender goes away
        // meanwhile, this handler is dropped and nothing is recorded.
        seen.held.fetch_add(1, Ordering::Relaxed);
        seen.release.notified().await;
    }
    if !seen.up.load(Ordering::Relaxed) {
        seen.turned_away.fetch_add(1, Ordering::Relaxed);
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    match serde_json::from_slice::<OrderWebhook>(&body) {
        Ok(webhook) => {
            seen.accepted.lock().expect("not poisoned").push(webhook);
            StatusCode::OK
        }
        Err(_) => StatusCode::BAD_REQUEST,
    }
}

impl Receiver {
    /// Starts a receiver that is up (`up`) or down from the first delivery.
    pub async fn start(up: bool) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let addr = listener.local_addr().expect("bound");
        let seen = Arc::new(Seen::default());
        seen.up.store(up, Ordering::Relaxed);
        let app = axum::Router::new()
            .route("/hooks", axum::routing::post(receive))
            .with_state(seen.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            url: format!("http://{addr}/hooks"),
            seen,
        }
    }

    /// Takes the receiver down (503 to every delivery) or brings it back.
    pub fn set_up(&self, up: bool) {
        self.seen.up.store(up, Ordering::Relaxed);
    }

    /// Holds every delivery unanswered from now on, or (false) lets the held ones go on.
    pub fn set_holding(&self, holding: bool) {
        self.seen.holding.store(holding, Ordering::Relaxed);
        if !holding {
            self.seen.release.notify_waiters();
        }
    }

    /// Deliveries held so far.
    pub fn held(&self) -> usize {
        self.seen.held.load(Ordering::Relaxed)
    }

    /// Every delivery accepted so far, in arrival order.
    pub fn accepted(&self) -> Vec<OrderWebhook> {
        self.seen.accepted.lock().expect("not poisoned").clone()
    }

    /// Deliveries answered 503 while down.
    pub fn turned_away(&self) -> usize {
        self.seen.turned_away.load(Ordering::Relaxed)
    }

    /// Deliveries whose signature did not verify.
    pub fn bad_signatures(&self) -> usize {
        self.seen.bad_signatures.load(Ordering::Relaxed)
    }
}
