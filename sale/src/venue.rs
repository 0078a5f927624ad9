//! Venue files: a hall's sections, rows and seats (each with its category, position for drawing
//! and flags) and the order of quality best-available picks by. Read from JSON and checked whole,
//! every problem named, before anything sells from it; the seats keep the file's order, which is
//! the order of the availability bitmap (`GET /api/events/{id}/seats`). A seat's id is
//! `SECTION-ROW-NUMBER`, so no part may contain `-`.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

/// A venue file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVenue {
    /// `[A-Za-z0-9_]{1,64}`.
    pub id: String,
    /// The sections, in drawing order.
    pub sections: Vec<RawSection>,
    /// What best-available prefers: `"row_order"` (default: earlier rows first) or
    /// `{"focus": [x, y]}` (seats nearest that point first).
    pub best: Option<RawBest>,
}

/// One section as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSection {
    /// Unique in the venue.
    pub id: String,
    /// Its rows, best first.
    pub rows: Vec<RawRow>,
}

/// One row as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRow {
    /// Unique in its section.
    pub id: String,
    /// Its seats, side by side in this order.
    pub seats: Vec<RawSeat>,
}

/// A seat's number: written as a number or as text (`"12a"`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum SeatNumber {
    /// `12`.
    Number(u32),
    /// `"12a"`.
    Text(String),
}

/// One seat as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSeat {
    /// Unique in its row.
    pub number: SeatNumber,
    /// The ticket type it sells as.
    pub category: String,
    /// Where to draw it.
    pub x: f64,
    /// Where to draw it.
    pub y: f64,
    /// E.g. `accessible`, `restricted_view`.
    #[serde(default)]
    pub flags: Vec<String>,
}

/// Best-available's preference as written.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawBest {
    /// `"row_order"`.
    Named(String),
    /// `{"focus": [x, y]}`.
    Focus {
        /// The point the best seats are nearest.
        focus: [f64; 2],
    },
}

/// What best-available prefers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Best {
    /// Earlier rows (and sections) first.
    RowOrder,
    /// Nearest this point first.
    Focus(f64, f64),
}

/// One seat, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Seat {
    /// `SECTION-ROW-NUMBER`.
    pub id: String,
    /// Its category (a ticket type id).
    pub category: String,
    /// Drawing position.
    pub x: f64,
    /// Drawing position.
    pub y: f64,
    /// Flags as written.
    pub flags: Vec<String>,
}

/// A venue, checked: its seats in file order (the bitmap's order) and each row's span of them.
#[derive(Debug, Clone, PartialEq)]
pub struct Venue {
    /// Its id.
    pub id: String,
    /// Every seat, in file order.
    pub seats: Vec<Seat>,
    /// Each row's seats as a range of `seats`, in file order.
    pub rows: Vec<std::ops::Range<usize>>,
    /// What best-available prefers.
    pub best: Best,
}

/// Most seats one venue may have.
pub const MAX_SEATS: usize = 1_000_000;
/// Most seats one row may have (a run's length is 16 bits in the seat map).
pub const MAX_ROW: usize = 65_535;

fn part(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 16
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Venue {
    /// Reads and checks a venue file's JSON; every problem found, or the venue.
    pub fn parse(json: &str) -> Result<Self, Vec<String>> {
        let raw: RawVenue =
            serde_json::from_str(json).map_err(|e| vec![format!("not a venue file: {e}")])?;
        let mut problems = Vec::new();
        let id_ok = !raw.id.is_empty()
            && raw.id.len() <= 64
            && raw
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !id_ok {
            problems.push(format!(
                "id {:?}: must be 1 to 64 ASCII letters, digits or '_'",
                raw.id
            ));
        }
        if raw.sections.is_empty() {
            problems.push("has no sections".to_owned());
        }
        let mut seats = Vec::new();
        let mut rows = Vec::new();
        let mut sections = HashSet::new();
        for section in &raw.sections {
            if !part(&section.id) {
                problems.push(format!(
                    "section {:?}: ids are 1 to 16 letters, digits or '_'",
                    section.id
                ));
            }
            if !sections.insert(section.id.as_str()) {
                problems.push(format!("section {:?} is listed twice", section.id));
            }
            if section.rows.is_empty() {
                problems.push(format!("section {} has no rows", section.id));
            }
            let mut row_ids = HashSet::new();
            for row in &section.rows {
                let at = format!("{}-{}", section.id, row.id);
                if !part(&row.id) {
                    problems.push(format!("row {at}: ids are 1 to 16 letters, digits or '_'"));
                }
                if !row_ids.insert(row.id.as_str()) {
                    problems.push(format!("row {at} is listed twice"));
                }
                if row.seats.is_empty() {
                    problems.push(format!("row {at} has no seats"));
                }
                let start = seats.len();
                let mut numbers = HashSet::new();
                for seat in &row.seats {
                    let number = match &seat.number {
                        SeatNumber::Number(n) => n.to_string(),
                        SeatNumber::Text(t) => t.clone(),
                    };
                    let id = format!("{at}-{number}");
                    if !part(&number) {
                        problems.push(format!(
                            "seat {id}: numbers are 1 to 16 letters, digits or '_'"
                        ));
                    }
                    if !numbers.insert(number.clone()) {
                        problems.push(format!("seat {id} is listed twice"));
                    }
                    if !part_category(&seat.category) {
                        problems.push(format!(
                            "seat {id}: category {:?} is not a ticket type id",
                            seat.category
                        ));
                    }
                    if !(seat.x.is_finite() && seat.y.is_finite()) {
                        problems.push(format!("seat {id}: x and y must be numbers"));
                    }
                    seats.push(Seat {
                        id,
                        category: seat.category.clone(),
                        x: seat.x,
                        y: seat.y,
                        flags: seat.flags.clone(),
                    });
                }
                if seats.len() - start > MAX_ROW {
                    problems.push(format!(
                        "row {at} has {} seats, more than {MAX_ROW}",
                        seats.len() - start
                    ));
                }
                rows.push(start..seats.len());
            }
        }
        if seats.len() > MAX_SEATS {
            problems.push(format!("has {} seats, more than {MAX_SEATS}", seats.len()));
        }
        let best = match raw.best {
            None => Best::RowOrder,
            Some(RawBest::Named(name)) if name == "row_order" => Best::RowOrder,
            Some(RawBest::Named(name)) => {
                problems.push(format!(
                    "best {name:?}: must be \"row_order\" or {{\"focus\": [x, y]}}"
                ));
                Best::RowOrder
            }
            Some(RawBest::Focus { focus: [x, y] }) if x.is_finite() && y.is_finite() => {
                Best::Focus(x, y)
            }
            Some(RawBest::Focus { .. }) => {
                problems.push("best.focus: x and y must be numbers".to_owned());
                Best::RowOrder
            }
        };
        if problems.is_empty() {
            Ok(Self {
                id: raw.id,
                seats,
                rows,
                best,
            })
        } else {
            Err(problems)
        }
    }

    /// Seats per category.
    pub fn categories(&self) -> BTreeMap<&str, usize> {
        let mut counts = BTreeMap::new();
        for seat in &self.seats {
            *counts.entry(seat.category.as_str()).or_default() += 1;
        }
        counts
    }
}

/// A venue file for tests: venue `v`, one section `S`, a row per string of `rows` (row `r` at
/// `y = r`), a seat per character (`1` is category `c1`, at `x` its index), preferring `best`
/// (JSON).
#[cfg(test)]
pub(crate) fn test_file(rows: &[&str], best: &str) -> String {
    let rows: Vec<String> = rows
        .iter()
        .enumerate()
        .map(|(r, cats)| {
            let seats: Vec<String> = cats
                .chars()
                .enumerate()
                .map(|(n, c)| {
                    format!(
                        r#"{{"number": {}, "category": "c{c}", "x": {n}, "y": {r}}}"#,
                        n + 1
                    )
                })
                .collect();
            format!(r#"{{"id": "{}", "seats": [{}]}}"#, r + 1, seats.join(","))
        })
        .collect();
    format!(
        r#"{{"id": "v", "sections": [{{"id": "S", "rows": [{}]}}], "best": {best}}}"#,
        rows.join(",")
    )
}

/// Whether `text` can be a ticket type id.
fn part_category(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const HALL: &str = r#"{
      "id": "hall",
      "sections": [
        {"id": "A", "rows": [
          {"id": "1", "seats": [
            {"number": 1, "category": "cat1", "x": 0, "y": 0},
            {"number": 2, "category": "cat1", "x": 1, "y": 0, "flags": ["accessible"]}
          ]},
          {"id": "2", "seats": [{"number": "2a", "category": "cat2", "x": 0, "y": 1}]}
        ]}
      ],
      "best": {"focus": [0.5, 0]}
    }"#;

    #[test]
    fn a_venue_reads_in_file_order_with_its_rows_and_categories() {
        let venue = Venue::parse(HALL).expect("valid");
        let ids: Vec<&str> = venue.seats.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, ["A-1-1", "A-1-2", "A-2-2a"]);
        assert_eq!(venue.rows, [0..2, 2..3]);
        assert_eq!(venue.best, Best::Focus(0.5, 0.0));
        assert_eq!(
            venue.categories().into_iter().collect::<Vec<_>>(),
            [("cat1", 2), ("cat2", 1)]
        );
    }

    #[test]
    fn every_problem_is_named() {
        for (change, problem) in [
            (
                ("\"number\": 2,", "\"number\": 1,"),
                "seat A-1-1 is listed twice",
            ),
            (
                (
                    "{\"id\": \"2\", \"seats\": [{\"number\": \"2a\", \"category\": \"cat2\", \"x\": 0, \"y\": 1}]}",
                    "{\"id\": \"2\", \"seats\": []}",
                ),
                "row A-2 has no seats",
            ),
            (
                ("\"id\": \"2\"", "\"id\": \"1\""),
                "row A-1 is listed twice",
            ),
            (("\"cat2\"", "\"cat 2\""), "category \"cat 2\""),
            (("\"id\": \"A\"", "\"id\": \"A-B\""), "section \"A-B\""),
            (("{\"focus\": [0.5, 0]}", "\"closest\""), "best \"closest\""),
        ] {
            let text = HALL.replacen(change.0, change.1, 1);
            let problems = Venue::parse(&text).expect_err(&text);
            assert!(
                problems.iter().any(|p| p.contains(problem)),
                "{problem}: {problems:?}"
            );
        }
        assert!(Venue::parse("{\"id\": \"x\"}").is_err(), "no sections");
        assert!(Venue::parse("[]").is_err(), "not a venue");
    }
}
