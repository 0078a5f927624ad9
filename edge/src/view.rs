//! The edge's view of each event's seats and operator gate, refreshed from Redis every 250 ms by
//! the [`refresher`]. `GET /api/events/{id}` is answered from it, so a crowd refreshing the page
//! before the sale never reaches an origin, and the edge learns "sold out" without asking anyone.
//! Between reads, an origin's `x-fg-sold-out` report marks an event sold out at once.
//!
//! The view remembers when Redis last answered. Past `edge.view_staleness` without an answer it
//! is stale: the edge no longer sells from it (token and buy answer 503) and says so in the event
//! document, rather than keep answering from a frozen "sold out" or a frozen seat count.

pub mod refresher;
pub mod seat_maps;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use sale::config::EventConfig;
use serde::Serialize;

use crate::window::{self, Gate, Phase};

/// How often the view is refreshed.
pub const REFRESH: Duration = Duration::from_millis(250);

/// One event's counters as last read from Redis; the operator's status shows them as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Seats {
    /// Seats put on sale.
    pub total: u64,
    /// Seats nobody holds.
    pub remaining: u64,
    /// Seats held by reservations waiting for payment.
    pub reserved: u64,
    /// Seats paid for.
    pub paid: u64,
    /// Seats that came back to stock because their reservation was not paid in time (running
    /// total), so operators see how much of the sale is churn.
    pub expired: u64,
    /// Seats their buyers gave back (running total).
    pub canceled: u64,
    /// Seats of orders paid after they expired or were canceled: the seats stayed in stock (or
    /// sold again) and the money is owed back.
    pub refund_due: u64,
    /// Payment confirmations refused because the amount was not the order's total.
    pub amount_mismatch: u64,
    /// The operator's override.
    pub gate: Gate,
}

/// One ticket type's seats as last read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TypeSeats {
    /// The type.
    pub id: String,
    /// Its stock.
    pub total: u64,
    /// Left of it.
    pub remaining: u64,
}

/// One ticket type in the event document.
#[derive(Debug, Serialize)]
pub struct TypeDocument<'a> {
    /// Its id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Price of one, minor units.
    pub price_cents: u64,
    /// Its stock.
    pub stock: u64,
    /// Left of it.
    pub remaining: u64,
    /// `on_sale`, `sold_out`, `upcoming` or `ended`.
    pub state: &'static str,
}

/// Seat counters by event id, and what origins reported since the last read.
#[derive(Debug, Default)]
pub struct EventView {
    seats: ArcSwap<HashMap<String, Seats>>,
    /// Each event's types, as last read.
    types: ArcSwap<HashMap<String, Vec<TypeSeats>>>,
    /// Each seated event's availability answer, rendered at the last read.
    seat_maps: ArcSwap<seat_maps::Rendered>,
    /// Written only when an origin reports an event sold out; read on every token and buy, so
    /// behind an `ArcSwap` (lock-free reads) rather than a mutex.
    sold_out_reports: ArcSwap<HashSet<String>>,
    /// When Redis last answered a refresh, Unix ms; 0 before the first answer.
    fresh_at: AtomicU64,
}

/// The public event document of the contract.
#[derive(Debug, Serialize)]
pub struct EventDocument<'a> {
    /// Event id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// `upcoming`, `on_sale`, `sold_out` or `ended`.
    pub state: &'static str,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    /// The edge's clock, RFC 3339, so the page counts down against the server, not the client.
    pub now: String,
    /// Seats put on sale.
    pub stock: u64,
    /// Seats left.
    pub remaining: u64,
    /// Price of one seat in minor units.
    pub price_cents: u64,
    /// ISO 4217 currency.
    pub currency: &'a str,
    /// The edge has not heard from Redis for longer than it trusts its view: state and seats
    /// are the last known, and buying waits until it hears again.
    pub stale: bool,
    /// The waiting room in front of the sale, if any: when its pre-queue opens (RFC 3339) and
    /// the proof of work a join needs.
    pub queue: Option<serde_json::Value>,
    /// The listed (not hidden) ticket types, each with its price and what is left.
    pub ticket_types: Vec<TypeDocument<'a>>,
    /// The phase running now, if the event has phases: `{id, channel, starts_at, ends_at}`.
    pub phase: Option<serde_json::Value>,
    /// Every phase, in order, each with the types it sells: the page's timeline.
    pub phases: Vec<serde_json::Value>,
    /// On a seated event, its venue's id: the map is `GET /api/venues/{venue}`, what is taken
    /// `GET /api/events/{id}/seats`.
    pub venue: Option<&'a str>,
}

/// A type's state: the event's, except a type sold out, and with phases one not on sale in the
/// running phase (`upcoming` when a later phase sells it, else `ended`).
fn type_state(
    event: &EventConfig,
    id: &str,
    remaining: u64,
    event_state: &'static str,
    gate: Gate,
    now: u64,
) -> &'static str {
    if event_state == "ended" {
        return "ended";
    }
    if remaining == 0 {
        return "sold_out";
    }
    let sells = |p: &sale::config::Phase| p.ticket_types.iter().any(|t| t == id);
    if event.phases.is_empty() {
        return event_state;
    }
    match event.phase_in_force(now, gate == Gate::Open) {
        Some(p) if sells(p) => "on_sale",
        _ if event
            .phases
            .iter()
            .any(|p| p.window.starts_at > now && sells(p)) =>
        {
            "upcoming"
        }
        _ => "ended",
    }
}

/// The phase of `event` in force at `now` under `gate` (the one running, or the next once the
/// operator opened the sale early), as the document shows it.
fn phase_in_force(event: &EventConfig, gate: Gate, now: u64) -> Option<serde_json::Value> {
    event
        .phase_in_force(now, gate == Gate::Open)
        .map(phase_document)
}

/// A phase as the document shows it: `{id, channel, starts_at, ends_at}`.
fn phase_document(p: &sale::config::Phase) -> serde_json::Value {
    serde_json::json!({
        "id": p.id,
        "channel": p.channel,
        "starts_at": sale::time::rfc3339(p.window.starts_at),
        "ends_at": sale::time::rfc3339(p.window.ends_at),
    })
}

impl EventView {
    /// The last counters read for `event`, if any were.
    pub fn seats(&self, event: &str) -> Option<Seats> {
        self.seats.load().get(event).copied()
    }

    /// The operator's override for `event`.
    pub fn gate(&self, event: &str) -> Gate {
        self.seats(event).map(|s| s.gate).unwrap_or_default()
    }

    /// Whether `event` has no seats: Redis said so at the last read, or an origin has said so
    /// since (the next read confirms it, or clears it when seats came back).
    pub fn sold_out(&self, event: &str) -> bool {
        self.seats(event).is_some_and(|s| s.remaining == 0)
            || self.sold_out_reports.load().contains(event)
    }

    /// An origin reported `event` sold out.
    pub fn report_sold_out(&self, event: &str) {
        if !self.sold_out_reports.load().contains(event) {
            self.sold_out_reports.rcu(|reports| {
                let mut reports = HashSet::clone(reports);
                reports.insert(event.to_owned());
                reports
            });
        }
    }

    /// The last counters read for `event`, or its configured stock before the first read.
    pub fn seats_or_configured(&self, event: &EventConfig) -> Seats {
        self.seats(event.id.as_str()).unwrap_or(Seats {
            total: event.stock.into(),
            remaining: event.stock.into(),
            ..Seats::default()
        })
    }

    /// Whether Redis has not answered for longer than `bound` at `now` (or never has).
    pub fn stale(&self, now: u64, bound: Duration) -> bool {
        let fresh_at = self.fresh_at.load(Ordering::Acquire);
        fresh_at == 0 || now.saturating_sub(fresh_at) > sale::time::millis(bound)
    }

    /// The public document for `event` at `now`, stale past `staleness`.
    pub fn document<'a>(
        &self,
        event: &'a EventConfig,
        now: u64,
        staleness: Duration,
    ) -> EventDocument<'a> {
        let seats = self.seats_or_configured(event);
        let state = match window::phase(event, seats.gate, now, Duration::ZERO) {
            Phase::Ended => "ended",
            _ if self.sold_out(event.id.as_str()) => "sold_out",
            Phase::Upcoming => "upcoming",
            Phase::Open => "on_sale",
        };
        EventDocument {
            id: event.id.as_str(),
            name: &event.name,
            state,
            starts_at: sale::time::rfc3339(event.window.starts_at),
            ends_at: sale::time::rfc3339(event.window.ends_at),
            now: sale::time::rfc3339(now),
            stock: seats.total,
            remaining: seats.remaining,
            price_cents: event.price_cents,
            currency: &event.currency,
            stale: self.stale(now, staleness),
            ticket_types: self.type_documents(event, state, seats.gate, now),
            venue: event.venue.as_deref().map(|m| m.venue.id.as_str()),
            phase: phase_in_force(event, seats.gate, now),
            phases: event
                .phases
                .iter()
                .map(|p| {
                    let mut document = phase_document(p);
                    document["ticket_types"] = p.ticket_types.clone().into();
                    document
                })
                .collect(),
            queue: event.queue.map(|q| {
                let opens_at = event
                    .window
                    .starts_at
                    .saturating_sub(sale::time::millis(q.opens_before));
                serde_json::json!({
                    "opens_at": sale::time::rfc3339(opens_at),
                    "pow_bits": q.pow_bits,
                })
            }),
        }
    }

    /// The listed types of `event` for its document, the event being in `state`.
    fn type_documents<'a>(
        &self,
        event: &'a EventConfig,
        state: &'static str,
        gate: Gate,
        now: u64,
    ) -> Vec<TypeDocument<'a>> {
        let read = self.types.load();
        let known = read.get(event.id.as_str());
        event
            .ticket_types
            .iter()
            .filter(|t| !t.hidden)
            .map(|t| {
                let seats = known.and_then(|k| k.iter().find(|s| s.id == t.id));
                let stock = seats.map_or(u64::from(t.stock), |s| s.total);
                let remaining = seats.map_or(u64::from(t.stock), |s| s.remaining);
                TypeDocument {
                    id: &t.id,
                    name: &t.name,
                    price_cents: t.price_cents,
                    stock,
                    remaining,
                    state: type_state(event, &t.id, remaining, state, gate, now),
                }
            })
            .collect()
    }

    /// Seated `event`'s map as last read from Redis (every seat free before any origin seeded
    /// it); none before the first read, when the edge cannot know.
    pub fn seat_map(&self, event: &EventConfig) -> Option<seat_maps::SeatAnswer> {
        self.seat_maps.load().get(event.id.as_str()).cloned()
    }

    /// Replaces the counters (and seat maps) with a fresh read from Redis at `now`.
    pub(crate) fn store(
        &self,
        read: HashMap<String, (Seats, Vec<TypeSeats>)>,
        maps: seat_maps::Rendered,
        now: u64,
    ) {
        let mut seats = HashMap::with_capacity(read.len());
        let mut types = HashMap::with_capacity(read.len());
        for (event, (counters, per_type)) in read {
            seats.insert(event.clone(), counters);
            types.insert(event, per_type);
        }
        self.seat_maps.store(Arc::new(maps));
        self.types.store(Arc::new(types));
        self.seats.store(Arc::new(seats));
        self.sold_out_reports.store(Arc::default());
        self.fresh_at.store(now, Ordering::Release);
    }
}
