//! The promises a sale must keep, checked against Redis and the order database after a rush:
//! sold never exceeds stock, every 201 has exactly one order row, nobody holds more than the
//! per-user limit, reconciliation is clean, and with a payment provider: every paid order had
//! exactly one succeeded payment of its total, and no seat of a `refund_due` order counts as
//! sold.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{Context, Result};
use origin::ledger::OrderStore;
use origin::orders::OrderRecord;
use origin::reconcile;
use sale::Config;
use sale::OrderStatus;
use sale::config::{EventConfig, PaymentProvider};
use sale::redis_keys::EventKeys;
use serde::Serialize;

use super::paying::PaymentSent;

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
/// returns the checks and the stock in force (the file's, or the one `up --stock` runs with:
/// [`crate::stack::running::environment`]).
pub async fn check(
    config: &Config,
    event: &EventConfig,
    accepted: &[String],
    payments: &[PaymentSent],
    ledger_wait: Duration,
) -> Result<(Vec<Check>, u32)> {
    let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
        .await
        .context("cannot reach Redis")?;
    let seats_key = EventKeys::new(&event.id).seats;
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
            "stock {}, sold {sold} (reserved {reserved} + paid {paid}), remaining {remaining}",
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
    if event.ticket_types.len() > 1 {
        checks.push(per_type(&mut redis, &seats_key, event).await?);
    }
    let coded = event.channels().next().is_some();
    let paid_by_provider = matches!(config.payments, PaymentProvider::Webhook { .. });
    // The order records, read once for every check below that needs them.
    let records = if coded || paid_by_provider {
        order_records(&mut redis, event).await?
    } else {
        HashMap::new()
    };
    if coded {
        checks.push(shared_code_check(&mut redis, event, &records).await?);
    }
    if paid_by_provider {
        let refund_due: u64 = redis::AsyncCommands::hget(&mut redis, &seats_key, "refund_due")
            .await
            .map(|n: Option<u64>| n.unwrap_or(0))?;
        checks.extend(payment_checks(&records, payments, sold, refund_due)?);
    }
    Ok((checks, event.stock))
}

/// Each ticket type's seats: its stock = remaining + reserved + paid, as Redis counts them.
async fn per_type(
    redis: &mut sale::redis_link::RedisLink,
    seats_key: &str,
    event: &EventConfig,
) -> Result<Check> {
    let mut details = Vec::new();
    let mut ok = true;
    for ticket_type in &event.ticket_types {
        let [total, remaining, reserved, paid] =
            reconcile::ticket_types::counters(redis, seats_key, &ticket_type.id)
                .await?
                .unwrap_or_default();
        // The stock in force is the file's, or the rehearsal's that `up --stock` left for the
        // tools beside it; never what Redis says of itself.
        ok &= total == u64::from(ticket_type.stock) && total == remaining + reserved + paid;
        details.push(format!(
            "{} {total} (stock {}) = {remaining} + {reserved} + {paid}",
            ticket_type.id, ticket_type.stock
        ));
    }
    Ok(Check {
        name: "each ticket type's stock = remaining + reserved + paid",
        ok,
        detail: details.join("; "),
    })
}

/// Every order record of `event` in Redis, by id.
async fn order_records(
    redis: &mut sale::redis_link::RedisLink,
    event: &EventConfig,
) -> Result<HashMap<String, OrderRecord>> {
    let texts: HashMap<String, String> =
        redis::AsyncCommands::hgetall(redis, EventKeys::new(&event.id).orders).await?;
    texts
        .into_iter()
        .map(|(id, text)| {
            let record = OrderRecord::from_json(&text).map_err(|e| anyhow::anyhow!("{id}: {e}"))?;
            Ok((id, record))
        })
        .collect()
}

/// Every shared code's uses: those left plus the live orders that spent one equal those issued
/// (a use spent twice, or returned twice, breaks it).
async fn shared_code_check(
    redis: &mut sale::redis_link::RedisLink,
    event: &EventConfig,
    records: &HashMap<String, OrderRecord>,
) -> Result<Check> {
    let fields: HashMap<String, String> =
        redis::AsyncCommands::hgetall(redis, EventKeys::new(&event.id).codes).await?;
    let mut spent: HashMap<String, i64> = HashMap::new();
    for record in records.values().filter(|r| r.status.is_live()) {
        if let Some(code) = &record.code {
            *spent.entry(code.clone()).or_default() += 1;
        }
    }
    let number = |field: &str| fields.get(field).and_then(|v| v.parse::<i64>().ok());
    let mut codes = 0;
    let mut wrong = Vec::new();
    for hash in fields.keys().filter_map(|f| f.strip_suffix(":n")) {
        codes += 1;
        let (issued, left) = (number(&format!("{hash}:n")), number(hash));
        let used = spent.get(hash).copied().unwrap_or(0);
        if left.is_none_or(|l| l < 0 || Some(l + used) != issued) {
            wrong.push(format!(
                "{}…: issued {issued:?}, left {left:?}, in live orders {used}",
                &hash[..8]
            ));
        }
    }
    Ok(Check {
        name: "no shared access code used more often than allowed",
        ok: wrong.is_empty(),
        detail: format!(
            "{codes} shared codes, {} used: {}",
            spent.values().sum::<i64>(),
            if wrong.is_empty() {
                "each code's uses left + live orders = uses issued".to_owned()
            } else {
                wrong.join("; ")
            }
        ),
    })
}

/// A presale's made-up codes bought nothing: no `buy_guessing` step answered 201.
pub fn guesses_refused(
    outcomes: &std::collections::BTreeMap<&'static str, std::collections::BTreeMap<String, u64>>,
) -> Option<Check> {
    let guessing = outcomes.get("buy_guessing")?;
    let bought = guessing.get("201").copied().unwrap_or(0);
    Some(Check {
        name: "every guessed access code was refused",
        ok: bought == 0,
        detail: format!(
            "{} guesses: {}",
            guessing.values().sum::<u64>(),
            guessing
                .iter()
                .map(|(code, n)| format!("{code} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    })
}

/// The promises about payments, over the order records Redis holds and what the rush paid: a
/// paid order's payment is the one the rush confirmed, for its lines at the prices fixed in it,
/// and the rush confirmed no other payment for it.
fn payment_checks(
    records: &HashMap<String, OrderRecord>,
    payments: &[PaymentSent],
    sold: u64,
    refund_due_counter: u64,
) -> Result<Vec<Check>> {
    let mut per_order: HashMap<&str, Vec<&PaymentSent>> = HashMap::new();
    for payment in payments {
        per_order
            .entry(payment.order_id.as_str())
            .or_default()
            .push(payment);
    }
    let sent: HashMap<&str, &PaymentSent> = per_order
        .iter()
        .filter(|(_, sent)| sent.iter().filter(|p| p.succeeded).count() == 1)
        .filter_map(|(order, sent)| Some((*order, *sent.iter().find(|p| p.succeeded)?)))
        .collect();
    let (mut paid, mut live_seats, mut refund_due_seats, mut late_paid) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for (id, record) in records {
        match record.status {
            OrderStatus::Paid | OrderStatus::Finished => {
                paid += 1;
                live_seats += u64::from(record.qty);
                // The order's total is what its lines cost at the prices fixed when reserved.
                let charged = sale::basket::total_cents(&record.items());
                let genuine = sent.get(id.as_str()).is_some_and(|p| {
                    record.payment.as_deref() == Some(p.payment_id.as_str())
                        && p.amount_cents == charged
                        && record.total == charged
                });
                if !genuine {
                    wrong.push(id.clone());
                }
                if sent.get(id.as_str()).is_some_and(|p| p.late) {
                    late_paid += 1;
                }
            }
            OrderStatus::Reserved => live_seats += u64::from(record.qty),
            OrderStatus::RefundDue => refund_due_seats += u64::from(record.qty),
            OrderStatus::Canceled => {}
        }
    }
    let late = payments.iter().filter(|p| p.late).count();
    Ok(vec![
        Check {
            name: "every paid order had exactly one succeeded payment of its total",
            ok: wrong.is_empty() && late_paid == 0,
            detail: format!(
                "{paid} paid orders; {} without a matching succeeded payment{}; {late} confirmed after expiry on purpose, {late_paid} of them paid",
                wrong.len(),
                wrong
                    .first()
                    .map_or_else(String::new, |w| format!(" (e.g. {w})")),
            ),
        },
        Check {
            name: "no seat of a refund_due order is counted sold",
            ok: live_seats == sold && refund_due_seats == refund_due_counter,
            detail: format!(
                "sold {sold} = {live_seats} seats of reserved and paid orders; {refund_due_seats} seats of refund_due orders apart (counter {refund_due_counter})"
            ),
        },
    ])
}
