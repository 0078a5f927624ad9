//! Best-available as a property, the reservation script against a real Redis: over random
//! venues (sections, rows of any length, categories changing mid-row, row order or a focus) and
//! random fill states, a request for N seats of a category gets N free seats side by side in one
//! run; never a placement that strands a single free seat when any run has one that does not,
//! and then the first such run in best-first order, nearest its best seat; a stranding
//! placement only when no clean one exists; `not_together` only when no run has N free together,
//! and then, allowed apart, any N free seats of the category.

use std::sync::Arc;
use std::time::Duration;

use origin::stock::{Attempt, Reservation, StockEngine};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sale::basket::{OrderItem, Seats};
use sale::config::{EventConfig, SaleWindow, TicketType};
use sale::replication::Replication;
use sale::seat_map::{RUN_BYTES, SeatMap, is_set};
use sale::venue::Venue;
use sale::{EventId, UserId};

use crate::harness::{Stack, StackOptions};

const CASES: usize = 300;

/// A random venue: up to 3 sections of up to 8 rows of 1 to 15 seats, the category changing
/// now and then along a row.
fn random_venue(rng: &mut StdRng) -> Venue {
    let mut sections = Vec::new();
    let mut y = 0;
    for s in 0..rng.random_range(1..=3) {
        let mut rows = Vec::new();
        for r in 0..rng.random_range(1..=8) {
            y += 1;
            let mut category = rng.random_range(1..=2);
            let seats: Vec<String> = (0..rng.random_range(1..=15))
                .map(|n| {
                    if rng.random_bool(0.15) {
                        category = 3 - category;
                    }
                    format!(
                        r#"{{"number": {}, "category": "c{category}", "x": {}, "y": {y}}}"#,
                        n + 1,
                        n + 20 * s
                    )
                })
                .collect();
            rows.push(format!(
                r#"{{"id": "{}", "seats": [{}]}}"#,
                r + 1,
                seats.join(",")
            ));
        }
        sections.push(format!(r#"{{"id": "S{s}", "rows": [{}]}}"#, rows.join(",")));
    }
    let best = if rng.random_bool(0.5) {
        "\"row_order\"".to_owned()
    } else {
        format!(
            "{{\"focus\": [{}, {}]}}",
            rng.random_range(0..60),
            rng.random_range(0..10)
        )
    };
    let text = format!(
        r#"{{"id": "v", "sections": [{}], "best": {best}}}"#,
        sections.join(",")
    );
    Venue::parse(&text).expect("a valid random venue")
}

fn event(id: &str, map: SeatMap) -> EventConfig {
    let now = sale::time::now_millis();
    let ticket_types: Vec<TicketType> = map
        .categories
        .iter()
        .map(|c| TicketType {
            id: c.id.clone(),
            name: c.id.clone(),
            price_cents: 100,
            stock: c.count,
            per_user_limit: 6,
            hidden: false,
        })
        .collect();
    EventConfig {
        id: EventId::parse(id).expect("id"),
        name: id.into(),
        price_cents: 100,
        currency: "EUR".into(),
        stock: map.len() as u32,
        per_user_limit: 6,
        window: SaleWindow::new(now - 3_600_000, now + 3_600_000).expect("window"),
        reservation_ttl: Duration::from_secs(600),
        queue: None,
        ticket_types,
        phases: Vec::new(),
        venue: Some(Arc::new(map)),
    }
}

/// Every placement of `n` in a category's runs: (run index, first bit, clean, distance to the
/// run's best seat), in best-first order.
fn placements(
    map: &SeatMap,
    category: &str,
    bits: &[u8],
    n: usize,
) -> Vec<(usize, u32, bool, f64)> {
    let layout = map.category(category).expect("category");
    let mut found = Vec::new();
    for (k, run) in layout.runs.chunks_exact(RUN_BYTES).enumerate() {
        let first = u32::from_be_bytes([run[0], run[1], run[2], run[3]]) as usize;
        let len = usize::from(u16::from_be_bytes([run[4], run[5]]));
        let best = f64::from(u16::from_be_bytes([run[6], run[7]]));
        let mut i = 0;
        while i < len {
            if is_set(bits, first + i) {
                i += 1;
                continue;
            }
            let a = i;
            while i < len && !is_set(bits, first + i) {
                i += 1;
            }
            for p in (a..i).take_while(|p| p + n <= i) {
                let clean = p - a != 1 && i - p - n != 1;
                let distance = (p as f64 + (n as f64 - 1.0) / 2.0 - best).abs();
                found.push((k, (first + p) as u32, clean, distance));
            }
        }
    }
    found
}

#[tokio::test]
async fn best_available_never_strands_a_seat_when_a_clean_group_exists() {
    let stack = Stack::prepare(StackOptions::default()).await;
    let replication = Replication::new(stack.config.redis.replica_acks);
    let engine = StockEngine::new(stack.redis().await, replication);
    let mut redis = stack.redis().await;
    let mut rng = StdRng::seed_from_u64(23);
    let (mut clean, mut stranding, mut apart) = (0, 0, 0);
    for case in 0..CASES {
        let map = SeatMap::new(random_venue(&mut rng));
        let event = event(&format!("p{case}"), map);
        engine.seed(&event).await.expect("seeded");
        let map = event.venue.as_deref().expect("seated");
        let key = sale::redis_keys::EventKeys::new(&event.id).seat_map;
        let fill = rng.random_range(0.0..0.95);
        for bit in 0..map.len() {
            if rng.random_bool(fill) {
                let _: u8 = redis::cmd("SETBIT")
                    .arg(&key)
                    .arg(bit)
                    .arg(1)
                    .query_async(&mut redis)
                    .await
                    .expect("setbit");
            }
        }
        let before: Vec<u8> = redis::AsyncCommands::get(&mut redis, &key)
            .await
            .expect("map");
        let category = &map.categories[rng.random_range(0..map.categories.len())];
        let n = rng.random_range(1..=6usize.min(category.count as usize));
        let possible = placements(map, &category.id, &before, n);
        let items = [OrderItem {
            ticket_type: category.id.clone(),
            quantity: n as u32,
            unit_price_cents: 100,
        }];
        let attempt = Attempt::Buy {
            items: &items,
            code: "",
            seats: &Seats::Best { together: true },
        };
        let user = UserId::parse(&format!("u{case}")).expect("user");
        let reply = engine
            .reserve(&event, &user, attempt, &format!("n{case}"))
            .await
            .expect("script runs");
        let context = format!("case {case}: {n} of {} in {:?}", category.id, map.venue);
        let seats = match reply {
            Reservation::Reserved { seats, .. } => seats,
            Reservation::Refused { refusal, .. } => {
                assert_eq!(refusal, sale::Refusal::NotTogether, "{context}");
                assert!(possible.is_empty(), "{context}: {possible:?} were possible");
                apart += 1;
                // Allowed apart, the buyer gets n free seats of the category if it has them.
                let free: Vec<u32> = (category.start..category.start + category.count)
                    .filter(|b| !is_set(&before, *b as usize))
                    .collect();
                let attempt = Attempt::Buy {
                    items: &items,
                    code: "",
                    seats: &Seats::Best { together: false },
                };
                let reply = engine
                    .reserve(&event, &user, attempt, &format!("n{case}-apart"))
                    .await
                    .expect("script runs");
                match reply {
                    Reservation::Reserved { seats, .. } => {
                        assert!(free.len() >= n, "{context}: apart from {free:?}");
                        let mut bits: Vec<u32> =
                            seats.iter().map(|s| map.bit(s).expect("seat").0).collect();
                        bits.sort_unstable();
                        bits.dedup();
                        assert_eq!(bits.len(), n, "{context}: {seats:?}");
                        assert!(
                            bits.iter().all(|b| free.contains(b)),
                            "{context}: {seats:?}"
                        );
                    }
                    Reservation::Refused { refusal, .. } => {
                        assert_eq!(refusal, sale::Refusal::NotTogether, "{context}");
                        assert!(free.len() < n, "{context}: {free:?} were free");
                    }
                    other => panic!("{context}: {other:?}"),
                }
                continue;
            }
            other => panic!("{context}: {other:?}"),
        };
        let bits: Vec<u32> = seats
            .iter()
            .map(|s| map.bit(s).expect("a seat of the venue").0)
            .collect();
        let start = bits[0];
        assert_eq!(
            bits,
            (start..start + n as u32).collect::<Vec<_>>(),
            "{context}: side by side"
        );
        let chosen = possible
            .iter()
            .find(|p| p.1 == start)
            .unwrap_or_else(|| panic!("{context}: {seats:?} was not a free group"));
        let expected = match possible.iter().find(|p| p.2) {
            Some(first_clean) => {
                clean += 1;
                assert!(
                    chosen.2,
                    "{context}: {seats:?} strands a seat, a clean group exists"
                );
                first_clean.0
            }
            None => {
                stranding += 1;
                possible[0].0
            }
        };
        assert_eq!(chosen.0, expected, "{context}: not the best run");
        let nearest = possible
            .iter()
            .filter(|p| p.0 == expected && p.2 == chosen.2)
            .map(|p| p.3)
            .fold(f64::INFINITY, f64::min);
        assert!(chosen.3 <= nearest, "{context}: not nearest the best seat");
        let after: Vec<u8> = redis::AsyncCommands::get(&mut redis, &key)
            .await
            .expect("map");
        for bit in 0..map.len() {
            let was = is_set(&before, bit) || bits.contains(&(bit as u32));
            assert_eq!(is_set(&after, bit), was, "{context}: bit {bit}");
        }
    }
    // The cases reached every branch.
    assert!(
        clean > 0 && stranding > 0 && apart > 0,
        "{clean} {stranding} {apart}"
    );
}
