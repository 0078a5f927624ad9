//! The loops the background tasks of the edge and the origin run, until shutdown: a step every
//! period (a missed tick is not made up with a burst: the next step waits a full period), or a
//! step on every SIGHUP.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

/// Runs `step` every `period`, the first at once, until `shutdown` turns true or its sender is
/// gone. A step in progress finishes before shutdown is seen.
pub async fn every<F, Fut>(period: Duration, mut shutdown: watch::Receiver<bool>, mut step: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => step().await,
            _ = shutdown.changed() => return,
        }
    }
}

/// Runs `step` on every SIGHUP until `shutdown` turns true or its sender is gone; an error only
/// when the handler cannot be installed.
pub async fn on_hangup<F, Fut>(
    mut shutdown: watch::Receiver<bool>,
    mut step: F,
) -> std::io::Result<()>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = ()>,
{
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    loop {
        tokio::select! {
            _ = hangups.recv() => step().await,
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn steps_come_every_period_until_shutdown() {
        let (stop, stopped) = watch::channel(false);
        let steps = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
        let counted = steps.clone();
        let task = tokio::spawn(every(Duration::from_secs(1), stopped, move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }));
        tokio::time::sleep(Duration::from_millis(2_500)).await;
        assert_eq!(
            steps.load(std::sync::atomic::Ordering::Relaxed),
            3,
            "at 0, 1 and 2 s"
        );
        stop.send(true).unwrap();
        task.await.unwrap();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert_eq!(
            steps.load(std::sync::atomic::Ordering::Relaxed),
            3,
            "none after shutdown"
        );
    }
}
