//! `rush --queue`: the crowd through the waiting room. Every buyer joins, in a shuffled order (the
//! crowd arrives at random), most before `starts_at` (the pre-queue) and the rest after (late
//! joiners); after the draw each learns their position; then buyers wait their turn in position
//! order, polling like the page, and the admitted ones get a token and buy. What it measures on
//! top of the plain rush: time in the queue, and fairness: the rank correlation between when
//! people joined and where they ended up in line, among pre-queue entrants (about 0: joining
//! early does not help) and among late joiners (1: first come, first served).

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt;
use hdrhistogram::Histogram;
use rand::seq::SliceRandom;
use serde::Serialize;
use tokio::time::Instant;

use super::stats::Recorder;
use super::user::{Flow, micros, outcome};

/// The share of the crowd that joins before the start (the rest joins after it).
const PRE_QUEUE_SHARE: f64 = 0.8;

/// What the waiting room did to the crowd.
#[derive(Debug, Clone, Default, Serialize)]
pub struct QueueFigures {
    /// Buyers who joined before `starts_at`.
    pub pre_queue: u64,
    /// Buyers who joined after.
    pub late: u64,
    /// Buyers admitted.
    pub admitted: u64,
    /// Seconds from joining to admission: p50, p90, p99, max.
    pub time_in_queue_seconds: [f64; 4],
    /// Spearman's rank correlation of join order and position, pre-queue entrants (none with
    /// fewer than two).
    pub pre_queue_rank_correlation: Option<f64>,
    /// The same among late joiners.
    pub late_rank_correlation: Option<f64>,
    /// `flashgate audit`'s verdict, filled in after the rush.
    pub audit: String,
}

#[derive(Debug, Clone, Default)]
struct Place {
    joined_seq: u64,
    joined_at: Option<Instant>,
    pre_queue: bool,
    ticket: Option<String>,
    position: Option<u64>,
}

async fn queue_call(
    flow: &Flow,
    index: u64,
    post: bool,
    ticket: Option<&str>,
    recorder: &Mutex<Recorder>,
    step: &'static str,
) -> Option<serde_json::Value> {
    let (_, session, address) = flow.identity(index)?;
    let url = format!("{}/api/events/{}/queue", flow.edge(index), flow.event);
    let mut request = if post {
        flow.client.post(url)
    } else {
        flow.client.get(url)
    }
    .header("x-forwarded-for", address)
    .bearer_auth(session);
    if let Some(ticket) = ticket {
        request = request.header("x-fg-queue", ticket);
    }
    let start = Instant::now();
    let (code, body) = outcome(request.send().await).await;
    let second = flow.second();
    recorder
        .lock()
        .ok()?
        .record(step, &code, micros(start), second);
    body.filter(|_| code == "200")
}

/// Spearman's rank correlation of two rankings of the same people (ranks without ties); none
/// for fewer than two people.
pub fn spearman(pairs: &[(u64, u64)]) -> Option<f64> {
    let n = pairs.len() as f64;
    if pairs.len() < 2 {
        return None;
    }
    let rank = |key: &dyn Fn(&(u64, u64)) -> u64| {
        let mut order: Vec<usize> = (0..pairs.len()).collect();
        order.sort_by_key(|i| key(&pairs[*i]));
        let mut ranks = vec![0.0; pairs.len()];
        for (r, i) in order.into_iter().enumerate() {
            ranks[i] = r as f64;
        }
        ranks
    };
    let (a, b) = (rank(&|p| p.0), rank(&|p| p.1));
    let d2: f64 = a.iter().zip(&b).map(|(x, y)| (x - y).powi(2)).sum();
    Some(1.0 - 6.0 * d2 / (n * (n * n - 1.0)))
}

/// Runs the crowd through the waiting room of `starts_at` (Unix ms).
pub async fn simulate(
    flow: &Flow,
    users: u64,
    concurrency: usize,
    starts_at: u64,
    recorder: &Mutex<Recorder>,
) -> QueueFigures {
    let places: Vec<Mutex<Place>> = (0..users).map(|_| Mutex::default()).collect();
    let seq = AtomicU64::new(0);
    let mut arrivals: Vec<u64> = (0..users).collect();
    arrivals.shuffle(&mut rand::rng());
    let late = arrivals.split_off((users as f64 * PRE_QUEUE_SHARE) as usize);

    // Most of the crowd joins before the start, in random order; the rest once it has started.
    let join = |arrivals: Vec<u64>| {
        futures::stream::iter(arrivals).for_each_concurrent(concurrency, |i| {
            let (places, seq) = (&places, &seq);
            async move {
                let Some(doc) = queue_call(flow, i, true, None, recorder, "join").await else {
                    return;
                };
                let mut place = places[i as usize].lock().unwrap_or_else(|p| p.into_inner());
                place.joined_seq = seq.fetch_add(1, Ordering::Relaxed);
                place.joined_at = Some(Instant::now());
                place.pre_queue = sale::time::now_millis() < starts_at;
                place.ticket = doc["ticket"].as_str().map(str::to_owned);
                place.position = doc["position"].as_u64();
            }
        })
    };
    join(arrivals).await;
    while sale::time::now_millis() < starts_at + 500 {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    join(late).await;

    // After the draw every pre-queue entrant learns their position.
    let mut unplaced: Vec<u64> = (0..users)
        .filter(|i| {
            places[*i as usize]
                .lock()
                .is_ok_and(|p| p.position.is_none() && p.ticket.is_some())
        })
        .collect();
    while !unplaced.is_empty() {
        let still = Mutex::new(Vec::new());
        futures::stream::iter(unplaced)
            .for_each_concurrent(concurrency, |i| {
                let (places, still) = (&places, &still);
                async move {
                    let ticket = places[i as usize]
                        .lock()
                        .ok()
                        .and_then(|p| p.ticket.clone());
                    let doc =
                        queue_call(flow, i, false, ticket.as_deref(), recorder, "queue").await;
                    let mut place = places[i as usize].lock().unwrap_or_else(|p| p.into_inner());
                    match doc.as_ref().and_then(|d| d["position"].as_u64()) {
                        Some(position) => {
                            place.position = Some(position);
                            place.ticket = doc
                                .as_ref()
                                .and_then(|d| d["ticket"].as_str())
                                .map(str::to_owned);
                        }
                        None if doc.as_ref().is_some_and(|d| d["state"] == "pre_queue") => {
                            still.lock().unwrap_or_else(|p| p.into_inner()).push(i);
                        }
                        None => {}
                    }
                }
            })
            .await;
        unplaced = still.into_inner().unwrap_or_default();
        if !unplaced.is_empty() {
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    // Everyone waits their turn, in line order, polling like the page; the admitted buy.
    let mut line: Vec<(u64, u64)> = (0..users)
        .filter_map(|i| Some((places[i as usize].lock().ok()?.position?, i)))
        .collect();
    line.sort_unstable();
    let waited =
        Mutex::new(Histogram::<u64>::new_with_bounds(1, 3_600_000, 3).expect("valid bounds"));
    let admitted = AtomicU64::new(0);
    futures::stream::iter(line.iter().map(|(_, i)| *i))
        .for_each_concurrent(concurrency, |i| {
            let (places, waited, admitted) = (&places, &waited, &admitted);
            async move {
                loop {
                    let ticket = places[i as usize]
                        .lock()
                        .ok()
                        .and_then(|p| p.ticket.clone());
                    let Some(doc) =
                        queue_call(flow, i, false, ticket.as_deref(), recorder, "queue").await
                    else {
                        return;
                    };
                    // A poll whose ticket did not change answers without one.
                    let ticket = doc["ticket"].as_str().map(str::to_owned).or(ticket);
                    match doc["state"].as_str() {
                        Some("admitted") => {
                            admitted.fetch_add(1, Ordering::Relaxed);
                            if let Some(at) =
                                places[i as usize].lock().ok().and_then(|p| p.joined_at)
                            {
                                let ms =
                                    u64::try_from(at.elapsed().as_millis()).unwrap_or(u64::MAX);
                                let _ = waited.lock().map(|mut h| h.saturating_record(ms.max(1)));
                            }
                            let Some((user, session, address)) = flow.identity(i) else {
                                return;
                            };
                            let mut local = Recorder::default();
                            flow.purchase(
                                flow.edge(i),
                                &user,
                                &session,
                                &address,
                                ticket.as_deref(),
                                &mut local,
                            )
                            .await;
                            if let Ok(mut shared) = recorder.lock() {
                                shared.merge(local);
                            }
                            return;
                        }
                        Some("waiting" | "pre_queue") => {
                            if let Ok(mut place) = places[i as usize].lock() {
                                place.ticket = ticket;
                            }
                            let after = doc["poll_after_seconds"].as_u64().unwrap_or(1).min(1);
                            tokio::time::sleep(Duration::from_secs(after)).await;
                        }
                        _ => return,
                    }
                }
            }
        })
        .await;

    let ranked = |pre: bool| -> Vec<(u64, u64)> {
        (0..users)
            .filter_map(|i| {
                let p = places[i as usize].lock().ok()?;
                (p.pre_queue == pre).then_some((p.joined_seq, p.position?))
            })
            .collect()
    };
    let (pre, late) = (ranked(true), ranked(false));
    let h = waited.into_inner().unwrap_or_else(|p| p.into_inner());
    let secs = |q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    QueueFigures {
        pre_queue: pre.len() as u64,
        late: late.len() as u64,
        admitted: admitted.load(Ordering::Relaxed),
        time_in_queue_seconds: [secs(0.5), secs(0.9), secs(0.99), h.max() as f64 / 1000.0],
        pre_queue_rank_correlation: spearman(&pre),
        late_rank_correlation: spearman(&late),
        audit: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_correlation_is_one_for_the_same_order_and_minus_one_reversed() {
        let same: Vec<(u64, u64)> = (0..10).map(|i| (i, i * 3)).collect();
        assert!((spearman(&same).unwrap() - 1.0).abs() < 1e-9);
        let reversed: Vec<(u64, u64)> = (0..10).map(|i| (i, 100 - i)).collect();
        assert!((spearman(&reversed).unwrap() + 1.0).abs() < 1e-9);
        assert_eq!(spearman(&[(1, 1)]), None);
    }
}
