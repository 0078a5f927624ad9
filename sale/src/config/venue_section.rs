//! `venue = "FILE"` on an event: the venue file is read and checked with the config, so a bad
//! venue is refused like any bad value (at start and on reload, the old config serving). Each
//! category is a ticket type of the event and each type has seats; a type's stock is its number
//! of seats (a stock written beside it must say the same).

use std::path::Path;
use std::sync::Arc;

use super::catalog_section::TicketType;
use super::problems::Problems;
use crate::seat_map::SeatMap;
use crate::venue::Venue;

/// Reads the venue file `file` (relative to `base`); `Some(None)` without one, `None` on a
/// problem (recorded under `field`).
pub(super) fn load(
    p: &mut Problems,
    field: &str,
    file: Option<&str>,
    base: &Path,
) -> Option<Option<Arc<SeatMap>>> {
    let Some(file) = file else {
        return Some(None);
    };
    let path = base.join(file);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            return p.check(field, Err(format!("cannot read {}: {e}", path.display())));
        }
    };
    match Venue::parse(&text) {
        Ok(venue) => Some(Some(Arc::new(SeatMap::new(venue)))),
        Err(problems) => p.check(
            field,
            Err(format!("{}: {}", path.display(), problems.join("; "))),
        ),
    }
}

/// Checks that `map`'s categories and the event's `types` are the same ids, each type's stock
/// its seats.
pub(super) fn check_types(p: &mut Problems, field: &str, map: &SeatMap, types: &[TicketType]) {
    for category in &map.categories {
        match types.iter().find(|t| t.id == category.id) {
            None => {
                p.check::<()>(
                    field,
                    Err(format!(
                        "category {:?} is not a ticket type of this event",
                        category.id
                    )),
                );
            }
            Some(t) if t.stock != category.count => {
                p.check::<()>(
                    field,
                    Err(format!(
                        "ticket type {:?} has stock {} but {} seats in the venue",
                        t.id, t.stock, category.count
                    )),
                );
            }
            Some(_) => {}
        }
    }
    for t in types {
        if map.category(&t.id).is_none() {
            p.check::<()>(
                field,
                Err(format!(
                    "ticket type {:?} has no seats in the venue (a seated event sells seats only)",
                    t.id
                )),
            );
        }
    }
}

/// A venue's id names one map (`GET /api/venues/{venue}`): events that share an id must share
/// the venue.
pub(super) fn check_shared_ids(p: &mut Problems, events: &[super::EventConfig]) {
    for (i, event) in events.iter().enumerate() {
        let Some(map) = event.venue.as_deref() else {
            continue;
        };
        let other = events[..i]
            .iter()
            .filter_map(|e| e.venue.as_deref().map(|m| (e, m)))
            .find(|(_, m)| m.venue.id == map.venue.id && *m != map);
        if let Some((other, _)) = other {
            p.check::<()>(
                format!("events[{i}].venue"),
                Err(format!(
                    "venue id {:?} is also event {}'s, from another file: one id, one map",
                    map.venue.id, other.id
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue_file(dir: &Path, categories: &str) -> String {
        let text = crate::venue::test_file(&[categories], "\"row_order\"");
        std::fs::write(dir.join("v.json"), text).expect("write");
        "v.json".to_owned()
    }

    fn ticket_type(id: &str, stock: u32) -> TicketType {
        TicketType {
            id: id.into(),
            name: id.into(),
            price_cents: 100,
            stock,
            per_user_limit: 1,
            hidden: false,
        }
    }

    fn problems(categories: &str, types: &[TicketType]) -> Vec<String> {
        let dir = std::env::temp_dir().join(format!(
            "fg-venue-section-{}-{categories}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("dir");
        let file = venue_file(&dir, categories);
        let mut p = Problems::default();
        let map = load(&mut p, "venue", Some(&file), &dir)
            .flatten()
            .expect("loads");
        check_types(&mut p, "venue", &map, types);
        std::fs::remove_dir_all(&dir).ok();
        p.0.iter().map(|x| x.message.clone()).collect()
    }

    #[test]
    fn matching_categories_and_types_pass() {
        assert!(problems("112", &[ticket_type("c1", 2), ticket_type("c2", 1)]).is_empty());
    }

    #[test]
    fn a_category_without_a_type_is_refused() {
        let found = problems("12", &[ticket_type("c1", 1)]);
        assert!(
            found.iter().any(|m| m.contains("category \"c2\"")),
            "{found:?}"
        );
    }

    #[test]
    fn a_type_without_seats_is_refused() {
        let found = problems("1", &[ticket_type("c1", 1), ticket_type("c3", 5)]);
        assert!(
            found.iter().any(|m| m.contains("\"c3\" has no seats")),
            "{found:?}"
        );
    }

    #[test]
    fn a_stock_unlike_the_seats_is_refused() {
        let found = problems("11", &[ticket_type("c1", 3)]);
        assert!(
            found.iter().any(|m| m.contains("stock 3 but 2 seats")),
            "{found:?}"
        );
    }

    #[test]
    fn a_missing_or_bad_file_is_refused() {
        let mut p = Problems::default();
        assert!(
            load(
                &mut p,
                "venue",
                Some("nowhere.json"),
                Path::new("/nonexistent")
            )
            .is_none()
        );
        assert_eq!(p.0.len(), 1);
    }
}
