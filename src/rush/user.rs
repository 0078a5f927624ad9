//! One simulated buyer, following the real flow a page drives: poll the event until the sale
//! opens (stopping if it is sold out or over), fetch a purchase token, buy with the returned URL,
//! then pay, cancel, or walk away and let the reservation expire.

use std::time::Duration;

use tokio::time::Instant;

use rand::Rng;
use sale::UserId;
use sale::key_ring::KeyRing;

use super::stats::Recorder;

/// What every buyer shares.
#[derive(Debug)]
pub struct Flow {
    /// HTTP client with keep-alive, like a browser.
    pub client: reqwest::Client,
    /// `http://host:port` of each edge; buyer `i` uses edge `i mod n`, as an L4 balancer would
    /// keep one client on one edge.
    pub edges: Vec<String>,
    /// The event id.
    pub event: String,
    /// To mint sessions, as the site's login service would.
    pub session_keys: KeyRing,
    /// Share of buyers who pay; half of the rest cancel, half let the reservation expire.
    pub pay_share: f64,
    /// How payments through a provider go wrong.
    pub payments: super::paying::PaymentMix,
    /// How often a waiting page polls the event.
    pub poll: Duration,
    /// When the rush started, for the timeline.
    pub started: Instant,
    /// What each buyer asks for (types, code).
    pub chooser: super::choosing::Chooser,
}

/// A response's outcome code: the status for successes, the contract `code` for refusals.
pub async fn outcome(
    response: reqwest::Result<reqwest::Response>,
) -> (String, Option<serde_json::Value>) {
    match response {
        Ok(response) => {
            let status = response.status();
            let body: Option<serde_json::Value> = response.json().await.ok();
            let code = if status.is_success() {
                status.as_u16().to_string()
            } else {
                body.as_ref()
                    .and_then(|b| b["code"].as_str())
                    .map_or_else(|| status.as_u16().to_string(), str::to_owned)
            };
            (code, body)
        }
        Err(_) => ("io_error".to_owned(), None),
    }
}

impl Flow {
    /// Seconds since the rush started.
    pub fn second(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    /// Runs buyer `index`, whose first request was meant to start at `intended` (open model:
    /// lateness counts as latency, so a stalled system cannot hide it).
    pub async fn buyer(&self, index: u64, intended: Instant, recorder: &mut Recorder) {
        // Each buyer is its own client address, as the edge sees it behind a trusted proxy.
        let Some((user, session, address)) = self.identity(index) else {
            return;
        };
        let mut since = intended;
        let base = self.edge(index);

        loop {
            let response = self
                .client
                .get(format!("{}/api/events/{}", base, self.event))
                .header("x-forwarded-for", &address)
                .send()
                .await;
            let (code, body) = outcome(response).await;
            recorder.record("view", &code, micros(since), self.second());
            let state = body
                .as_ref()
                .and_then(|b| b["state"].as_str().map(str::to_owned));
            match state.as_deref() {
                Some("on_sale") => break,
                Some("upcoming") => {
                    tokio::time::sleep(self.poll).await;
                    since = Instant::now();
                }
                _ => return,
            }
        }

        self.purchase(base, &user, &session, &address, None, recorder)
            .await;
    }

    /// The session and client address of buyer `index`, as the site and a balancer would give.
    pub fn identity(&self, index: u64) -> Option<(UserId, String, String)> {
        let user = UserId::parse(&format!("rush-{index}")).ok()?;
        let expires_at = sale::time::now_millis() + 3_600_000;
        let session = sale::session::mint(&self.session_keys, &user, expires_at);
        let address = format!(
            "10.{}.{}.{}",
            (index >> 16) & 255,
            (index >> 8) & 255,
            index & 255
        );
        Some((user, session, address))
    }

    /// The edge buyer `index` talks to.
    pub fn edge(&self, index: u64) -> &str {
        &self.edges[(index % self.edges.len() as u64) as usize]
    }

    /// Token, buy, then pay, cancel or walk away; with the waiting room, the token request
    /// carries the buyer's queue `ticket`. Returns whether an order was accepted.
    pub async fn purchase(
        &self,
        base: &str,
        user: &UserId,
        session: &str,
        address: &str,
        ticket: Option<&str>,
        recorder: &mut Recorder,
    ) -> bool {
        let start = Instant::now();
        let mut request = self
            .client
            .post(format!("{}/api/events/{}/token", base, self.event))
            .header("x-forwarded-for", address)
            .bearer_auth(session);
        if let Some(ticket) = ticket {
            request = request.header("x-fg-queue", ticket);
        }
        let response = request.send().await;
        let (code, body) = outcome(response).await;
        recorder.record("token", &code, micros(start), self.second());
        let Some(buy_url) = body
            .as_ref()
            .and_then(|b| b["buy_url"].as_str())
            .filter(|_| code == "200")
        else {
            return false;
        };

        let start = Instant::now();
        let choice = self.chooser.choose(user.as_str(), sale::time::now_millis());
        let mut request = self
            .client
            .post(format!("{}{buy_url}", base))
            .header("x-forwarded-for", address)
            .bearer_auth(session);
        if let Some(body) = &choice.body {
            request = request.json(body);
        }
        let (code, body) = outcome(request.send().await).await;
        let step = if choice.guessed {
            "buy_guessing"
        } else if choice.picked {
            super::seating::PICK_STEP
        } else {
            "buy"
        };
        recorder.record(step, &code, micros(start), self.second());
        let Some(order) = body
            .as_ref()
            .and_then(|b| b["order_id"].as_str())
            .filter(|_| code == "201")
        else {
            return false;
        };
        recorder.orders.push(order.to_owned());
        let pay_by = body
            .as_ref()
            .and_then(|b| b["pay_by"].as_str())
            .and_then(|t| sale::time::parse_rfc3339(t).ok());

        let roll: f64 = rand::rng().random();
        let action = if roll < self.pay_share {
            "pay"
        } else if roll < self.pay_share + (1.0 - self.pay_share) / 2.0 {
            "cancel"
        } else {
            return true;
        };
        let start = Instant::now();
        let response = self
            .client
            .post(format!("{}/api/orders/{order}/{action}", base))
            .header("x-forwarded-for", address)
            .bearer_auth(session)
            .send()
            .await;
        let (code, answer) = outcome(response).await;
        recorder.record(
            "settle",
            &format!("{action}:{code}"),
            micros(start),
            self.second(),
        );
        // A provider, not the buyer, confirms the payment: off to its checkout.
        if code == "202"
            && let Some(checkout) = answer
        {
            self.pay_at_provider(base, address, &checkout, pay_by, recorder)
                .await;
        }
        true
    }
}

/// Microseconds since `since`.
pub fn micros(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_micros()).unwrap_or(u64::MAX)
}
