//! The sale window and the sold-out state: whether an event sells right now. Checked at the edge
//! for tokens and buys, so requests outside the window never reach an origin (the origin's
//! script checks again, against Redis's clock).

use sale::Refusal;
use sale::config::EventConfig;

use crate::event_view::EventView;

/// Whether `event` sells at `now`, given the seats last seen.
pub fn check(event: &EventConfig, view: &EventView, now: u64) -> Result<(), Refusal> {
    if now < event.window.starts_at {
        return Err(Refusal::NotStarted);
    }
    if now >= event.window.ends_at {
        return Err(Refusal::Ended);
    }
    if view
        .seats(event.id.as_str())
        .is_some_and(|s| s.remaining == 0)
    {
        return Err(Refusal::SoldOut);
    }
    Ok(())
}
