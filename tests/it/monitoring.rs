//! What operators plug in keeps up with the code: every metric the alert rules
//! (config/prometheus/flashgate-rules.yml) and the Grafana dashboard
//! (config/grafana/flashgate-sale.json) name exists in the edge's or an origin's `/metrics`, so
//! neither rots when a metric is renamed, and every series a rule selects by an exact label
//! (`code="not_replicated"`, `state="remaining"`) has a sample from the start, so no alert waits
//! on a series that never appears. (`promtool test rules` checks the rules themselves, in
//! scripts/test.)

use std::collections::BTreeSet;
use std::path::Path;

use crate::harness::{Stack, StackOptions, https, room::ROOM};

/// Every sample name `text` (Prometheus text) can carry: each declared metric, with the
/// suffixes its type gives its samples.
fn exposed(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(declared) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = declared.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        names.insert(name.to_owned());
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[],
        };
        for suffix in suffixes {
            names.insert(format!("{name}{suffix}"));
        }
    }
    names
}

/// The `flashgate_…` metric names in the file at `path` (under the repository).
fn named_in(path: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    let mut names = BTreeSet::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find("flashgate_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_owned());
        rest = &tail[end..];
    }
    names
}

#[tokio::test]
async fn every_metric_the_rules_and_the_dashboard_name_exists() {
    let stack = Stack::start(StackOptions {
        queue: ROOM,
        ..https()
    })
    .await;
    // The origins' health appears after the edge's first round of health checks.
    crate::harness::eventually(
        "the edge reporting origin health",
        std::time::Duration::from_secs(20),
        || async {
            stack
                .edge_metrics()
                .await
                .contains("flashgate_edge_origin_healthy{")
        },
    )
    .await;
    let mut metrics = exposed(&stack.edge_metrics().await);
    metrics.extend(exposed(&stack.origin_metrics(0).await));
    for file in [
        "config/prometheus/flashgate-rules.yml",
        "config/grafana/flashgate-sale.json",
    ] {
        let named = named_in(file);
        assert!(named.len() >= 10, "{file} names {named:?}");
        let missing: Vec<&String> = named.difference(&metrics).collect();
        assert!(
            missing.is_empty(),
            "{file} names metrics nobody exposes: {missing:?}\nexposed: {metrics:?}"
        );
    }
}

/// The exact-match label selectors (`name{label="value"}`) in the file at `path`: an alert on
/// such a series stays silent if the series never exists, so each must have a sample.
fn exact_selectors(path: &str) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join(path)).unwrap();
    let mut selectors = Vec::new();
    for (at, _) in text.match_indices("flashgate_") {
        let tail = &text[at..];
        let name_end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let Some(labels) = tail[name_end..].strip_prefix('{') else {
            continue;
        };
        let labels = &labels[..labels.find('}').unwrap()];
        for matcher in labels.split(',') {
            if let Some((label, value)) = matcher.split_once("=\"")
                && !label.ends_with(['!', '~'])
            {
                let value = value.trim_end_matches('"');
                let sample = format!("{}=\"{value}\"", label.trim());
                selectors.push((tail[..name_end].to_owned(), sample));
            }
        }
    }
    selectors
}

#[tokio::test]
async fn every_series_an_alert_selects_exists() {
    let stack = Stack::start(StackOptions {
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let text = format!(
        "{}\n{}",
        stack.edge_metrics().await,
        stack.origin_metrics(0).await
    );
    let selectors = exact_selectors("config/prometheus/flashgate-rules.yml");
    assert!(selectors.len() >= 5, "{selectors:?}");
    for (name, label) in selectors {
        assert!(
            text.lines()
                .any(|line| line.starts_with(&name) && line.contains(&label)),
            "no {name} sample with {label}: an alert on it could never fire\n{text}"
        );
    }
}

#[tokio::test]
async fn the_sale_gauges_show_the_sale() {
    let stack = Stack::start(StackOptions {
        queue: ROOM,
        ..StackOptions::default()
    })
    .await;
    let text = stack.edge_metrics().await;
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        line(r#"flashgate_edge_event_seats{event="demo",state="total"}"#),
        "100"
    );
    assert_eq!(line(r#"flashgate_edge_view_stale{event="demo"}"#), "0");
    assert_eq!(line(r#"flashgate_edge_queue_paused{event="demo"}"#), "0");
    assert_eq!(line("flashgate_edge_redis_up"), "1");
    assert_eq!(
        line(r#"flashgate_edge_redis_nodes{role="primary",healthy="1"}"#),
        "1"
    );
    let origin = stack.origin_metrics(0).await;
    assert!(
        origin
            .lines()
            .any(|l| l == r#"flashgate_origin_ledger_backlog{event="demo"} 0"#),
        "{origin}"
    );
    assert!(
        origin
            .lines()
            .any(|l| l == "flashgate_origin_replicas_missing 0")
    );
}
