//! Live reload on SIGHUP: re-read the config file and swap it in, or keep the running one and log
//! every problem. The admin API's `POST /admin/reload` calls the same [`Live::reload`].

use std::sync::Arc;

use async_trait::async_trait;
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;

use crate::live_config::Live;
use crate::upstreams::Origins;

/// Reloads the live config whenever the process receives SIGHUP.
pub struct ReloadOnHangup {
    /// What to reload.
    pub live: Arc<Live>,
    /// Re-read at once after a reload so new origins and weights apply immediately.
    pub origins: Arc<Origins>,
}

#[async_trait]
impl BackgroundService for ReloadOnHangup {
    async fn start(&self, shutdown: ShutdownWatch) {
        let reload = || async {
            if self.live.reload().is_ok()
                && let Err(e) = self.origins.update().await
            {
                tracing::warn!(error = %e, "origin list update failed after reload");
            }
        };
        if let Err(e) = sale::background::on_hangup(shutdown, reload).await {
            tracing::error!(error = %e, "cannot listen for SIGHUP; reload through the admin API only");
        }
    }
}
