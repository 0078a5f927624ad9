//! Reconcile, per ticket type: each type's counters in Redis against its configured stock
//! (`total = remaining + reserved + paid`), against the lines of the orders Redis holds, and
//! against the order lines in the database; and each holder's seats of a type against the
//! holders record and the type's limit.

use std::collections::HashMap;

use sale::OrderStatus;
use sale::config::EventConfig;

use super::Report;
use crate::orders::OrderRecord;

/// One type's counters as Redis holds them: total, remaining, reserved, paid.
pub type TypeCounters = [u64; 4];

/// One type's counters in the seats hash `seats`: total, remaining, reserved, paid; none before
/// the type is seeded.
pub async fn counters(
    redis: &mut sale::redis_link::RedisLink,
    seats: &str,
    ticket_type: &str,
) -> redis::RedisResult<Option<TypeCounters>> {
    let p = format!("t:{ticket_type}:");
    let read: [Option<u64>; 4] = redis::cmd("HMGET")
        .arg(seats)
        .arg(&[
            format!("{p}total"),
            format!("{p}remaining"),
            format!("{p}reserved"),
            format!("{p}paid"),
        ])
        .query_async(redis)
        .await?;
    Ok(read[0].is_some().then(|| read.map(|c| c.unwrap_or(0))))
}

/// Seats per (ticket type, status) over `orders`.
fn seats_in_orders(orders: &HashMap<String, OrderRecord>) -> HashMap<(String, OrderStatus), u64> {
    let mut seats = HashMap::new();
    for record in orders.values() {
        for item in record.items() {
            *seats.entry((item.ticket_type, record.status)).or_default() +=
                u64::from(item.quantity);
        }
    }
    seats
}

/// Checks every type's counters against the configured stock, the orders in Redis and the
/// order lines in the database (`database`: seats per type and status).
pub fn check_counters(
    report: &mut Report,
    event: &EventConfig,
    counters: &HashMap<String, TypeCounters>,
    orders: &HashMap<String, OrderRecord>,
    database: &[(String, OrderStatus, i64)],
) {
    let in_orders = seats_in_orders(orders);
    let redis_seats =
        |t: &str, s: OrderStatus| in_orders.get(&(t.to_owned(), s)).copied().unwrap_or(0);
    let database_seats = |t: &str, s: OrderStatus| -> u64 {
        database
            .iter()
            .filter(|(id, status, _)| id == t && *status == s)
            .map(|(_, _, seats)| u64::try_from(*seats).unwrap_or(0))
            .sum()
    };
    for ticket_type in &event.ticket_types {
        let id = ticket_type.id.as_str();
        let Some(type_counters) = counters.get(id).copied() else {
            report
                .problems
                .push(format!("ticket type {id} has no counters in redis"));
            continue;
        };
        let [_, _, reserved, paid] = type_counters;
        super::check_totals(
            &mut report.problems,
            &format!("ticket type {id}: "),
            type_counters,
            ticket_type.stock,
        );
        let held = redis_seats(id, OrderStatus::Reserved);
        let sold = redis_seats(id, OrderStatus::Paid) + redis_seats(id, OrderStatus::Finished);
        if held != reserved || sold != paid {
            report.problems.push(format!(
                "ticket type {id}: counters reserved {reserved} / paid {paid}, orders in redis hold {held} / {sold}"
            ));
        }
        let stored_held = database_seats(id, OrderStatus::Reserved);
        let stored_sold =
            database_seats(id, OrderStatus::Paid) + database_seats(id, OrderStatus::Finished);
        if stored_held != reserved || stored_sold != paid {
            report.problems.push(format!(
                "ticket type {id}: counters reserved {reserved} / paid {paid}, database lines {stored_held} / {stored_sold}"
            ));
        }
    }
}

/// Checks each user's seats per type (in live orders) against the holders record's
/// `USER TYPE` fields and the type's limit; returns the per-type fields it accounted for.
pub fn check_holders(
    report: &mut Report,
    event: &EventConfig,
    orders: &HashMap<String, OrderRecord>,
    holders: &HashMap<String, u64>,
) {
    let mut held: HashMap<String, u64> = HashMap::new();
    for record in orders.values().filter(|r| r.status.is_live()) {
        // Orders from before ticket types kept no per-type holder field.
        if record.items.is_empty() {
            continue;
        }
        for item in record.items() {
            *held
                .entry(format!("{} {}", record.user, item.ticket_type))
                .or_default() += u64::from(item.quantity);
        }
    }
    for (field, seats) in &held {
        let ticket_type = field.rsplit(' ').next().unwrap_or_default();
        let limit = event
            .ticket_type(ticket_type)
            .map_or(0, |t| u64::from(t.per_user_limit));
        if *seats > limit {
            report.problems.push(format!(
                "{field}: {seats} seats, over the type's limit {limit}"
            ));
        }
        if holders.get(field) != Some(seats) {
            report.problems.push(format!(
                "{field}: {seats} seats in orders but {:?} in the holders record",
                holders.get(field)
            ));
        }
    }
    for (field, seats) in holders.iter().filter(|(f, _)| f.contains(' ')) {
        if !held.contains_key(field) && *seats > 0 {
            report.problems.push(format!(
                "{field} is recorded holding {seats} seats without a live order line"
            ));
        }
    }
}
