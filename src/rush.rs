//! `flashgate rush`: the flash-crowd simulator. N distinct buyers against a running stack, through
//! the edge, each following the real flow. Closed model: C buyers in flight at once, each starting
//! when the previous finished. Open model: buyers arrive at a fixed rate; each one's first request
//! is timed from when it was due, so a stalled system shows up as latency instead of hiding.
//! At the end the invariants are checked against Redis and the database, and the report written;
//! any broken invariant makes the command fail.

pub mod choosing;
pub mod invariants;
pub mod paying;
pub mod queue_flow;
pub mod report;
pub mod seating;
pub mod stats;
pub mod user;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use anyhow::{Context, Result, anyhow, bail};
use indicatif::{ProgressBar, ProgressStyle};
use sale::Config;

use self::report::Summary;
use self::stats::Recorder;
use self::user::Flow;

/// What to simulate.
#[derive(Debug, Clone)]
pub struct RushOptions {
    /// The config of the stack (for session keys, Redis and the database).
    pub config: PathBuf,
    /// The edges, `http://host:port`, buyers spread over them; defaults to the config's
    /// `edge.listen`.
    pub edges: Vec<String>,
    /// The event.
    pub event: String,
    /// Distinct buyers.
    pub users: u64,
    /// Buyers in flight at once.
    pub concurrency: usize,
    /// Open model: buyers arriving per second.
    pub rate: Option<f64>,
    /// Share of buyers who pay.
    pub pay_share: f64,
    /// How payments through a provider go wrong.
    pub payments: paying::PaymentMix,
    /// In a coded presale, the share of buyers who guess a code instead of using theirs.
    pub guess_share: f64,
    /// Shared codes to create for the presale's channel (0: none).
    pub shared_codes: u32,
    /// Uses of each.
    pub shared_uses: u32,
    /// How often a waiting buyer polls the event.
    pub poll: Duration,
    /// How long to wait for the ledger before checking the database.
    pub ledger_wait: Duration,
    /// Where the report goes.
    pub out: PathBuf,
    /// Through the event's waiting room: join, wait for the turn, then buy.
    pub queue: bool,
    /// A CA to trust for https edges.
    pub ca: Option<PathBuf>,
    /// HTTP/2 to https edges.
    pub http2: bool,
    /// A seated event: best-available groups and picks of the hottest seats.
    pub seated: bool,
}

/// Creates the shared codes the options ask for, for the event's first coded channel.
async fn shared_codes(config: &Config, options: &RushOptions) -> Result<Vec<String>> {
    let event = config
        .event(&options.event)
        .ok_or_else(|| anyhow!("no event {:?} in the config", options.event))?;
    let Some(channel) = event.channels().next() else {
        return Ok(Vec::new());
    };
    if options.shared_codes == 0 {
        return Ok(Vec::new());
    }
    let codes: Vec<String> = (0..options.shared_codes)
        .map(|_| sale::access_code::generate())
        .collect();
    let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
        .await
        .context("cannot reach Redis")?;
    crate::commands::codes::store_shared(&mut redis, event, channel, &codes, options.shared_uses)
        .await?;
    Ok(codes)
}

/// The buyers' HTTP client: HTTP/1.1 unless `http2`, trusting only `ca` over https (no system
/// roots: a rush targets the operator's own stack).
fn client(options: &RushOptions, edges: &[String]) -> Result<reqwest::Client> {
    let https = edges.iter().any(|e| e.starts_with("https://"));
    if options.http2 && !https {
        bail!("--http2 needs an https:// edge (the edge speaks h2 over TLS only)");
    }
    let mut builder = reqwest::Client::builder()
        .pool_max_idle_per_host(options.concurrency)
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(30));
    builder = if options.http2 {
        builder.http2_adaptive_window(true)
    } else {
        builder.http1_only()
    };
    if let Some(ca) = &options.ca {
        let pem = std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
        let certificate = reqwest::Certificate::from_pem(&pem)
            .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
        builder = builder.add_root_certificate(certificate);
    } else if https {
        bail!("an https:// edge needs --ca FILE (the CA that signed its certificate)");
    }
    Ok(builder.build()?)
}

/// Runs the rush; fails if an invariant broke.
pub fn run(options: RushOptions) -> Result<()> {
    let config = Config::load(
        &options.config,
        &crate::stack::running::environment(&options.config),
    )
    .with_context(|| format!("config {}", options.config.display()))?;
    let event = config
        .event(&options.event)
        .ok_or_else(|| anyhow!("no event {:?} in the config", options.event))?
        .clone();
    if options.seated {
        seating::Seating::new(&event)?;
    }
    let runtime = tokio::runtime::Runtime::new()?;
    let mut summary = runtime.block_on(simulate(&config, &options))?;
    let (checks, stock) = runtime.block_on(invariants::check(
        &config,
        &event,
        &summary.order_ids,
        &summary.payments,
        options.ledger_wait,
    ))?;
    summary.invariants = checks;
    summary
        .invariants
        .extend(invariants::guesses_refused(&summary.outcomes));
    summary.stock = stock;
    if options.seated {
        let mut redis = runtime.block_on(crate::stack::ready::batch_redis(&config.redis.target))?;
        let (figures, check) =
            runtime.block_on(seating::after(&mut redis, &event, &summary.outcomes))?;
        summary.seating = Some(figures);
        summary.invariants.push(check);
    }
    if let Some(queue) = &mut summary.queue {
        let (ok, detail) = match crate::audit::verdict(&config, &event) {
            Ok(verdict) => (
                verdict.passed(),
                verdict.to_string().trim().replace('\n', "; "),
            ),
            Err(e) => (false, format!("audit could not run: {e:#}")),
        };
        queue.audit.clone_from(&detail);
        summary.invariants.push(invariants::Check {
            name: "the waiting room's audit passes",
            ok,
            detail,
        });
    }
    report::write(&options.out, &summary)?;
    println!(
        "{}",
        std::fs::read_to_string(options.out.join("report.md")).unwrap_or_default()
    );
    if !summary.holds() {
        bail!(
            "an invariant broke; see {}",
            options.out.join("report.md").display()
        );
    }
    Ok(())
}

async fn simulate(config: &Config, options: &RushOptions) -> Result<Summary> {
    let mut edges = options.edges.clone();
    if edges.is_empty() {
        edges.push(match (&options.ca, &config.edge.tls) {
            (Some(_), Some(tls)) => format!("https://{}", tls.listen),
            _ => format!("http://{}", config.edge.listen),
        });
    }
    let base = edges[0].clone();
    let client = client(options, &edges)?;
    let started = Instant::now();
    let flow = Arc::new(Flow {
        client: client.clone(),
        edges,
        event: options.event.clone(),
        session_keys: config.secrets.session_keys.clone(),
        pay_share: options.pay_share,
        payments: options.payments,
        poll: options.poll,
        started,
        chooser: choosing::Chooser {
            event: config
                .event(&options.event)
                .ok_or_else(|| anyhow!("no event {:?} in the config", options.event))?
                .clone(),
            code_keys: config.secrets.token_keys.clone(),
            guess_share: options.guess_share,
            shared: shared_codes(config, options).await?,
            seating: options
                .seated
                .then(|| seating::Seating::new(config.event(&options.event)?).ok())
                .flatten(),
        },
    });
    let next = Arc::new(AtomicU64::new(0));
    let done = Arc::new(AtomicU64::new(0));
    if options.queue {
        return simulate_queue(config, options, client, &flow, started).await;
    }
    let progress = ProgressBar::new(options.users);
    progress.set_style(
        ProgressStyle::with_template(
            "{elapsed_precise} [{bar:40}] {pos}/{len} buyers, {per_sec} {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (stop_monitor, monitor) = seats_monitor(
        client,
        format!("{base}/api/events/{}", options.event),
        started,
    );

    let workers: Vec<_> = (0..options.concurrency)
        .map(|_| {
            let (flow, next, done, progress) =
                (flow.clone(), next.clone(), done.clone(), progress.clone());
            let (users, rate) = (options.users, options.rate);
            tokio::spawn(async move {
                let mut recorder = Recorder::default();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= users {
                        return recorder;
                    }
                    let intended = match rate {
                        Some(rate) => {
                            let due = started + Duration::from_secs_f64(index as f64 / rate);
                            tokio::time::sleep_until(due).await;
                            due
                        }
                        None => Instant::now(),
                    };
                    flow.buyer(index, intended, &mut recorder).await;
                    done.fetch_add(1, Ordering::Relaxed);
                    progress.inc(1);
                    if index % 1024 == 0 {
                        progress.set_message(format!("{} orders", recorder.orders.len()));
                    }
                }
            })
        })
        .collect();
    let mut total = Recorder::default();
    for worker in workers {
        total.merge(worker.await?);
    }
    let wall = started.elapsed();
    progress.finish();
    let _ = stop_monitor.send(());
    let seats = monitor.await?;

    let model = options
        .rate
        .map_or_else(|| "closed".to_owned(), |r| format!("open ({r} users/s)"));
    Ok(summarise(config, options, model, wall, total, seats, None))
}

/// What a rush measured, before its invariants are checked.
fn summarise(
    config: &Config,
    options: &RushOptions,
    model: String,
    wall: Duration,
    total: Recorder,
    seats: Vec<(u64, u64)>,
    queue: Option<queue_flow::QueueFigures>,
) -> Summary {
    let requests: u64 = total.outcomes.values().flat_map(|c| c.values()).sum();
    let generator_cpu_seconds = stats::own_cpu_seconds();
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    Summary {
        generator_cpu_seconds,
        generator_cpu_share: generator_cpu_seconds
            .map(|cpu| cpu / (wall.as_secs_f64().max(0.001) * cores as f64)),
        users: options.users,
        concurrency: options.concurrency,
        model,
        stock: config.event(&options.event).map_or(0, |e| e.stock),
        wall_seconds: wall.as_secs_f64(),
        requests,
        requests_per_second: requests as f64 / wall.as_secs_f64().max(0.001),
        orders: total.orders.len() as u64,
        latency: total.percentiles(),
        outcomes: total.outcomes,
        timeline: total.timeline,
        seats,
        invariants: Vec::new(),
        order_ids: total.orders,
        payments: total.payments,
        queue,
        seating: None,
    }
}

/// The rush through the waiting room ([`queue_flow`]).
async fn simulate_queue(
    config: &Config,
    options: &RushOptions,
    client: reqwest::Client,
    flow: &Flow,
    started: Instant,
) -> Result<Summary> {
    let url = format!("{}/api/events/{}", flow.edges[0], options.event);
    let document: serde_json::Value = client.get(&url).send().await?.json().await?;
    let starts_at = document["starts_at"]
        .as_str()
        .and_then(|t| sale::time::parse_rfc3339(t).ok())
        .ok_or_else(|| anyhow!("the edge did not say when {} starts", options.event))?;
    let (stop_monitor, monitor) = seats_monitor(client, url, started);
    let recorder = std::sync::Mutex::new(Recorder::default());
    let figures = queue_flow::simulate(
        flow,
        options.users,
        options.concurrency,
        starts_at,
        &recorder,
    )
    .await;
    let wall = started.elapsed();
    let _ = stop_monitor.send(());
    let seats = monitor.await?;
    let total = recorder.into_inner().unwrap_or_else(|p| p.into_inner());
    let model = "waiting room".to_owned();
    Ok(summarise(
        config,
        options,
        model,
        wall,
        total,
        seats,
        Some(figures),
    ))
}

/// Samples the event's remaining seats once a second, until told to stop.
fn seats_monitor(
    client: reqwest::Client,
    url: String,
    started: Instant,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<Vec<(u64, u64)>>,
) {
    let (stop, mut stopped) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(async move {
        let mut samples = Vec::new();
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                _ = &mut stopped => return samples,
            }
            if let Ok(response) = client.get(&url).send().await
                && let Ok(view) = response.json::<serde_json::Value>().await
                && let Some(remaining) = view["remaining"].as_u64()
            {
                samples.push((started.elapsed().as_secs(), remaining));
            }
        }
    });
    (stop, task)
}
