//! The change history as an outbox: which changes are due, claimed under a lease so two origins
//! sharing the database rarely send the same one, and what became of each delivery.
//!
//! Order per order: a change is due only once the change before it (same order, version one
//! less) is no longer pending: delivered or set aside. A predecessor that never reached the
//! database (its stream entry set aside as a dead letter) would hold its successors forever, so
//! a change whose predecessor is *missing* for [`GAP`] is due anyway; a predecessor that is merely
//! failing (the receiver down) holds them as long as it takes.

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
    /// The webhook body.
    pub body: String,
    /// Deliveries tried so far.
    pub attempts: i64,
}

const CLAIM: &str = "UPDATE order_changes SET lease_ms = $1, lease_owner = $2
    WHERE lease_ms <= $3 AND change_id IN (
        SELECT c.change_id FROM order_changes c
        WHERE c.state = 'pending' AND c.next_ms <= $3 AND c.lease_ms <= $3
          AND (c.version = 1
            OR EXISTS (SELECT 1 FROM order_changes p
                       WHERE p.order_id = c.order_id AND p.version = c.version - 1
                         AND p.state <> 'pending')
            OR (c.created_ms <= $4 AND NOT EXISTS (
                SELECT 1 FROM order_changes p
                WHERE p.order_id = c.order_id AND p.version = c.version - 1)))
        ORDER BY c.created_ms, c.change_id
        LIMIT $5)";

/// Claims up to `limit` due changes for `owner` at `now_ms`; returns them.
pub async fn claim(
    pool: &AnyPool,
    owner: &str,
    now_ms: i64,
    limit: i64,
) -> Result<Vec<Due>, sqlx::Error> {
    let lease = now_ms + millis(LEASE);
    sqlx::query(CLAIM)
        .bind(lease)
        .bind(owner)
        .bind(now_ms)
        .bind(now_ms - millis(GAP))
        .bind(limit)
        .execute(pool)
        .await?;
    let rows = sqlx::query(
        "SELECT change_id, body, attempts FROM order_changes
         WHERE lease_owner = $1 AND lease_ms = $2 AND state = 'pending'",
    )
    .bind(owner)
    .bind(lease)
    .fetch_all(pool)
    .await?;
    rows.iter().map(due).collect()
}

/// Gives up the leases `owner` held: an origin starting under a name is that name's earlier
/// life restarted, and whatever it was delivering when it stopped is due again at once.
pub async fn release_own(pool: &AnyPool, owner: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE order_changes SET lease_ms = 0 WHERE lease_owner = $1 AND lease_ms > 0")
        .bind(owner)
        .execute(pool)
        .await
        .map(drop)
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

/// How many changes are in each delivery state.
pub async fn counts(pool: &AnyPool) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT state, COUNT(*) FROM order_changes GROUP BY state")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect()
}

/// Every change since `since_ms`, oldest first and each order's in version order: what
/// `flashgate webhooks replay` sends again.
pub async fn since(pool: &AnyPool, since_ms: i64) -> Result<Vec<Due>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT change_id, body, attempts FROM order_changes
         WHERE created_ms >= $1 ORDER BY created_ms, order_id, version",
    )
    .bind(since_ms)
    .fetch_all(pool)
    .await?;
    rows.iter().map(due).collect()
}

/// A row of `change_id, body, attempts`.
fn due(row: &sqlx::any::AnyRow) -> Result<Due, sqlx::Error> {
    Ok(Due {
        change_id: row.try_get(0)?,
        body: row.try_get(1)?,
        attempts: row.try_get(2)?,
    })
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}
