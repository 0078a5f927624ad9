//! Reconcile, seat by seat, on a seated event: every taken bit of the seat map belongs to exactly
//! one live order, every live order's seats are taken (and are the seats its ids name), each
//! category's taken seats are its reserved plus paid counters, and the database holds each
//! order's seats as Redis does.

use std::collections::HashMap;

use sale::config::EventConfig;
use sale::seat_map::{SeatMap, is_set};

use super::Report;
use super::ticket_types::TypeCounters;
use crate::orders::OrderRecord;

/// Checks `bits` (the seat map as Redis holds it) against `orders` and `type_counters`, and the
/// database's seats per order, `stored`.
pub fn check(
    report: &mut Report,
    event: &EventConfig,
    bits: &[u8],
    orders: &HashMap<String, OrderRecord>,
    type_counters: &HashMap<String, TypeCounters>,
    stored: &HashMap<String, Vec<String>>,
) {
    let Some(map) = event.venue.as_deref() else {
        return;
    };
    let mut owner: HashMap<u32, &str> = HashMap::new();
    for (id, record) in orders {
        let mut found: Vec<String> = stored.get(id).cloned().unwrap_or_default();
        found.sort();
        let mut expected = record.seats.clone();
        expected.sort();
        if found != expected {
            report.problems.push(format!(
                "order {id}: redis has seats {expected:?}, the database {found:?}"
            ));
        }
        if !record.status.is_live() {
            continue;
        }
        if record.bits.len() != record.qty as usize {
            report.problems.push(format!(
                "order {id} holds {} seats but {} on the map",
                record.qty,
                record.bits.len()
            ));
        }
        for (i, bit) in record.bits.iter().enumerate() {
            if map.seat_id(*bit) != record.seats.get(i).map(String::as_str) {
                report.problems.push(format!(
                    "order {id}: bit {bit} is not the seat {:?} it names",
                    record.seats.get(i)
                ));
            }
            if !is_set(bits, *bit as usize) {
                report.problems.push(format!(
                    "order {id} holds seat {} but the map shows it free",
                    seat(map, *bit)
                ));
            }
            if let Some(other) = owner.insert(*bit, id) {
                report.problems.push(format!(
                    "seat {} is held by both {other} and {id}",
                    seat(map, *bit)
                ));
            }
        }
    }
    for category in &map.categories {
        let mut taken = 0u64;
        for bit in category.start..category.start + category.count {
            if !is_set(bits, bit as usize) {
                continue;
            }
            taken += 1;
            if !owner.contains_key(&bit) {
                report.problems.push(format!(
                    "seat {} is taken on the map without a live order",
                    seat(map, bit)
                ));
            }
        }
        if let Some([_, _, reserved, paid]) = type_counters.get(&category.id)
            && taken != reserved + paid
        {
            report.problems.push(format!(
                "category {}: {taken} seats taken on the map but reserved {reserved} + paid {paid}",
                category.id
            ));
        }
    }
}

fn seat(map: &SeatMap, bit: u32) -> String {
    map.seat_id(bit)
        .map_or_else(|| format!("bit {bit}"), str::to_owned)
}
