//! `flashgate rush --seated`: a crowd at a seated event. Most buyers ask for the best seats left
//! of a category in groups of 1 to 6 (side by side); some fight over the front row's seats,
//! picking them by id. After the rush: the map seat by seat against the counters, how
//! many free seats the sale left stranded (alone between taken seats or a row's end), and how
//! hard the hottest seats were fought over.

use std::collections::BTreeMap;

use anyhow::{Result, bail};
use rand::Rng;
use rand::seq::IndexedRandom;
use sale::config::EventConfig;
use sale::redis_keys::EventKeys;
use serde::Serialize;

use super::invariants::Check;

/// The most seats fought over: the front row's (the venue file's first row).
const HOT_SEATS: usize = 10;
/// Share of buyers who pick hot seats by id rather than ask for the best available.
const PICK_SHARE: f64 = 0.15;
/// The step a pick is recorded under, apart from best-available buys.
pub const PICK_STEP: &str = "buy_pick";

/// What seated buyers choose from.
#[derive(Debug, Clone)]
pub struct Seating {
    hot: Vec<String>,
    /// Each category and the largest group its buyers ask for.
    categories: Vec<(String, u32)>,
}

impl Seating {
    /// The choices at seated `event`; an error for an event without a venue.
    pub fn new(event: &EventConfig) -> Result<Self> {
        let Some(map) = event.venue.as_deref() else {
            bail!(
                "--seated needs an event with a venue; {} has none",
                event.id
            );
        };
        let front = map.venue.rows[0].clone();
        let hot = map.venue.seats[front]
            .iter()
            .take(HOT_SEATS)
            .map(|s| s.id.clone())
            .collect();
        let categories = event
            .ticket_types
            .iter()
            .map(|t| (t.id.clone(), t.per_user_limit.min(6)))
            .collect();
        Ok(Self { hot, categories })
    }

    /// A buy's body, and whether it picks seats.
    pub fn choose(&self, rng: &mut impl Rng) -> (serde_json::Value, bool) {
        if rng.random_bool(PICK_SHARE) {
            let count = if rng.random_bool(0.5) { 2 } else { 1 };
            let seats: Vec<&String> = self.hot.choose_multiple(rng, count).collect();
            return (serde_json::json!({ "seats": seats }), true);
        }
        let (category, largest) = self
            .categories
            .choose(rng)
            .cloned()
            .unwrap_or_else(|| ("general".to_owned(), 1));
        let quantity = rng.random_range(1..=largest.max(1));
        let body = serde_json::json!({
            "items": [{"ticket_type": category, "quantity": quantity}],
            "together": true,
        });
        (body, false)
    }
}

/// How the seats ended.
#[derive(Debug, Clone, Serialize)]
pub struct SeatFigures {
    /// Seats in the venue.
    pub seats: usize,
    /// Held or sold when the rush ended.
    pub taken: usize,
    /// Free seats alone between taken seats or a row's end.
    pub stranded: usize,
    /// The seats fought over.
    pub hot_seats: usize,
    /// Buys that picked hot seats, by outcome.
    pub picks: BTreeMap<String, u64>,
}

/// The seat map after the rush: its figures, and the check that it shows exactly the seats the
/// counters say are sold (reconcile checks each seat's order).
pub async fn after(
    redis: &mut sale::redis_link::RedisLink,
    event: &EventConfig,
    outcomes: &BTreeMap<&'static str, BTreeMap<String, u64>>,
) -> Result<(SeatFigures, Check)> {
    let Some(map) = event.venue.as_deref() else {
        bail!("{} has no venue", event.id);
    };
    let keys = EventKeys::new(&event.id);
    // The map and the counters at one instant: holds may still be expiring.
    let (bits, [reserved, paid]): (Option<Vec<u8>>, [Option<u64>; 2]) = redis::pipe()
        .atomic()
        .get(&keys.seat_map)
        .cmd("HMGET")
        .arg(&keys.seats)
        .arg(&["reserved", "paid"])
        .query_async(redis)
        .await?;
    let bits = bits.unwrap_or_default();
    let taken = (0..map.len())
        .filter(|i| sale::seat_map::is_set(&bits, *i))
        .count();
    let sold = reserved.unwrap_or(0) + paid.unwrap_or(0);
    let figures = SeatFigures {
        seats: map.len(),
        taken,
        stranded: map.stranded(&bits),
        hot_seats: map.venue.rows[0].len().min(HOT_SEATS),
        picks: outcomes.get(PICK_STEP).cloned().unwrap_or_default(),
    };
    let won = figures.picks.get("201").copied().unwrap_or(0);
    let check = Check {
        name: "the seat map shows exactly the seats sold",
        ok: taken as u64 == sold,
        detail: format!(
            "{taken} seats taken on the map, {sold} sold (reserved + paid); {won} picks of the \
             {} front-row seats won",
            figures.hot_seats
        ),
    };
    Ok((figures, check))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_name_hot_seats_and_groups_stay_within_the_limit() {
        let seating = Seating {
            hot: vec!["A-1-1".into(), "A-1-2".into()],
            categories: vec![("cat1".into(), 4)],
        };
        let mut rng = rand::rng();
        for _ in 0..200 {
            let (body, picked) = seating.choose(&mut rng);
            if picked {
                let seats = body["seats"].as_array().expect("seats");
                assert!(!seats.is_empty() && seats.len() <= 2, "{body}");
            } else {
                let quantity = body["items"][0]["quantity"].as_u64().expect("quantity");
                assert!((1..=4).contains(&quantity), "{body}");
                assert_eq!(body["together"], true);
            }
        }
    }
}
