//! The order database. SQLite (WAL) is the embedded default and PostgreSQL the production choice;
//! both run the same SQL through sqlx's `Any` driver, so both pass the same tests.
//!
//! Writes are idempotent upserts keyed by order id and guarded by the order's version: applying a
//! change twice, or an older change after a newer one, leaves the row as the newest change says.

use sale::OrderStatus;
use sale::basket::OrderItem;
use sale::config::DatabaseUrl;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};

/// One state change of one order, as the event stream carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderChange {
    /// The order.
    pub order_id: String,
    /// Its event.
    pub event_id: String,
    /// Its buyer.
    pub user_id: String,
    /// Seats.
    pub quantity: i64,
    /// The state after this change.
    pub status: OrderStatus,
    /// Payment deadline, Unix ms.
    pub pay_by_ms: i64,
    /// The order's version after this change.
    pub version: i64,
    /// When the change happened, Unix ms.
    pub at_ms: i64,
    /// Why a canceled order was canceled (`canceled` or `expired`); empty otherwise.
    pub reason: String,
    /// The order's total, minor units.
    pub total_cents: i64,
    /// Its lines.
    pub items: Vec<OrderItem>,
    /// Its seats' ids, on a seated event.
    pub seats: Vec<String>,
}

/// An order row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOrder {
    /// The order.
    pub order_id: String,
    /// Its buyer.
    pub user_id: String,
    /// Seats.
    pub quantity: i64,
    /// Current state.
    pub status: OrderStatus,
    /// Version of the last change applied.
    pub version: i64,
}

const SCHEMA: [&str; 4] = [
    "CREATE TABLE IF NOT EXISTS orders (
        order_id   TEXT PRIMARY KEY,
        event_id   TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        quantity   BIGINT NOT NULL,
        status     TEXT NOT NULL,
        pay_by_ms  BIGINT NOT NULL,
        version    BIGINT NOT NULL,
        created_ms BIGINT NOT NULL,
        updated_ms BIGINT NOT NULL
    )",
    // An earlier schema guarded "one live order per user and event", which is wrong for
    // per_user_limit above 1 and made accepted orders unwritable. The per-user rule (seats held,
    // not orders) is kept atomically by the reservation script and checked by reconcile: the
    // ledger applies changes out of order (two consumers share a stream), so a count constraint
    // here would refuse legitimate interim states such as a rebuy ahead of its cancel.
    "DROP INDEX IF EXISTS orders_one_live_per_user",
    // An order's lines, written with its first change and never changed: its price is fixed
    // when it is reserved.
    "CREATE TABLE IF NOT EXISTS order_items (
        order_id         TEXT NOT NULL,
        ticket_type      TEXT NOT NULL,
        quantity         BIGINT NOT NULL,
        unit_price_cents BIGINT NOT NULL,
        PRIMARY KEY (order_id, ticket_type)
    )",
    // A seated order's seats, written with its first change like its lines. A seat sold again
    // after an expiry has a row per order; the orders' states say which one holds it.
    "CREATE TABLE IF NOT EXISTS order_seats (
        order_id TEXT NOT NULL,
        seat_id  TEXT NOT NULL,
        PRIMARY KEY (order_id, seat_id)
    )",
];

const SEAT: &str = "INSERT INTO order_seats (order_id, seat_id) VALUES ($1, $2)
    ON CONFLICT (order_id, seat_id) DO NOTHING";

const ITEM: &str = "INSERT INTO order_items (order_id, ticket_type, quantity, unit_price_cents)
    VALUES ($1, $2, $3, $4) ON CONFLICT (order_id, ticket_type) DO NOTHING";

const UPSERT: &str = "INSERT INTO orders
        (order_id, event_id, user_id, quantity, status, pay_by_ms, version, created_ms, updated_ms)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
    ON CONFLICT (order_id) DO UPDATE SET
        status = excluded.status, pay_by_ms = excluded.pay_by_ms,
        version = excluded.version, updated_ms = excluded.updated_ms
    WHERE orders.version < excluded.version";

/// A pool on the order database.
#[derive(Debug, Clone)]
pub struct OrderStore {
    pool: AnyPool,
}

impl OrderStore {
    /// Connects (creating a SQLite file and its folder if needed) and creates the schema.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, sqlx::Error> {
        install_default_drivers();
        let options = match url {
            DatabaseUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)?;
                }
                // Writers (several origins may share the file) wait for each other instead of
                // failing; WAL lets readers (reconcile) run beside them. FULL syncs the WAL on
                // every commit: the ledger acknowledges (XACK) and the stream is then trimmed
                // past a committed row, so a commit must survive a power cut as the Redis it
                // drains does (appendfsync always); NORMAL could lose the last commits.
                AnyPoolOptions::new()
                    .max_connections(4)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 10000").await?;
                            conn.execute("PRAGMA journal_mode = WAL").await?;
                            conn.execute("PRAGMA synchronous = FULL").await?;
                            Ok(())
                        })
                    })
            }
            DatabaseUrl::Postgres(_) => AnyPoolOptions::new().max_connections(8),
        };
        let pool = options.connect(&url.connect_url()).await?;
        for statement in SCHEMA.iter().chain(super::changes::SCHEMA.iter()) {
            pool.execute(*statement).await?;
        }
        Ok(Self { pool })
    }

    /// Applies a batch in one transaction: all of it or none of it. Each change also enters
    /// the change history in the same transaction, from which order webhooks are delivered,
    /// so a change the database holds is a change the operator will hear of.
    pub async fn apply(&self, changes: &[OrderChange]) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for change in changes {
            upsert(change).execute(&mut *tx).await?;
            super::changes::record(change).execute(&mut *tx).await?;
            for item in &change.items {
                sqlx::query(ITEM)
                    .bind(&change.order_id)
                    .bind(&item.ticket_type)
                    .bind(i64::from(item.quantity))
                    .bind(sale::saturating::to_i64(item.unit_price_cents))
                    .execute(&mut *tx)
                    .await?;
            }
            for seat in &change.seats {
                sqlx::query(SEAT)
                    .bind(&change.order_id)
                    .bind(seat)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await
    }

    /// Applies one change on its own (with its history row, in one transaction).
    pub async fn apply_one(&self, change: &OrderChange) -> Result<(), sqlx::Error> {
        self.apply(std::slice::from_ref(change)).await
    }

    /// Each order's seats at `event`, by order id (orders without seats left out).
    pub async fn seats_by_order(
        &self,
        event: &str,
    ) -> Result<std::collections::HashMap<String, Vec<String>>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT s.order_id, s.seat_id FROM order_seats s
             JOIN orders o ON o.order_id = s.order_id WHERE o.event_id = $1",
        )
        .bind(event)
        .fetch_all(&self.pool)
        .await?;
        let mut seats: std::collections::HashMap<String, Vec<String>> = Default::default();
        for row in rows {
            seats
                .entry(row.try_get("order_id")?)
                .or_default()
                .push(row.try_get("seat_id")?);
        }
        Ok(seats)
    }

    /// The pool, for the change history's own queries.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Seats per ticket type and order status at `event_id`, from the order lines (orders from
    /// before ticket types have none and count as `general`).
    pub async fn seats_by_type(
        &self,
        event_id: &str,
    ) -> Result<Vec<(String, OrderStatus, i64)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT COALESCE(i.ticket_type, 'general'), o.status,
                    CAST(SUM(COALESCE(i.quantity, o.quantity)) AS BIGINT)
             FROM orders o LEFT JOIN order_items i ON i.order_id = o.order_id
             WHERE o.event_id = $1
             GROUP BY COALESCE(i.ticket_type, 'general'), o.status",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let text: String = row.try_get(1)?;
                let status = OrderStatus::parse(&text).ok_or_else(|| {
                    sqlx::Error::Decode(format!("unknown order status {text:?}").into())
                })?;
                Ok((row.try_get(0)?, status, row.try_get(2)?))
            })
            .collect()
    }

    /// Every order of `event_id`.
    pub async fn orders(&self, event_id: &str) -> Result<Vec<StoredOrder>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT order_id, user_id, quantity, status, version FROM orders WHERE event_id = $1",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(StoredOrder {
                    order_id: row.try_get(0)?,
                    user_id: row.try_get(1)?,
                    quantity: row.try_get(2)?,
                    status: {
                        let text: String = row.try_get(3)?;
                        OrderStatus::parse(&text).ok_or_else(|| {
                            sqlx::Error::Decode(format!("unknown order status {text:?}").into())
                        })?
                    },
                    version: row.try_get(4)?,
                })
            })
            .collect()
    }
}

fn upsert(change: &OrderChange) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(UPSERT)
        .bind(&change.order_id)
        .bind(&change.event_id)
        .bind(&change.user_id)
        .bind(change.quantity)
        .bind(change.status.as_str())
        .bind(change.pay_by_ms)
        .bind(change.version)
        .bind(change.at_ms)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_sqlite_connection_syncs_each_commit() {
        let dir = std::env::temp_dir().join(format!("flashgate-store-{}", std::process::id()));
        let store = OrderStore::connect(&DatabaseUrl::Sqlite(dir.join("orders.db")))
            .await
            .expect("the store opens");
        for _ in 0..4 {
            let mut conn = store.pool.acquire().await.expect("a connection");
            let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .expect("the pragma answers");
            assert_eq!(level, 2, "synchronous = FULL");
        }
        store.pool.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
