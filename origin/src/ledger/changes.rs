//! The change history: one row per order change, written in the same transaction as the order
//! row it changes, keyed by the change's id (`ORDER.vVERSION`) so a change applied twice is
//! recorded once. It is the outbox order webhooks are delivered from ([`crate::webhooks`]) and
//! the record `flashgate webhooks replay` reads.

use sale::payments::{OrderWebhook, change_id, webhook_type};
use sale::wire::OrderView;

use super::store::OrderChange;

/// The history table, its delivery state, and the indexes delivery and replay read by.
pub const SCHEMA: [&str; 3] = [
    "CREATE TABLE IF NOT EXISTS order_changes (
        change_id   TEXT PRIMARY KEY,
        order_id    TEXT NOT NULL,
        version     BIGINT NOT NULL,
        body        TEXT NOT NULL,
        created_ms  BIGINT NOT NULL,
        recorded_ms BIGINT NOT NULL,
        state       TEXT NOT NULL,
        attempts    BIGINT NOT NULL,
        next_ms     BIGINT NOT NULL,
        lease_ms    BIGINT NOT NULL,
        lease_owner TEXT NOT NULL
    )",
    "CREATE INDEX IF NOT EXISTS order_changes_order ON order_changes (order_id, version)",
    "CREATE INDEX IF NOT EXISTS order_changes_due ON order_changes (state, next_ms)",
];

/// Waiting for delivery.
pub const PENDING: &str = "pending";
/// The receiver acknowledged it.
pub const DELIVERED: &str = "delivered";
/// Refused or unanswered `max_attempts` times; `replay` delivers it again.
pub const SET_ASIDE: &str = "set_aside";

const INSERT: &str = "INSERT INTO order_changes
        (change_id, order_id, version, body, created_ms, recorded_ms, state, attempts, next_ms,
         lease_ms, lease_owner)
    VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, 0, '')
    ON CONFLICT (change_id) DO NOTHING";

/// The webhook document of `change`.
pub fn webhook(change: &OrderChange) -> OrderWebhook {
    let reason = (!change.reason.is_empty()).then_some(change.reason.as_str());
    OrderWebhook {
        id: change_id(&change.order_id, change.version),
        kind: webhook_type(change.status, reason).to_owned(),
        created_at: sale::time::rfc3339(u64::try_from(change.at_ms).unwrap_or(0)),
        order: OrderView {
            order_id: change.order_id.clone(),
            event_id: change.event_id.clone(),
            user: change.user_id.clone(),
            quantity: u32::try_from(change.quantity).unwrap_or(0),
            status: change.status,
            pay_by: sale::time::rfc3339(u64::try_from(change.pay_by_ms).unwrap_or(0)),
            total_cents: u64::try_from(change.total_cents).unwrap_or(0),
            items: change.items.clone(),
            seats: change.seats.clone(),
        },
    }
}

/// The statement recording `change` in the history (nothing if it is there already).
pub fn record(
    change: &OrderChange,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments<'static>> {
    let document = webhook(change);
    let body = serde_json::to_string(&document).unwrap_or_default();
    sqlx::query(INSERT)
        .bind(document.id)
        .bind(change.order_id.clone())
        .bind(change.version)
        .bind(body)
        .bind(change.at_ms)
        .bind(sale::saturating::to_i64(sale::time::now_millis()))
}
