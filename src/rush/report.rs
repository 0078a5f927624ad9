//! The rush's output folder: `summary.json` (everything, for machines), `report.md` (the short
//! human version) and SVG charts drawn with plotters: requests per second by outcome over time,
//! latency percentiles per step, and seats remaining over time.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use plotters::prelude::*;
use serde::Serialize;

use super::invariants::Check;
use super::stats::Percentiles;

/// Everything a rush reports.
#[derive(Debug, Serialize)]
pub struct Summary {
    /// Simulated buyers.
    pub users: u64,
    /// Buyers in flight at once.
    pub concurrency: usize,
    /// `closed` or `open (N users/s)`.
    pub model: String,
    /// Seats on sale.
    pub stock: u32,
    /// Wall time of the whole rush.
    pub wall_seconds: f64,
    /// CPU time the rush itself used (user + system), so a report says when the load generator,
    /// not the system, was the limit.
    pub generator_cpu_seconds: Option<f64>,
    /// That CPU time as a share of all the machine's cores over the wall time.
    pub generator_cpu_share: Option<f64>,
    /// Requests sent (all steps).
    pub requests: u64,
    /// Requests per second over the whole rush.
    pub requests_per_second: f64,
    /// Orders accepted (201).
    pub orders: u64,
    /// step → code → count.
    pub outcomes: BTreeMap<&'static str, BTreeMap<String, u64>>,
    /// step → latency percentiles.
    pub latency: BTreeMap<&'static str, Percentiles>,
    /// second → "step:code" → count.
    pub timeline: BTreeMap<u64, BTreeMap<String, u64>>,
    /// (second, seats remaining) as the event view showed them.
    pub seats: Vec<(u64, u64)>,
    /// The invariants and whether they held.
    pub invariants: Vec<Check>,
    /// The waiting room's figures, for `--queue`.
    pub queue: Option<super::queue_flow::QueueFigures>,
    /// How the seats ended, for `--seated`.
    pub seating: Option<super::seating::SeatFigures>,
    /// The id of every accepted order (not serialised: the database has them).
    #[serde(skip)]
    pub order_ids: Vec<String>,
    /// Every payment made through a provider (for the invariants).
    #[serde(skip)]
    pub payments: Vec<super::paying::PaymentSent>,
}

impl Summary {
    /// Whether every invariant held.
    pub fn holds(&self) -> bool {
        self.invariants.iter().all(|c| c.ok)
    }
}

/// Writes `summary.json`, `report.md` and the charts into `dir`.
pub fn write(dir: &Path, summary: &Summary) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    std::fs::write(
        dir.join("summary.json"),
        serde_json::to_vec_pretty(summary)?,
    )?;
    std::fs::write(dir.join("report.md"), markdown(summary))?;
    throughput_chart(&dir.join("throughput.svg"), summary)?;
    latency_chart(&dir.join("latency.svg"), summary)?;
    seats_chart(&dir.join("seats.svg"), summary)?;
    Ok(())
}

fn correlation(value: Option<f64>) -> String {
    value.map_or_else(|| "n/a (fewer than two)".to_owned(), |v| format!("{v:.3}"))
}

fn markdown(s: &Summary) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Rush report\n");
    let _ = writeln!(
        md,
        "{} users, {} in flight ({} model), {} seats: **{:.1} s** wall time, {} requests, **{:.0} requests/s**, {} orders.\n",
        s.users,
        s.concurrency,
        s.model,
        s.stock,
        s.wall_seconds,
        s.requests,
        s.requests_per_second,
        s.orders
    );
    if let (Some(cpu), Some(share)) = (s.generator_cpu_seconds, s.generator_cpu_share) {
        let _ = writeln!(
            md,
            "The load generator itself used {cpu:.1} s of CPU: **{:.0}% of the machine's cores** \
             over the run (what is left is what the system under test had).\n",
            share * 100.0
        );
    }
    let _ = writeln!(md, "## Invariants\n");
    for check in &s.invariants {
        let _ = writeln!(
            md,
            "- {} **{}**: {}",
            if check.ok { "✔" } else { "✘" },
            check.name,
            check.detail
        );
    }
    if let Some(q) = &s.queue {
        let [p50, p90, p99, max] = q.time_in_queue_seconds;
        let _ = writeln!(
            md,
            "\n## The waiting room\n\n{} joined before the start (the draw), {} after; {} admitted.\n\n\
             Time in the queue (join to admission, s): p50 {p50:.1}, p90 {p90:.1}, p99 {p99:.1}, max {max:.1}.\n\n\
             Fairness, Spearman's rank correlation between join order and position in line:\n\
             - pre-queue entrants: **{}** (expect about 0: joining early does not help)\n\
             - late joiners: **{}** (expect 1: first come, first served)\n\n\
             Audit: {}",
            q.pre_queue,
            q.late,
            q.admitted,
            correlation(q.pre_queue_rank_correlation),
            correlation(q.late_rank_correlation),
            q.audit
        );
    }
    if let Some(seats) = &s.seating {
        let picks: u64 = seats.picks.values().sum();
        let _ = writeln!(
            md,
            "\n## Seats\n\n{} of {} seats taken when the rush ended; **{} free seats left stranded** \
             (alone between taken seats or a row's end).\n\n\
             The {} front-row seats: {picks} buys picked them: {}.",
            seats.taken,
            seats.seats,
            seats.stranded,
            seats.hot_seats,
            seats
                .picks
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        md,
        "\n## Latency (ms)\n\n| step | requests | p50 | p90 | p99 | p99.9 | max |\n|---|---|---|---|---|---|---|"
    );
    for (step, p) in &s.latency {
        let _ = writeln!(
            md,
            "| {step} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |",
            p.count, p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms, p.max_ms
        );
    }
    let _ = writeln!(
        md,
        "\n## Outcomes\n\n| step | outcome | count |\n|---|---|---|"
    );
    for (step, codes) in &s.outcomes {
        for (code, n) in codes {
            let _ = writeln!(md, "| {step} | {code} | {n} |");
        }
    }
    let _ = writeln!(
        md,
        "\n![requests per second](throughput.svg)\n![latency](latency.svg)\n![seats](seats.svg)"
    );
    md
}

fn chart_error<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("drawing a chart failed: {e}")
}

/// One line of a chart; lines with a label get a legend entry.
struct Line<'a> {
    label: Option<&'a str>,
    points: Vec<(u64, f64)>,
}

/// What the x axis counts.
enum Axis<'a> {
    /// Seconds since the rush started.
    Seconds,
    /// Named positions 0, 1, 2, …
    Names(&'a [&'a str]),
}

/// Draws `lines` on one SVG chart from x = 0 to `x_end` and y = 0 to a little above the highest
/// point, y labels with `y_decimals` decimals.
fn line_chart(
    path: &Path,
    caption: &str,
    x_end: u64,
    axis: &Axis<'_>,
    y_decimals: usize,
    lines: &[Line<'_>],
) -> Result<()> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let top = lines
        .iter()
        .flat_map(|l| l.points.iter().map(|(_, y)| *y))
        .fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption(caption, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0..x_end, 0.0..top * 1.1)
        .map_err(chart_error)?;
    let x_label = |x: &u64| match axis {
        Axis::Seconds => x.to_string(),
        Axis::Names(names) => usize::try_from(*x)
            .ok()
            .and_then(|i| names.get(i))
            .map_or_else(String::new, |n| (*n).to_owned()),
    };
    let y_label = |y: &f64| format!("{y:.y_decimals$}");
    let mut mesh = chart.configure_mesh();
    mesh.x_label_formatter(&x_label).y_label_formatter(&y_label);
    if matches!(axis, Axis::Seconds) {
        mesh.x_desc("second");
    }
    mesh.draw().map_err(chart_error)?;
    for (i, line) in lines.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let drawn = chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(chart_error)?;
        if let Some(label) = line.label {
            drawn
                .label(label)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
        }
    }
    if lines.iter().any(|l| l.label.is_some()) {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .draw()
            .map_err(chart_error)?;
    }
    root.present().map_err(chart_error)
}

fn throughput_chart(path: &Path, s: &Summary) -> Result<()> {
    let mut series: BTreeMap<&str, Vec<(u64, f64)>> = BTreeMap::new();
    for (second, codes) in &s.timeline {
        for (code, n) in codes {
            series
                .entry(code.as_str())
                .or_default()
                .push((*second, *n as f64));
        }
    }
    let lines: Vec<Line<'_>> = series
        .into_iter()
        .map(|(code, points)| Line {
            label: Some(code),
            points,
        })
        .collect();
    let last = s.timeline.keys().max().copied().unwrap_or(0) + 1;
    line_chart(
        path,
        "requests per second by step and outcome (page polls not drawn)",
        last,
        &Axis::Seconds,
        0,
        &lines,
    )
}

fn latency_chart(path: &Path, s: &Summary) -> Result<()> {
    let levels = ["p50", "p90", "p99", "p99.9"];
    let lines: Vec<Line<'_>> = s
        .latency
        .iter()
        .map(|(step, p)| Line {
            label: Some(step),
            points: (0..)
                .zip([p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms])
                .collect(),
        })
        .collect();
    line_chart(
        path,
        "latency percentiles per step (ms)",
        levels.len() as u64,
        &Axis::Names(&levels),
        1,
        &lines,
    )
}

fn seats_chart(path: &Path, s: &Summary) -> Result<()> {
    let last = s.seats.iter().map(|(t, _)| *t).max().unwrap_or(0) + 1;
    let remaining = Line {
        label: None,
        points: s.seats.iter().map(|(t, n)| (*t, *n as f64)).collect(),
    };
    line_chart(
        path,
        "seats remaining",
        last,
        &Axis::Seconds,
        0,
        &[remaining],
    )
}
