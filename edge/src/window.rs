//! The sale window: whether an event sells right now, by its configured times, the operator's
//! gate and the sold-out state. Checked at the edge for tokens and buys, so requests outside the
//! window never reach an origin; the reservation script checks again against Redis's clock, with
//! the same rules for the gate. At the edge the window is widened by the clock-skew grace so a
//! client a moment early is not refused by the edge only to be refused again by the script.

use std::time::Duration;

use sale::Refusal;
use sale::config::EventConfig;

use serde::Serialize;

/// An operator's override of the sale window (the classic design's "start flag"), stored as the
/// seats hash's `gate` field so the reservation script obeys it too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Gate {
    /// The configured window decides.
    #[default]
    Window,
    /// On sale now, whatever the window says.
    Open,
    /// Closed now, whatever the window says.
    Closed,
}

impl Gate {
    /// Reads the stored `gate` field.
    pub fn parse(stored: Option<&str>) -> Self {
        match stored {
            Some("open") => Self::Open,
            Some("closed") => Self::Closed,
            _ => Self::Window,
        }
    }
}

/// Where an event is in its sale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Not open yet.
    Upcoming,
    /// Open.
    Open,
    /// Over.
    Ended,
}

/// The phase at `now`, the window widened by `grace` on both sides. With `[[events.phases]]`
/// the sale is open only while one of them runs (each widened the same way).
pub fn phase(event: &EventConfig, gate: Gate, now: u64, grace: Duration) -> Phase {
    let grace = sale::time::millis(grace);
    // The operator's `open` opens a sale early; like the reservation script, it never keeps a
    // sale open past its end.
    match gate {
        Gate::Closed => Phase::Ended,
        _ if now >= event.window.ends_at.saturating_add(grace) => Phase::Ended,
        // Opened early, a phased sale sells as its next phase; after the last there is none.
        Gate::Open if !event.phases.is_empty() && event.phase_in_force(now, true).is_none() => {
            Phase::Ended
        }
        Gate::Open => Phase::Open,
        Gate::Window if event.phases.is_empty() => {
            if now.saturating_add(grace) < event.window.starts_at {
                Phase::Upcoming
            } else {
                Phase::Open
            }
        }
        Gate::Window => {
            let running = event.phases.iter().any(|p| {
                now.saturating_add(grace) >= p.window.starts_at
                    && now < p.window.ends_at.saturating_add(grace)
            });
            if running {
                Phase::Open
            } else if event.phases.iter().any(|p| now < p.window.starts_at) {
                Phase::Upcoming
            } else {
                Phase::Ended
            }
        }
    }
}

/// When the sale (re)opens next after `now`: the next phase's start, or the event's.
pub fn next_start(event: &EventConfig, now: u64) -> u64 {
    event
        .phases
        .iter()
        .map(|p| p.window.starts_at)
        .find(|starts| *starts > now)
        .unwrap_or(event.window.starts_at)
}

/// Whether `event` sells at `now`, under the operator's `gate` and with `sold_out` as last known.
pub fn check(
    event: &EventConfig,
    gate: Gate,
    sold_out: bool,
    now: u64,
    grace: Duration,
) -> Result<(), Refusal> {
    match phase(event, gate, now, grace) {
        Phase::Upcoming => Err(Refusal::NotStarted),
        Phase::Ended => Err(Refusal::Ended),
        Phase::Open if sold_out => Err(Refusal::SoldOut),
        Phase::Open => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sale::EventId;
    use sale::config::SaleWindow;

    fn event() -> EventConfig {
        EventConfig {
            id: EventId::parse("demo").unwrap(),
            name: "d".into(),
            price_cents: 1,
            currency: "EUR".into(),
            stock: 1,
            per_user_limit: 1,
            window: SaleWindow::new(10_000, 20_000).unwrap(),
            reservation_ttl: Duration::from_secs(1),
            queue: None,
            ticket_types: vec![sale::config::TicketType {
                id: "general".into(),
                name: "d".into(),
                price_cents: 1,
                stock: 1,
                per_user_limit: 1,
                hidden: false,
            }],
            phases: Vec::new(),
            venue: None,
        }
    }

    #[test]
    fn the_window_with_grace() {
        let grace = Duration::from_secs(1);
        assert_eq!(phase(&event(), Gate::Window, 8_999, grace), Phase::Upcoming);
        assert_eq!(phase(&event(), Gate::Window, 9_000, grace), Phase::Open);
        assert_eq!(phase(&event(), Gate::Window, 20_999, grace), Phase::Open);
        assert_eq!(phase(&event(), Gate::Window, 21_000, grace), Phase::Ended);
    }

    #[test]
    fn the_gate_overrides_the_window() {
        assert_eq!(phase(&event(), Gate::Open, 0, Duration::ZERO), Phase::Open);
        assert_eq!(
            phase(&event(), Gate::Open, 20_000, Duration::ZERO),
            Phase::Ended,
            "an early opening still ends at ends_at"
        );
        assert_eq!(
            phase(&event(), Gate::Closed, 15_000, Duration::ZERO),
            Phase::Ended
        );
    }
}
