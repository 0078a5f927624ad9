//! What a rush measured: per step, a latency histogram (HdrHistogram, microseconds) and counts by
//! outcome code; per second, outcomes and seats remaining. Workers record into their own
//! [`Recorder`] and the run merges them, so recording takes no lock.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use serde::Serialize;

/// The steps of one simulated user.
pub const STEPS: [&str; 6] = ["view", "join", "queue", "token", "buy", "settle"];

/// One worker's measurements.
#[derive(Debug)]
pub struct Recorder {
    /// Latency per step.
    pub latency: BTreeMap<&'static str, Histogram<u64>>,
    /// Outcomes per step: step → code → count.
    pub outcomes: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// Per second since the start: code → count (all steps but the view polls).
    pub timeline: BTreeMap<u64, BTreeMap<String, u64>>,
    /// Order ids of every 201.
    pub orders: Vec<String>,
    /// Every payment made through a provider.
    pub payments: Vec<super::paying::PaymentSent>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("static histogram bounds are valid")
}

impl Default for Recorder {
    fn default() -> Self {
        Self {
            latency: STEPS.iter().map(|s| (*s, histogram())).collect(),
            outcomes: BTreeMap::new(),
            timeline: BTreeMap::new(),
            orders: Vec::new(),
            payments: Vec::new(),
        }
    }
}

impl Recorder {
    /// Records one request of `step` that ended with `code` after `micros`, `second` seconds
    /// into the run.
    pub fn record(&mut self, step: &'static str, code: &str, micros: u64, second: u64) {
        if let Some(h) = self.latency.get_mut(step) {
            h.saturating_record(micros.max(1));
        }
        *self
            .outcomes
            .entry(step)
            .or_default()
            .entry(code.to_owned())
            .or_default() += 1;
        if step != "view" && step != "queue" {
            *self
                .timeline
                .entry(second)
                .or_default()
                .entry(format!("{step}:{code}"))
                .or_default() += 1;
        }
    }

    /// Folds `other` into this one.
    pub fn merge(&mut self, other: Recorder) {
        for (step, h) in other.latency {
            if let Some(mine) = self.latency.get_mut(step) {
                let _ = mine.add(&h);
            }
        }
        for (step, codes) in other.outcomes {
            let mine = self.outcomes.entry(step).or_default();
            for (code, n) in codes {
                *mine.entry(code).or_default() += n;
            }
        }
        for (second, codes) in other.timeline {
            let mine = self.timeline.entry(second).or_default();
            for (code, n) in codes {
                *mine.entry(code).or_default() += n;
            }
        }
        self.orders.extend(other.orders);
        self.payments.extend(other.payments);
    }

    /// Latency percentiles per step, for the report.
    pub fn percentiles(&self) -> BTreeMap<&'static str, Percentiles> {
        self.latency
            .iter()
            .filter(|(_, h)| !h.is_empty())
            .map(|(step, h)| {
                (
                    *step,
                    Percentiles {
                        count: h.len(),
                        p50_ms: h.value_at_quantile(0.5) as f64 / 1000.0,
                        p90_ms: h.value_at_quantile(0.9) as f64 / 1000.0,
                        p99_ms: h.value_at_quantile(0.99) as f64 / 1000.0,
                        p999_ms: h.value_at_quantile(0.999) as f64 / 1000.0,
                        max_ms: h.max() as f64 / 1000.0,
                    },
                )
            })
            .collect()
    }
}

/// Latency summary of one step.
#[derive(Debug, Clone, Serialize)]
pub struct Percentiles {
    /// Requests measured.
    pub count: u64,
    /// Median.
    pub p50_ms: f64,
    /// 90th percentile.
    pub p90_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// 99.9th percentile.
    pub p999_ms: f64,
    /// Slowest.
    pub max_ms: f64,
}

/// CPU time (user + system) this process has used, from `/proc/self/stat`; none where that is
/// not readable. The kernel reports it in USER_HZ ticks, 100 per second on Linux.
pub fn own_cpu_seconds() -> Option<f64> {
    const USER_HZ: f64 = 100.0;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after it are fixed.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<f64>().ok();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counted from after the name.
    Some((ticks(11)? + ticks(12)?) / USER_HZ)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorders_merge() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        a.record("buy", "201", 1_000, 0);
        b.record("buy", "sold_out", 3_000, 1);
        b.orders.push("demo.1".into());
        a.merge(b);
        assert_eq!(a.outcomes["buy"].values().sum::<u64>(), 2);
        assert_eq!(a.timeline.len(), 2);
        assert_eq!(a.orders.len(), 1);
        assert_eq!(a.percentiles()["buy"].count, 2);
    }

    #[test]
    fn own_cpu_time_grows_with_work() {
        let before = own_cpu_seconds().expect("/proc/self/stat is readable");
        // A tick is 10 ms of CPU; far fewer rounds than this many pass one.
        let mut rounds = 0u32;
        while own_cpu_seconds().expect("readable") <= before {
            let work = (0..100_000u64).fold(0u64, |a, b| a.wrapping_add(std::hint::black_box(b)));
            std::hint::black_box(work);
            rounds += 1;
            assert!(rounds < 1_000_000, "no CPU time counted");
        }
    }
}
