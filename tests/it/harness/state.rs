//! Reading what the stack holds: Redis, the order database, the public event document, and
//! reconcile over both.

use std::time::Duration;

use origin::ledger::{OrderStore, StoredOrder};
use origin::reconcile::Report;
use sale::EventId;
use sale::redis_link::RedisLink;

use super::{Stack, eventually};

impl Stack {
    /// A connection to the stack's Redis.
    pub async fn redis(&self) -> RedisLink {
        // Test tools read whole events at once; under a loaded parallel suite that takes longer
        // than a request path's half-second reply timeout.
        flashgate::stack::ready::batch_redis(&self.config.redis.target)
            .await
            .expect("redis reachable")
    }

    /// The order database.
    pub async fn store(&self) -> OrderStore {
        OrderStore::connect(&self.config.origin.database_url)
            .await
            .expect("order database opens")
    }

    /// Waits (bounded) until the database holds `count` orders of `demo`, and returns them.
    pub async fn orders_reaching(&self, count: usize) -> Vec<StoredOrder> {
        let store = self.store().await;
        let enough = || async {
            store
                .orders("demo")
                .await
                .expect("orders are readable")
                .len()
                >= count
        };
        // Generous: a 30,000-order backlog drains in seconds on a quiet machine, but far slower
        // on a debug build beside a busy compiler, and the wait ends as soon as the rows are in.
        eventually(
            &format!("{count} order rows"),
            Duration::from_secs(90),
            enough,
        )
        .await;
        store.orders("demo").await.expect("orders are readable")
    }

    /// Waits (bounded) until the database holds `count` orders of `demo`, all `status`: an
    /// order's later changes reach the database through the ledger after the answer that made
    /// them.
    pub async fn orders_all(&self, count: usize, status: sale::OrderStatus) -> Vec<StoredOrder> {
        let store = self.store().await;
        let settled = || async {
            let rows = store.orders("demo").await.expect("orders are readable");
            rows.len() >= count && rows.iter().all(|r| r.status == status)
        };
        eventually(
            &format!("{count} orders {status:?}"),
            Duration::from_secs(30),
            settled,
        )
        .await;
        store.orders("demo").await.expect("orders are readable")
    }

    /// Reconciles `demo`, waiting up to 30 s for the ledger to drain first.
    pub async fn reconcile(&self) -> Report {
        let event = self.config.event("demo").expect("demo event").clone();
        origin::reconcile::reconcile(
            &mut self.redis().await,
            &self.store().await,
            &event,
            Duration::from_secs(30),
        )
        .await
        .expect("reconcile runs")
    }

    /// Seats left in Redis.
    pub async fn remaining(&self) -> u64 {
        self.seat_counter("remaining").await
    }

    /// One counter of the `demo` seats hash (`remaining`, `expired`, …) in Redis.
    pub async fn seat_counter(&self, name: &str) -> u64 {
        let seats = sale::redis_keys::EventKeys::new(&EventId::parse("demo").unwrap()).seats;
        redis::AsyncCommands::hget(&mut self.redis().await, seats, name)
            .await
            .expect("seat counter readable")
    }

    /// The public event document of `demo`, as the page sees it.
    pub async fn event_document(&self) -> serde_json::Value {
        let response = reqwest::get(self.url("/api/events/demo")).await.unwrap();
        super::status_and_json(response).await.1
    }
}
