//! Bounded waits on what the stack shows: selling again, sold out, origins healthy, a config
//! version in force.

use std::time::Duration;

use super::{Stack, eventually, metric_sum};

impl Stack {
    /// Waits (bounded) until the edge runs config version `version`.
    pub async fn wait_for_config_version(&self, version: u64) {
        eventually(
            &format!("config version {version}"),
            Duration::from_secs(10),
            || async {
                let (_, status) = self.admin(reqwest::Method::GET, "/admin/status").await;
                status["config_version"] == version
            },
        )
        .await;
    }

    /// Waits (bounded) until the stack as a whole sells `remaining` seats again: the edge's view
    /// shows them and no running origin still believes the event sold out.
    pub async fn wait_until_selling(&self, remaining: u64) {
        eventually(
            &format!("the stack selling {remaining} seats again"),
            Duration::from_secs(20),
            || async {
                let view = self.event_document().await;
                let mut origins_selling = true;
                for (i, origin) in self.origins.iter().enumerate() {
                    if origin.is_some() {
                        let text = self.origin_metrics(i).await;
                        origins_selling &=
                            metric_sum(&text, "flashgate_origin_sold_out", "event=\"demo\"") == 0;
                    }
                }
                view["remaining"] == remaining && view["state"] == "on_sale" && origins_selling
            },
        )
        .await;
    }

    /// Waits (bounded) until the edge's health checks see every origin healthy.
    pub async fn wait_until_origins_healthy(&self) {
        eventually(
            "the edge seeing every origin healthy",
            Duration::from_secs(20),
            || async {
                let (_, status) = self.admin(reqwest::Method::GET, "/admin/status").await;
                status["origins"]
                    .as_array()
                    .is_some_and(|o| o.iter().all(|o| o["healthy"] == true))
            },
        )
        .await;
    }

    /// Waits (bounded) until the edge shows `demo` sold out.
    pub async fn wait_until_sold_out(&self) {
        eventually(
            "the edge showing sold out",
            Duration::from_secs(10),
            || async { self.event_document().await["state"] == "sold_out" },
        )
        .await;
    }
}
