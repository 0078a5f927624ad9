//! The promises a sale must keep, checked against Redis and the order database after a rush:
//! sold never exceeds stock, every 201 has exactly one order row, nobody holds more than the
//! per-user limit, and reconciliation is clean.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use origin::ledger::OrderStore;
use origin::reconcile;
use sale::Config;
use sale::config::EventConfig;
use serde::Serialize;

/// One checked promise.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was promised.
    pub name: &'static str,
    /// Whether it held.
    pub ok: bool,
    /// The numbers behind it, or what broke.
    pub detail: String,
}

/// Checks every invariant for `event`, given the order ids of every 201 the rush received;
/// returns the checks and the stock in force.
pub async fn check(
    config: &Config,
    event: &EventConfig,
    accepted: &[String],
    ledger_wait: Duration,
) -> Result<(Vec<Check>, u32)> {
    let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
        .await
        .context("cannot reach Redis")?;
    // A rehearsal stack (`up --stock`) may sell a different stock than the file says: the total
    // Redis was seeded with is the stock in force.
    let seats_key = sale::redis_keys::EventKeys::new(&event.id).seats;
    let seeded: Option<u32> = redis::AsyncCommands::hget(&mut redis, &seats_key, "total").await?;
    let mut event = event.clone();
    let note = match seeded {
        Some(total) if total != event.stock => {
            let note = format!(
                " (the stack runs with stock {total}; the config file says {})",
                event.stock
            );
            event.stock = total;
            note
        }
        _ => String::new(),
    };
    let event = &event;
    let store = OrderStore::connect(&config.origin.database_url)
        .await
        .context("cannot open the order database")?;
    let report = reconcile::reconcile(&mut redis, &store, event, ledger_wait).await?;
    let rows = store.orders(event.id.as_str()).await?;

    let [total, remaining, reserved, paid] = report.counters;
    let sold = reserved + paid;
    let mut checks = vec![Check {
        name: "sold never exceeds stock",
        ok: sold <= u64::from(event.stock) && total == remaining + reserved + paid,
        detail: format!(
            "stock {}, sold {sold} (reserved {reserved} + paid {paid}), remaining {remaining}{note}",
            event.stock
        ),
    }];

    let mut row_count: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        *row_count.entry(row.order_id.as_str()).or_default() += 1;
    }
    let mut accepted_count: HashMap<&str, usize> = HashMap::new();
    for id in accepted {
        *accepted_count.entry(id.as_str()).or_default() += 1;
    }
    let broken: Vec<String> = accepted_count
        .keys()
        .filter(|id| row_count.get(*id) != Some(&1))
        .map(|id| format!("{id}: {} row(s)", row_count.get(id).copied().unwrap_or(0)))
        .collect();
    checks.push(Check {
        name: "every 201 has exactly one order row",
        ok: broken.is_empty() && accepted_count.len() == accepted.len(),
        detail: if broken.is_empty() {
            format!("{} accepted orders, each with one row", accepted.len())
        } else {
            format!(
                "{} broken: {}",
                broken.len(),
                broken
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        },
    });

    let mut held: HashMap<&str, i64> = HashMap::new();
    for row in rows.iter().filter(|r| r.status.is_live()) {
        *held.entry(row.user_id.as_str()).or_default() += row.quantity;
    }
    let over: Vec<&str> = held
        .iter()
        .filter(|(_, seats)| **seats > i64::from(event.per_user_limit))
        .map(|(user, _)| *user)
        .collect();
    checks.push(Check {
        name: "no user holds more than the per-user limit",
        ok: over.is_empty(),
        detail: format!(
            "{} holders, {} over the limit of {}",
            held.len(),
            over.len(),
            event.per_user_limit
        ),
    });

    checks.push(Check {
        name: "reconcile clean",
        ok: report.is_clean(),
        detail: if report.is_clean() {
            "Redis and the order database agree".to_owned()
        } else {
            report
                .problems
                .iter()
                .take(10)
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        },
    });
    Ok((checks, event.stock))
}
