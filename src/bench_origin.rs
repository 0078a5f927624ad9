//! `flashgate bench-origin`: drives signed buys straight at one origin, as the edge would after
//! admitting them, to measure the origin's buy path on its own (HTTP, signature, local stock,
//! the reservation script) for comparison with `redis-benchmark` running the same script.
//!
//! Buyers are random ids from a keyspace, like `redis-benchmark -r`, so some repeat and are
//! refused `already_bought`: the same mix the reference run gets.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use rand::Rng;
use sale::config::Environment;
use sale::edge_signature::{self, Claims};
use sale::{Config, UserId};

/// What to run.
#[derive(Debug, Clone)]
pub struct BenchOptions {
    /// The origin to load.
    pub origin: SocketAddr,
    /// The event to buy into.
    pub event: String,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// Requests in total.
    pub requests: u64,
    /// Distinct buyer ids to draw from.
    pub keyspace: u64,
    /// The buy body, e.g. a basket `{"items": [...]}`; none: one seat of the only type.
    pub body: Option<String>,
    /// Each buy picks one random seat of the event's venue (`{"seats": [id]}`).
    pub pick: bool,
}

/// Per-worker tallies, merged at the end.
struct Tally {
    latency: Histogram<u64>,
    statuses: BTreeMap<u16, u64>,
}

async fn worker(
    client: reqwest::Client,
    config: Arc<Config>,
    options: Arc<BenchOptions>,
    next: Arc<AtomicU64>,
) -> Result<Tally> {
    let mut tally = Tally {
        latency: Histogram::new_with_bounds(1, 60_000_000, 3)?,
        statuses: BTreeMap::new(),
    };
    let path = sale::wire::buy_path(&options.event);
    let url = format!("http://{}{path}", options.origin);
    let seats = match config.event(&options.event).and_then(|e| e.venue.clone()) {
        Some(map) => Some(map),
        None if options.pick => anyhow::bail!("--pick needs a seated event"),
        None => None,
    };
    while next.fetch_add(1, Ordering::Relaxed) < options.requests {
        let (user, nonce, seat) = {
            let mut rng = rand::rng();
            let seat = seats
                .as_deref()
                .filter(|_| options.pick)
                .and_then(|map| map.seat_id(rng.random_range(0..map.len() as u32)));
            (
                rng.random_range(0..options.keyspace),
                rng.random::<u128>(),
                seat.map(|id| serde_json::json!({ "seats": [id] }).to_string()),
            )
        };
        let claims = Claims {
            user: Some(UserId::parse(&format!("u{user}"))?),
            nonce: Some(format!("{nonce:032x}")),
            signed_at: sale::time::now_millis(),
        };
        let mut request = client.post(&url);
        if let Some(body) = seat.or_else(|| options.body.clone()) {
            request = request
                .header("content-type", "application/json")
                .body(body);
        }
        for (name, value) in
            edge_signature::sign(&config.secrets.internal_keys, "POST", &path, &claims)
        {
            request = request.header(name, value);
        }
        let started = Instant::now();
        let response = request.send().await.context("origin request failed")?;
        let status = response.status().as_u16();
        response.bytes().await.context("origin response body")?;
        tally
            .latency
            .saturating_record(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
        *tally.statuses.entry(status).or_default() += 1;
    }
    Ok(tally)
}

/// Runs the load and prints one summary line per figure, `key: value`, for scripts to read.
pub fn run(config_path: &Path, options: BenchOptions) -> Result<()> {
    let config = Arc::new(Config::load(config_path, &Environment::from_process())?);
    let runtime = tokio::runtime::Runtime::new()?;
    let (elapsed, tally) = runtime.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(options.concurrency)
            .timeout(Duration::from_secs(10))
            .build()?;
        let options = Arc::new(options.clone());
        let next = Arc::new(AtomicU64::new(0));
        let started = Instant::now();
        let workers: Vec<_> = (0..options.concurrency)
            .map(|_| {
                tokio::spawn(worker(
                    client.clone(),
                    config.clone(),
                    options.clone(),
                    next.clone(),
                ))
            })
            .collect();
        let mut total = Tally {
            latency: Histogram::new_with_bounds(1, 60_000_000, 3)?,
            statuses: BTreeMap::new(),
        };
        for handle in workers {
            let tally = handle.await??;
            total.latency.add(&tally.latency)?;
            for (status, count) in tally.statuses {
                *total.statuses.entry(status).or_default() += count;
            }
        }
        anyhow::Ok((started.elapsed(), total))
    })?;
    let done = tally.latency.len();
    println!("requests: {done}");
    println!("seconds: {:.3}", elapsed.as_secs_f64());
    println!(
        "requests_per_second: {:.0}",
        done as f64 / elapsed.as_secs_f64()
    );
    for (label, q) in [("p50_us", 0.5), ("p99_us", 0.99), ("p999_us", 0.999)] {
        println!("{label}: {}", tally.latency.value_at_quantile(q));
    }
    for (status, count) in tally.statuses {
        println!("status_{status}: {count}");
    }
    Ok(())
}
