//! The expiry sweeper: every origin runs it, and the script makes concurrent sweeps safe. It
//! cancels reservations whose payment deadline has passed (their seats return to stock and can
//! be sold again) and, once a sale has ended, marks its paid orders finished.

use std::time::Duration;

use sale::EventId;
use tokio::sync::watch;

use crate::stock::lifecycle::Lifecycle;

/// How often each event is swept: a returned seat is back on sale within this.
pub const PERIOD: Duration = Duration::from_millis(250);
/// Orders handled per script call, so one call never blocks Redis for long.
const BATCH: usize = 256;

/// Sweeps the events in force (a reload may add some) until `shutdown` turns true.
pub async fn run(
    lifecycle: Lifecycle,
    events: watch::Receiver<Vec<EventId>>,
    shutdown: watch::Receiver<bool>,
) {
    let sweep_all = || async {
        let events = events.borrow().clone();
        for event in &events {
            sweep(&lifecycle, event).await;
        }
    };
    sale::background::every(PERIOD, shutdown, sweep_all).await;
}

async fn sweep(lifecycle: &Lifecycle, event: &EventId) {
    loop {
        match lifecycle.expire(event, BATCH).await {
            Ok(count) if count == BATCH => continue,
            Ok(count) => {
                if count > 0 {
                    tracing::info!(event = %event, count, "expired unpaid reservations");
                }
                break;
            }
            Err(e) => {
                tracing::warn!(event = %event, error = %e, "expiry sweep failed; retrying next period");
                return;
            }
        }
    }
    while let Ok(BATCH) = lifecycle.finish(event, BATCH).await {}
}
