//! What selling a venue's seats needs beyond the file: where each seat's bit lives in Redis, the
//! runs best-available walks, and the public map document.
//!
//! Redis keeps one bitmap per event (1 = held or sold). Its bits are not in the venue file's
//! order but grouped by category, each category's seats in best-first order: row by row (a row
//! split into runs where its category changes), each run's seats side by side. So the script finds
//! a category's best free seat with one `BITPOS` over the category's range and walks runs that are
//! adjacent in memory, never the whole venue. The public bitmap (`GET /api/events/{id}/seats`) is
//! in the file's order, rebuilt from this one by the edge.

use std::collections::{BTreeMap, HashMap};

use bytes::Bytes;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::venue::{Best, Venue};

/// Bytes of one run as the script reads it: its first bit (u32), its length (u16) and the offset
/// of its best seat (u16), big-endian (`struct.unpack('>I4I2I2', …)`).
pub const RUN_BYTES: usize = 8;

/// One category's part of the bitmap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryLayout {
    /// The category (a ticket type id).
    pub id: String,
    /// Its first bit.
    pub start: u32,
    /// Its seats.
    pub count: u32,
    /// Its runs, best first, packed for the script ([`RUN_BYTES`] each).
    pub runs: Vec<u8>,
}

/// A venue made ready to sell.
#[derive(Debug, Clone)]
pub struct SeatMap {
    /// The venue as read.
    pub venue: Venue,
    /// Changes whenever a seat's bit, its id or the runs would: the scripts refuse to sell an
    /// event seeded under another one.
    pub fingerprint: String,
    /// Each category's part, in id order.
    pub categories: Vec<CategoryLayout>,
    by_id: HashMap<String, u32>,
    bit_of: Vec<u32>,
    seat_of: Vec<u32>,
    document: Bytes,
}

/// Two maps are the same when they sell the same bits and draw the same map.
impl PartialEq for SeatMap {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint && self.document == other.document
    }
}

impl Eq for SeatMap {}

/// A run of seats side by side in one row, all of one category.
struct Run {
    first: usize,
    len: usize,
    rank: f64,
    best: usize,
}

impl SeatMap {
    /// Lays `venue` out for selling.
    pub fn new(venue: Venue) -> Self {
        let mut runs: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
        for (row_rank, row) in venue.rows.iter().enumerate() {
            let seats = &venue.seats[row.clone()];
            let middle = seats.iter().map(|s| s.x).sum::<f64>() / seats.len() as f64;
            let mut first = 0;
            while first < seats.len() {
                let category = seats[first].category.as_str();
                let len = seats[first..]
                    .iter()
                    .take_while(|s| s.category == category)
                    .count();
                let span = &seats[first..first + len];
                let distance = |i: usize| match venue.best {
                    Best::RowOrder => (span[i].x - middle).abs(),
                    Best::Focus(x, y) => (span[i].x - x).hypot(span[i].y - y),
                };
                let best = (0..len)
                    .min_by(|a, b| distance(*a).total_cmp(&distance(*b)))
                    .unwrap_or(0);
                let rank = match venue.best {
                    Best::RowOrder => row_rank as f64,
                    Best::Focus(..) => distance(best),
                };
                runs.entry(category).or_default().push(Run {
                    first: row.start + first,
                    len,
                    rank,
                    best,
                });
                first += len;
            }
        }
        let mut bit_of = vec![0; venue.seats.len()];
        let mut seat_of = Vec::with_capacity(venue.seats.len());
        let mut categories = Vec::with_capacity(runs.len());
        for (id, mut list) in runs {
            list.sort_by(|a, b| a.rank.total_cmp(&b.rank).then(a.first.cmp(&b.first)));
            let start = seat_of.len();
            let mut packed = Vec::with_capacity(list.len() * RUN_BYTES);
            for run in &list {
                packed.extend_from_slice(&(seat_of.len() as u32).to_be_bytes());
                packed.extend_from_slice(&(run.len as u16).to_be_bytes());
                packed.extend_from_slice(&(run.best as u16).to_be_bytes());
                for (seat, bit) in bit_of.iter_mut().enumerate().skip(run.first).take(run.len) {
                    *bit = seat_of.len() as u32;
                    seat_of.push(seat as u32);
                }
            }
            categories.push(CategoryLayout {
                id: id.to_owned(),
                start: start as u32,
                count: (seat_of.len() - start) as u32,
                runs: packed,
            });
        }
        let by_id = venue
            .seats
            .iter()
            .enumerate()
            .map(|(i, s)| (s.id.clone(), i as u32))
            .collect();
        let mut digest = Sha256::new();
        for category in &categories {
            digest.update(category.id.as_bytes());
            digest.update(category.start.to_be_bytes());
            digest.update(&category.runs);
        }
        // The seat at each bit: a renamed or reordered row moves no bit but changes who sits there.
        for seat in &seat_of {
            digest.update(venue.seats[*seat as usize].id.as_bytes());
            digest.update([0]);
        }
        let fingerprint = hex::encode(&digest.finalize()[..16]);
        let document =
            Bytes::from(serde_json::to_vec(&MapDocument::of(&venue)).unwrap_or_default());
        Self {
            venue,
            fingerprint,
            categories,
            by_id,
            bit_of,
            seat_of,
            document,
        }
    }

    /// The bit of the seat `id`, and its category.
    pub fn bit(&self, id: &str) -> Option<(u32, &str)> {
        let seat = *self.by_id.get(id)? as usize;
        Some((self.bit_of[seat], self.venue.seats[seat].category.as_str()))
    }

    /// The id of the seat at `bit`.
    pub fn seat_id(&self, bit: u32) -> Option<&str> {
        let seat = *self.seat_of.get(bit as usize)? as usize;
        Some(self.venue.seats[seat].id.as_str())
    }

    /// The ids of the seats at `bits`, in that order (unknown bits left out).
    pub fn seat_ids(&self, bits: &[u32]) -> Vec<String> {
        bits.iter()
            .filter_map(|b| self.seat_id(*b).map(str::to_owned))
            .collect()
    }

    /// The layout of `category`.
    pub fn category(&self, id: &str) -> Option<&CategoryLayout> {
        self.categories.iter().find(|c| c.id == id)
    }

    /// Seats in all.
    pub fn len(&self) -> usize {
        self.seat_of.len()
    }

    /// Whether the venue has no seats (never, once checked).
    pub fn is_empty(&self) -> bool {
        self.seat_of.is_empty()
    }

    /// `GET /api/venues/{venue}`'s body.
    pub fn document(&self) -> &Bytes {
        &self.document
    }

    /// The public bitmap (the venue file's order) of `bits`, the Redis bitmap; a short one (never
    /// seeded, or cut short by Redis when its tail is zero) counts as free.
    pub fn public_bitmap(&self, bits: &[u8]) -> Vec<u8> {
        let mut public = vec![0u8; self.seat_of.len().div_ceil(8)];
        for (bit, seat) in self.seat_of.iter().enumerate() {
            if is_set(bits, bit) {
                let seat = *seat as usize;
                public[seat / 8] |= 0x80 >> (seat % 8);
            }
        }
        public
    }

    /// Free seats with no free neighbour in their row and category (a taken seat, another
    /// category or the row's end on both sides): the seats a sale left stranded, in `bits`.
    pub fn stranded(&self, bits: &[u8]) -> usize {
        let mut stranded = 0;
        for category in &self.categories {
            for run in category.runs.chunks_exact(RUN_BYTES) {
                let first = u32::from_be_bytes([run[0], run[1], run[2], run[3]]) as usize;
                let len = usize::from(u16::from_be_bytes([run[4], run[5]]));
                let free = |i: usize| i < len && !is_set(bits, first + i);
                stranded += (0..len)
                    .filter(|&i| free(i) && !(i > 0 && free(i - 1)) && !free(i + 1))
                    .count();
            }
        }
        stranded
    }
}

/// Whether bit `bit` of a Redis bitmap is set (counted from each byte's most significant bit).
pub fn is_set(bits: &[u8], bit: usize) -> bool {
    bits.get(bit / 8)
        .is_some_and(|b| b & (0x80 >> (bit % 8)) != 0)
}

#[derive(Serialize)]
struct MapDocument<'a> {
    id: &'a str,
    sections: Vec<MapSection<'a>>,
}

#[derive(Serialize)]
struct MapSection<'a> {
    id: &'a str,
    rows: Vec<MapRow<'a>>,
}

#[derive(Serialize)]
struct MapRow<'a> {
    id: &'a str,
    seats: Vec<MapSeat<'a>>,
}

#[derive(Serialize)]
struct MapSeat<'a> {
    id: &'a str,
    category: &'a str,
    x: f64,
    y: f64,
    flags: &'a [String],
}

impl<'a> MapDocument<'a> {
    /// The contract's map: sections and rows as the file has them (a seat's id names both).
    fn of(venue: &'a Venue) -> Self {
        let mut sections: Vec<MapSection<'a>> = Vec::new();
        for row in &venue.rows {
            let seats = &venue.seats[row.clone()];
            let mut parts = seats[0].id.splitn(3, '-');
            let section = parts.next().unwrap_or_default();
            let row_id = parts.next().unwrap_or_default();
            if sections.last().is_none_or(|s| s.id != section) {
                sections.push(MapSection {
                    id: section,
                    rows: Vec::new(),
                });
            }
            let seats = seats
                .iter()
                .map(|s| MapSeat {
                    id: &s.id,
                    category: &s.category,
                    x: s.x,
                    y: s.y,
                    flags: &s.flags,
                })
                .collect();
            if let Some(last) = sections.last_mut() {
                last.rows.push(MapRow { id: row_id, seats });
            }
        }
        Self {
            id: &venue.id,
            sections,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venue(rows: &[&str], best: &str) -> Venue {
        Venue::parse(&crate::venue::test_file(rows, best)).expect("valid")
    }

    fn runs(map: &SeatMap, category: &str) -> Vec<(u32, u16, u16)> {
        map.category(category)
            .expect("category")
            .runs
            .chunks_exact(RUN_BYTES)
            .map(|r| {
                (
                    u32::from_be_bytes([r[0], r[1], r[2], r[3]]),
                    u16::from_be_bytes([r[4], r[5]]),
                    u16::from_be_bytes([r[6], r[7]]),
                )
            })
            .collect()
    }

    #[test]
    fn categories_are_grouped_and_rows_split_where_the_category_changes() {
        let map = SeatMap::new(venue(&["1122", "1111"], "\"row_order\""));
        let c1 = map.category("c1").expect("c1");
        assert_eq!((c1.start, c1.count), (0, 6));
        assert_eq!(runs(&map, "c1"), [(0, 2, 1), (2, 4, 1)]);
        assert_eq!(runs(&map, "c2"), [(6, 2, 0)]);
        assert_eq!(map.bit("S-1-3"), Some((6, "c2")));
        assert_eq!(map.seat_id(2), Some("S-2-1"));
        assert_eq!(map.bit("S-9-9"), None);
    }

    #[test]
    fn a_focus_puts_the_nearest_runs_first_and_their_nearest_seat_best() {
        let map = SeatMap::new(venue(&["111111", "111111"], "{\"focus\": [5, 2]}"));
        assert_eq!(runs(&map, "c1"), [(0, 6, 5), (6, 6, 5)]);
        assert_eq!(map.seat_id(0), Some("S-2-1"), "row 2 is nearer the focus");
    }

    #[test]
    fn the_public_bitmap_is_in_file_order_and_stranded_seats_are_counted() {
        let map = SeatMap::new(venue(&["1122", "1111"], "\"row_order\""));
        // Bits 0 (S-1-1) and 3 (S-2-2) taken; S-1-2 is then alone against the row's end and
        // S-2-1 alone between the row's start and a taken seat.
        let bits = [0b1001_0000];
        assert_eq!(map.public_bitmap(&bits), [0b1000_0100]);
        assert_eq!(map.stranded(&bits), 2);
        assert_eq!(map.stranded(&[]), 0);
    }

    #[test]
    fn the_fingerprint_follows_the_layout() {
        let a = SeatMap::new(venue(&["1122"], "\"row_order\""));
        let b = SeatMap::new(venue(&["1122"], "\"row_order\""));
        let c = SeatMap::new(venue(&["1212"], "\"row_order\""));
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        // Two rows of the same shape swapped: the same runs, other seats at the same bits.
        let rows = crate::venue::test_file(&["11", "11"], "\"row_order\"");
        let swapped = rows.replacen("\"id\": \"1\"", "\"id\": \"x\"", 1).replacen(
            "\"id\": \"2\"",
            "\"id\": \"1\"",
            1,
        );
        let d = SeatMap::new(Venue::parse(&rows).expect("valid"));
        let e = SeatMap::new(
            Venue::parse(&swapped.replacen("\"id\": \"x\"", "\"id\": \"2\"", 1)).expect("valid"),
        );
        assert_eq!(d.seat_id(0), Some("S-1-1"));
        assert_eq!(e.seat_id(0), Some("S-2-1"));
        assert_ne!(d.fingerprint, e.fingerprint);
    }

    #[test]
    fn the_document_names_sections_rows_and_seats() {
        let map = SeatMap::new(venue(&["12"], "\"row_order\""));
        let doc: serde_json::Value = serde_json::from_slice(map.document()).expect("json");
        assert_eq!(doc["id"], "v");
        assert_eq!(doc["sections"][0]["id"], "S");
        assert_eq!(doc["sections"][0]["rows"][0]["id"], "1");
        assert_eq!(doc["sections"][0]["rows"][0]["seats"][1]["id"], "S-1-2");
        assert_eq!(doc["sections"][0]["rows"][0]["seats"][1]["category"], "c2");
    }
}
