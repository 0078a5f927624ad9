//! The sale's state as gauges for Prometheus and Grafana: seats by state per event, whether the
//! edge's view of Redis is stale, each waiting room's line, admissions and pause, and the Redis
//! nodes the edge can reach. They are set from what the edge already holds each time `/metrics`
//! is scraped ([`crate::admin::scrape`]), never on the request path.

use std::collections::HashSet;
use std::sync::Mutex;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::view::Seats;

/// Labels of an event's seats in one state.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SeatLabel {
    /// The event id.
    pub event: String,
    /// `total`, `remaining`, `reserved`, `paid`, `expired`, `canceled` or `refund_due`.
    pub state: &'static str,
}

/// Labels of a per-event series.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabel {
    /// The event id.
    pub event: String,
}

/// Labels of a count of Redis nodes.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct NodeLabel {
    /// `primary` or `replica`.
    pub role: String,
    /// `1` if the node answers, `0` if the cluster marks it failed.
    pub healthy: &'static str,
}

/// The gauges of the sale's state.
#[derive(Debug, Default)]
pub struct SaleGauges {
    /// Seats by event and state, as the edge last read them from Redis.
    pub seats: Family<SeatLabel, Gauge>,
    /// 1 while the edge's view of the event is older than `edge.view_staleness` (tokens and
    /// buys then answer 503 `unavailable`).
    pub view_stale: Family<EventLabel, Gauge>,
    /// Buyers in the waiting room not yet admitted.
    pub queue_waiting: Family<EventLabel, Gauge>,
    /// Admissions granted so far.
    pub queue_admitted: Family<EventLabel, Gauge>,
    /// 1 while the operator has paused admissions.
    pub queue_paused: Family<EventLabel, Gauge>,
    /// Redis nodes by role and health, as the edge's connection lists them.
    pub redis_nodes: Family<NodeLabel, Gauge>,
    /// 1 if the edge could list the Redis nodes at the last scrape.
    pub redis_up: Gauge,
    /// The events the per-event series were last set for.
    known: Mutex<HashSet<String>>,
}

/// `seats` by the state [`SeatLabel`] names it.
fn by_state(seats: &Seats) -> [(&'static str, u64); 7] {
    [
        ("total", seats.total),
        ("remaining", seats.remaining),
        ("reserved", seats.reserved),
        ("paid", seats.paid),
        ("expired", seats.expired),
        ("canceled", seats.canceled),
        ("refund_due", seats.refund_due),
    ]
}

impl SaleGauges {
    /// Registers every gauge in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let gauges = Self::default();
        registry.register(
            "event_seats",
            "Seats by event and state, as last read from Redis",
            gauges.seats.clone(),
        );
        let per_event = [
            (
                "view_stale",
                "1 while the edge's view of the event is older than its staleness bound",
                &gauges.view_stale,
            ),
            (
                "queue_waiting",
                "Buyers in the waiting room not yet admitted",
                &gauges.queue_waiting,
            ),
            (
                "queue_admitted",
                "Admissions the waiting room has granted",
                &gauges.queue_admitted,
            ),
            (
                "queue_paused",
                "1 while admissions from the waiting room are paused",
                &gauges.queue_paused,
            ),
        ];
        for (name, help, family) in per_event {
            registry.register(name, help, family.clone());
        }
        registry.register(
            "redis_nodes",
            "Redis nodes by role and health",
            gauges.redis_nodes.clone(),
        );
        registry.register(
            "redis_up",
            "1 if the edge could list the Redis nodes at the last scrape",
            gauges.redis_up.clone(),
        );
        gauges
    }

    /// Removes the series of events not in `events` (dropped by a reload), so a stale view or a
    /// paused room of an event that is gone does not keep its alert firing.
    pub fn forget_all_but<'a>(&self, events: impl Iterator<Item = &'a str> + Clone) {
        let kept = |event: &str| events.clone().any(|e| e == event);
        let mut gone = self.known.lock().unwrap_or_else(|e| e.into_inner());
        gone.retain(|event| !kept(event));
        for event in gone.drain() {
            for (state, _) in by_state(&Seats::default()) {
                let event = event.clone();
                self.seats.remove(&SeatLabel { event, state });
            }
            let label = EventLabel { event };
            for family in [
                &self.view_stale,
                &self.queue_waiting,
                &self.queue_admitted,
                &self.queue_paused,
            ] {
                family.remove(&label);
            }
        }
        gone.extend(events.map(str::to_owned));
    }

    /// Sets the seat gauges of `event` to `seats`.
    pub fn set_seats(&self, event: &str, seats: &Seats) {
        for (state, count) in by_state(seats) {
            let label = SeatLabel {
                event: event.to_owned(),
                state,
            };
            self.seats
                .get_or_create(&label)
                .set(sale::saturating::to_i64(count));
        }
    }

    /// Sets gauge `family` of `event` to `value`.
    pub fn set(family: &Family<EventLabel, Gauge>, event: &str, value: u64) {
        let label = EventLabel {
            event: event.to_owned(),
        };
        family
            .get_or_create(&label)
            .set(sale::saturating::to_i64(value));
    }
}
