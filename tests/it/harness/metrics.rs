//! Scraping the components' Prometheus metrics.

use std::net::SocketAddr;

use super::{ADMIN_TOKEN, Stack, metric_sum};

impl Stack {
    /// Origin `index`'s Prometheus text.
    pub async fn origin_metrics(&self, index: usize) -> String {
        prometheus_text(self.origin_addrs[index]).await
    }

    /// The edge's Prometheus text, from its admin listener.
    pub async fn edge_metrics(&self) -> String {
        prometheus_text(self.admin_addr).await
    }

    /// Stream entries origin `index`'s ledger set aside as unreadable.
    pub async fn origin_dead_letters(&self, index: usize) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(&text, "flashgate_origin_ledger_dead_letters_total", "")
    }

    /// Requests origin `index` answered on `route`.
    pub async fn origin_requests(&self, index: usize, route: &str) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(
            &text,
            "flashgate_origin_requests_total",
            &format!("route=\"{route}\""),
        )
    }

    /// Origin `index`'s local allowance for `event`.
    pub async fn origin_local_allowance(&self, index: usize, event: &str) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(
            &text,
            "flashgate_origin_local_allowance",
            &format!("event=\"{event}\""),
        )
    }

    /// Requests origin `index` refused for lacking the edge signature.
    pub async fn origin_unsigned(&self, index: usize) -> u64 {
        let text = self.origin_metrics(index).await;
        metric_sum(&text, "flashgate_origin_unsigned_requests_total", "")
    }

    /// Every request any origin saw (signed, on any route, or refused unsigned).
    pub async fn origin_traffic(&self) -> u64 {
        let mut total = 0;
        for i in 0..self.origin_addrs.len() {
            let text = self.origin_metrics(i).await;
            total += metric_sum(&text, "flashgate_origin_requests_total", "");
            total += metric_sum(&text, "flashgate_origin_unsigned_requests_total", "");
        }
        total
    }
}

/// `GET /metrics` on `addr` with the admin token.
async fn prometheus_text(addr: SocketAddr) -> String {
    reqwest::Client::new()
        .get(format!("http://{addr}/metrics"))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("metrics answer")
        .text()
        .await
        .expect("metrics body")
}
