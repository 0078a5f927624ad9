//! The change history as an outbox: which changes are due, claimed under a lease so two origins
//! sharing the database rarely send the same one, and what became of each delivery.
//!
//! Order per order: a change is due only once the change before it (same order, version one
//! less) was delivered. A predecessor that is failing (the receiver down) or set aside holds its
//! successors until it is delivered (by a retry, or by `flashgate webhooks replay`). One that
//! never reached the database at all (its stream entry set aside as a dead letter) would hold
//! them forever, so a change whose predecessor is still *missing* [`GAP`] after the change itself
//! was recorded here is due anyway. The clock is this table's own (`recorded_ms`, written by the
//! origin that recorded the row), so a ledger that fell behind does not age changes early.

use std::time::Duration;

use sqlx::{AnyPool, Row};

use crate::ledger::changes::{DELIVERED, PENDING, SET_ASIDE};

/// How long a claimed change is this origin's before another may take it (a crash mid-delivery).
pub const LEASE: Duration = Duration::from_secs(30);
/// How long a change waits for a predecessor that is not in the database at all.
pub const GAP: Duration = Duration::from_secs(60);

/// A change due for delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    /// `ORDER.vVERSION`.
    pub change_id: String,
    /// Its order.
    pub order_id: String,
    /// The webhook body.
    pub body: String,
    /// Deliveries tried so far.
    pub attempts: i64,
}

const CLAIM: &str = "UPDATE order_changes SET lease_ms = $1, lease_owner = $2
    WHERE lease_ms <= $3 AND state = 'pending' AND change_id IN (
        SELECT c.change_id FROM order_changes c
        WHERE c.state = 'pending' AND c.next_ms <= $3 AND c.lease_ms <= $3
          AND (c.version = 1
            OR EXISTS (SELECT 1 FROM order_changes p
                       WHERE p.order_id = c.order_id AND p.version = c.version - 1
                         AND p.state = 'delivered')
            OR (c.recorded_ms <= $4 AND NOT EXISTS (
                SELECT 1 FROM order_changes p
                WHERE p.order_id = c.order_id AND p.version = c.version - 1)))
        ORDER BY c.created_ms, c.change_id
        LIMIT $5)
    RETURNING change_id, order_id, body, attempts";

/// Claims up to `limit` due changes for `owner` at `now_ms`; returns them.
pub async fn claim(
    pool: &AnyPool,
    owner: &str,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    // RETURNING names exactly the rows this statement leased, whoever else claims at once.
    let rows = sqlx::query(CLAIM)
        .bind(now_ms + millis(LEASE))
        .bind(owner)
        .bind(now_ms)
        .bind(now_ms - millis(GAP))
        .bind(limit)
        .fetch_all(pool)
        .await?;
    rows.iter().map(due).collect()
}

/// Records a delivery the receiver acknowledged.
pub async fn delivered(pool: &AnyPool, change_id: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE order_changes SET state = $1, attempts = attempts + 1, lease_ms = 0
         WHERE change_id = $2",
    )
    .bind(DELIVERED)
    .bind(change_id)
    .execute(pool)
    .await
    .map(drop)
}

/// Records a failed delivery: due again at `next_ms`, or set aside once it has failed
/// `max_attempts` times. Returns whether it was set aside.
pub async fn failed(
    pool: &AnyPool,
    due: &Due,
    next_ms: i64,
    max_attempts: u32,
) -> Result<bool, sqlx::Error> {
    let set_aside = due.attempts + 1 >= i64::from(max_attempts);
    sqlx::query(
        "UPDATE order_changes SET state = $1, attempts = attempts + 1, next_ms = $2, lease_ms = 0
         WHERE change_id = $3",
    )
    .bind(if set_aside { SET_ASIDE } else { PENDING })
    .bind(next_ms)
    .bind(&due.change_id)
    .execute(pool)
    .await?;
    Ok(set_aside)
}

/// How many changes wait (`pending`) and how many were set aside: both read off the state
/// index, so the count stays cheap however long the delivered history grows.
pub async fn backlog(pool: &AnyPool) -> Result<(i64, i64), sqlx::Error> {
    let count = |state: &'static str| async move {
        sqlx::query("SELECT COUNT(*) FROM order_changes WHERE state = $1")
            .bind(state)
            .fetch_one(pool)
            .await?
            .try_get::<i64, _>(0)
    };
    Ok((count(PENDING).await?, count(SET_ASIDE).await?))
}

/// Every change since `since_ms`, oldest first and each order's in version order: what
/// `flashgate webhooks replay` sends again.
pub async fn since(pool: &AnyPool, since_ms: i64) -> Result<Vec<Due>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT change_id, order_id, body, attempts FROM order_changes
         WHERE created_ms >= $1 ORDER BY created_ms, order_id, version",
    )
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    rows.iter().map(due).collect()
}

/// A row of `change_id, order_id, body, attempts`.
fn due(row: &sqlx::any::AnyRow) -> Result<Due, sqlx::Error> {
    Ok(Due {
        change_id: row.try_get(0)?,
        order_id: row.try_get(1)?,
        body: row.try_get(2)?,
        attempts: row.try_get(3)?,
    })
}

fn millis(duration: Duration) -> i64 {
    sale::saturating::to_i64(duration.as_millis())
}
