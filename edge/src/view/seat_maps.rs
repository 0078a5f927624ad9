//! `GET /api/events/{id}/seats` from the view: each refresh reads a seated event's bitmap with
//! its counters and renders the answer once (`{venue, taken, as_of}`, the bitmap in the venue
//! file's order, base64), so a crowd watching the map costs the edge a copy of prepared bytes
//! and Redis nothing. An event no origin has seeded yet shows every seat free; before the edge's
//! first read of Redis there is no answer (503).

use std::collections::HashMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use sale::seat_map::SeatMap;
use serde::Serialize;

/// How long a client or a CDN may keep a map answer: the view itself is refreshed every 250 ms.
pub const MAX_AGE: &str = "public, max-age=1";

#[derive(Serialize)]
struct Availability<'a> {
    venue: &'a str,
    taken: String,
    as_of: String,
}

/// One seated event's map as last read.
#[derive(Debug, Clone)]
pub struct SeatAnswer {
    /// What is taken, in the venue file's order (the dashboard draws it).
    pub taken: Bytes,
    /// `GET /api/events/{id}/seats`'s body.
    pub body: Bytes,
}

/// The answer for `map` with Redis bitmap `bits`, read at `now` (Unix ms).
pub fn render(map: &SeatMap, bits: &[u8], now: u64) -> SeatAnswer {
    let taken = Bytes::from(map.public_bitmap(bits));
    let body = Availability {
        venue: &map.venue.id,
        taken: STANDARD.encode(&taken),
        as_of: sale::time::rfc3339(now),
    };
    SeatAnswer {
        taken,
        body: Bytes::from(serde_json::to_vec(&body).unwrap_or_default()),
    }
}

/// Prepared answers by event id.
pub type Rendered = HashMap<String, SeatAnswer>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answer_is_the_public_bitmap_in_base64() {
        let venue = sale::venue::Venue::parse(
            r#"{"id": "hall", "sections": [{"id": "A", "rows": [{"id": "1", "seats": [
              {"number": 1, "category": "b", "x": 0, "y": 0},
              {"number": 2, "category": "a", "x": 1, "y": 0}]}]}]}"#,
        )
        .expect("valid");
        let map = SeatMap::new(venue);
        // Category `a` comes first in Redis: its one seat, A-1-2, is bit 0 there and bit 1 in
        // the file's order.
        let answer = render(&map, &[0b1000_0000], 0);
        assert_eq!(answer.taken.as_ref(), [0b0100_0000]);
        let doc: serde_json::Value = serde_json::from_slice(&answer.body).expect("json");
        assert_eq!(doc["venue"], "hall");
        assert_eq!(doc["taken"], STANDARD.encode([0b0100_0000]));
        assert_eq!(doc["as_of"], "1970-01-01T00:00:00.000Z");
    }
}
