//! How an operator stops a process of this binary: SIGTERM (a service manager) or SIGINT
//! (Ctrl-C), handled the same way everywhere.

/// Resolves on the first SIGTERM or SIGINT; never, if the handlers cannot be installed (the
/// process then stops only by being killed, as without them).
pub async fn stop_requested() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::error!("cannot watch SIGTERM and SIGINT");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
