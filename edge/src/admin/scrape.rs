//! What a scrape of `/metrics` refreshes before the metrics are written: the sale gauges, from
//! the edge's view of each event, its waiting rooms and a listing of the Redis nodes (bounded by
//! a second, so a Redis that does not answer makes `redis_up` 0 instead of a hanging scrape).

use std::collections::HashMap;
use std::time::Duration;

use crate::metrics::sale::{NodeLabel, SaleGauges};

use super::Admin;

/// How long a scrape waits for the Redis node listing.
const NODES_TIMEOUT: Duration = Duration::from_secs(1);

/// Sets every sale gauge from what `admin` holds now.
pub async fn refresh(admin: &Admin) {
    let snapshot = admin.live.snapshot();
    let now = sale::time::now_millis();
    let gauges = &admin.metrics.sale;
    gauges.forget_all_but(snapshot.config.events.iter().map(|e| e.id.as_str()));
    for event in &snapshot.config.events {
        let id = event.id.as_str();
        gauges.set_seats(id, &admin.view.seats_or_configured(event));
        let stale = admin.view.stale(now, snapshot.config.edge.view_staleness);
        SaleGauges::set(&gauges.view_stale, id, u64::from(stale));
        if event.queue.is_some() {
            let room = admin.queue.get(id);
            let waiting = room.joined.saturating_sub(room.serving);
            SaleGauges::set(&gauges.queue_waiting, id, waiting);
            SaleGauges::set(&gauges.queue_admitted, id, room.granted);
            SaleGauges::set(&gauges.queue_paused, id, u64::from(room.paused));
        }
    }
    let listed = tokio::time::timeout(NODES_TIMEOUT, async {
        let mut con = admin.redis.connection().await?;
        con.nodes().await
    })
    .await;
    match listed {
        Ok(Ok(nodes)) => {
            // Counted first and then set, so two scrapes at once (a pair of Prometheus servers)
            // each set the same numbers instead of adding to each other's.
            let mut counts: HashMap<NodeLabel, i64> = HashMap::new();
            for role in ["primary", "replica"] {
                for healthy in ["0", "1"] {
                    let role = role.to_owned();
                    counts.insert(NodeLabel { role, healthy }, 0);
                }
            }
            for node in nodes {
                let label = NodeLabel {
                    role: node.role,
                    healthy: if node.healthy { "1" } else { "0" },
                };
                *counts.entry(label).or_default() += 1;
            }
            for (label, count) in counts {
                gauges.redis_nodes.get_or_create(&label).set(count);
            }
            gauges.redis_up.set(1);
        }
        _ => {
            gauges.redis_up.set(0);
        }
    }
}
