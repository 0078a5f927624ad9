//! Reading a stream entry back into the order change the scripts wrote.

use redis::streams::StreamId;
use sale::basket::OrderItem;
use sale::{EventId, OrderStatus};

use super::LedgerError;
use super::store::OrderChange;

/// The change `entry` of `event`'s stream records.
pub fn parse_entry(event: &EventId, entry: &StreamId) -> Result<OrderChange, LedgerError> {
    let text = |field: &str| -> Result<String, LedgerError> {
        entry
            .get::<String>(field)
            .ok_or_else(|| LedgerError::Malformed(format!("entry {} has no {field}", entry.id)))
    };
    let number = |field: &str| -> Result<i64, LedgerError> {
        text(field)?.parse().map_err(|_| {
            LedgerError::Malformed(format!("entry {} has a non-numeric {field}", entry.id))
        })
    };
    Ok(OrderChange {
        order_id: text("order")?,
        event_id: event.as_str().to_owned(),
        user_id: text("user")?,
        quantity: number("qty")?,
        status: OrderStatus::parse(&text("status")?).ok_or_else(|| {
            LedgerError::Malformed(format!("entry {} has an unknown status", entry.id))
        })?,
        pay_by_ms: number("pay_by")?,
        version: number("version")?,
        at_ms: number("at")?,
        // Entries written before these fields existed read as no reason and no total.
        reason: entry.get::<String>("reason").unwrap_or_default(),
        total_cents: entry
            .get::<String>("total")
            .and_then(|t| t.parse().ok())
            .unwrap_or(0),
        items: items(&entry.get::<String>("items").unwrap_or_default()).ok_or_else(|| {
            LedgerError::Malformed(format!("entry {} has unreadable items", entry.id))
        })?,
        seats: entry
            .get::<String>("seats")
            .unwrap_or_default()
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

/// Reads `TYPE:QTY:PRICE,...`; empty for entries written before ticket types.
fn items(text: &str) -> Option<Vec<OrderItem>> {
    if text.is_empty() {
        return Some(Vec::new());
    }
    text.split(',')
        .map(|line| {
            let mut parts = line.split(':');
            let item = OrderItem {
                ticket_type: parts.next()?.to_owned(),
                quantity: parts.next()?.parse().ok()?,
                unit_price_cents: parts.next()?.parse().ok()?,
            };
            parts.next().is_none().then_some(item)
        })
        .collect()
}
