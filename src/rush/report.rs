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
    /// The id of every accepted order (not serialised: the database has them).
    #[serde(skip)]
    pub order_ids: Vec<String>,
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

fn throughput_chart(path: &Path, s: &Summary) -> Result<()> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let mut series: BTreeMap<&str, Vec<(u64, u64)>> = BTreeMap::new();
    for (second, codes) in &s.timeline {
        for (code, n) in codes {
            series.entry(code.as_str()).or_default().push((*second, *n));
        }
    }
    let last = s.timeline.keys().max().copied().unwrap_or(0) + 1;
    let peak = s
        .timeline
        .values()
        .flat_map(|c| c.values())
        .max()
        .copied()
        .unwrap_or(1);
    let mut chart = ChartBuilder::on(&root)
        .caption(
            "requests per second by step and outcome (page polls not drawn)",
            ("sans-serif", 18),
        )
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0..last, 0..peak + peak / 10 + 1)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc("second")
        .draw()
        .map_err(chart_error)?;
    for (i, (code, points)) in series.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        chart
            .draw_series(LineSeries::new(
                points.iter().copied(),
                color.stroke_width(2),
            ))
            .map_err(chart_error)?
            .label(*code)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(chart_error)?;
    root.present().map_err(chart_error)
}

fn latency_chart(path: &Path, s: &Summary) -> Result<()> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let levels = ["p50", "p90", "p99", "p99.9"];
    let worst = s.latency.values().map(|p| p.p999_ms).fold(1.0, f64::max);
    let mut chart = ChartBuilder::on(&root)
        .caption("latency percentiles per step (ms)", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0..levels.len(), 0.0..worst * 1.1)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_label_formatter(&|i| levels.get(*i).map_or_else(String::new, |l| (*l).to_owned()))
        .draw()
        .map_err(chart_error)?;
    for (i, (step, p)) in s.latency.iter().enumerate() {
        let color = Palette99::pick(i).to_rgba();
        let points = [p.p50_ms, p.p90_ms, p.p99_ms, p.p999_ms]
            .into_iter()
            .enumerate();
        chart
            .draw_series(LineSeries::new(points, color.stroke_width(2)))
            .map_err(chart_error)?
            .label(*step)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .draw()
        .map_err(chart_error)?;
    root.present().map_err(chart_error)
}

fn seats_chart(path: &Path, s: &Summary) -> Result<()> {
    let root = SVGBackend::new(path, (900, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(chart_error)?;
    let last = s.seats.iter().map(|(t, _)| *t).max().unwrap_or(0) + 1;
    let mut chart = ChartBuilder::on(&root)
        .caption("seats remaining", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(30)
        .y_label_area_size(60)
        .build_cartesian_2d(0..last, 0..u64::from(s.stock) + 1)
        .map_err(chart_error)?;
    chart
        .configure_mesh()
        .x_desc("second")
        .draw()
        .map_err(chart_error)?;
    chart
        .draw_series(LineSeries::new(
            s.seats.iter().copied(),
            BLUE.stroke_width(2),
        ))
        .map_err(chart_error)?;
    root.present().map_err(chart_error)
}
