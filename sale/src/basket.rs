//! What one buy asks for: the body `{"quantity": n}` (n of the event's only ticket type),
//! `{"items": [{"ticket_type", "quantity"}], "access_code"}` (a basket, all or nothing), or
//! nothing (one of the only type), read against the event into priced items. On a seated event,
//! `{"seats": [ids]}` picks seats (each a line of its category) and the other forms ask for the
//! best available, side by side unless `"together": false`. The prices are the config's at this
//! moment; the reservation fixes them in the order.

use serde::{Deserialize, Serialize};

use crate::config::EventConfig;
use crate::refusal::Refusal;

/// One line of an order: so many of a ticket type at a unit price.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderItem {
    /// The ticket type's id.
    pub ticket_type: String,
    /// How many.
    pub quantity: u32,
    /// The price of one as charged, minor units.
    pub unit_price_cents: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawItem {
    ticket_type: String,
    quantity: u32,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct BuyBody {
    quantity: Option<u32>,
    items: Option<Vec<RawItem>>,
    access_code: Option<String>,
    seats: Option<Vec<String>>,
    together: Option<bool>,
}

/// Which seats a buy takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seats {
    /// The event sells counts, not seats.
    Unseated,
    /// These seats (their bits in the event's seat map), as the buyer named them.
    Picked(Vec<u32>),
    /// Each line's best available seats of its category: side by side in one row, or
    /// (`together: false`, the buyer allowing it) wherever the best ones are.
    Best {
        /// Whether the seats must be side by side.
        together: bool,
    },
}

/// A buy's basket, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basket {
    /// One line per ticket type, in the order first named.
    pub items: Vec<OrderItem>,
    /// The access code sent with it, if any.
    pub access_code: Option<String>,
    /// Its seats, on a seated event.
    pub seats: Seats,
}

impl Basket {
    /// Reads `body` (possibly empty) as a buy at `event`.
    pub fn parse(body: &[u8], event: &EventConfig) -> Result<Self, Refusal> {
        let parsed: BuyBody = if body.iter().all(u8::is_ascii_whitespace) {
            BuyBody::default()
        } else {
            serde_json::from_slice(body).map_err(|_| Refusal::BadRequest)?
        };
        if let Some(named) = parsed.seats {
            if parsed.quantity.is_some() || parsed.items.is_some() {
                return Err(Refusal::BadRequest);
            }
            return Self::picked(event, &named, parsed.access_code);
        }
        let wanted: Vec<(String, u32)> = match (parsed.quantity, parsed.items) {
            (Some(_), Some(_)) => return Err(Refusal::BadRequest),
            (_, Some(items)) if items.is_empty() => return Err(Refusal::BadRequest),
            (_, Some(items)) => items
                .into_iter()
                .map(|i| (i.ticket_type, i.quantity))
                .collect(),
            (quantity, None) => match event.ticket_types.as_slice() {
                [only] => vec![(only.id.clone(), quantity.unwrap_or(1))],
                // Several types: the buyer must say which.
                _ => return Err(Refusal::BadRequest),
            },
        };
        let mut items: Vec<OrderItem> = Vec::with_capacity(wanted.len());
        for (id, quantity) in wanted {
            if quantity == 0 {
                return Err(Refusal::BadRequest);
            }
            let ticket_type = event.ticket_type(&id).ok_or(Refusal::UnknownTicketType)?;
            match items.iter_mut().find(|i| i.ticket_type == id) {
                Some(line) => line.quantity = line.quantity.saturating_add(quantity),
                None => items.push(OrderItem {
                    ticket_type: id,
                    quantity,
                    unit_price_cents: ticket_type.price_cents,
                }),
            }
        }
        let seats = match event.venue {
            Some(_) => Seats::Best {
                together: parsed.together.unwrap_or(true),
            },
            None => Seats::Unseated,
        };
        Ok(Self {
            items,
            access_code: parsed.access_code,
            seats,
        })
    }

    /// The seats `named`, each a line of its category in the order first named.
    fn picked(
        event: &EventConfig,
        named: &[String],
        access_code: Option<String>,
    ) -> Result<Self, Refusal> {
        let map = event.venue.as_deref().ok_or(Refusal::BadRequest)?;
        if named.is_empty() {
            return Err(Refusal::BadRequest);
        }
        let mut bits = Vec::with_capacity(named.len());
        let mut items: Vec<OrderItem> = Vec::new();
        for id in named {
            let (bit, category) = map.bit(id).ok_or(Refusal::UnknownSeat)?;
            if bits.contains(&bit) {
                return Err(Refusal::BadRequest);
            }
            bits.push(bit);
            match items.iter_mut().find(|i| i.ticket_type == category) {
                Some(line) => line.quantity += 1,
                None => items.push(OrderItem {
                    ticket_type: category.to_owned(),
                    quantity: 1,
                    unit_price_cents: event
                        .ticket_type(category)
                        .ok_or(Refusal::UnknownTicketType)?
                        .price_cents,
                }),
            }
        }
        Ok(Self {
            items,
            access_code,
            seats: Seats::Picked(bits),
        })
    }

    /// Seats in all.
    pub fn quantity(&self) -> u32 {
        self.items
            .iter()
            .fold(0u32, |sum, i| sum.saturating_add(i.quantity))
    }

    /// What it costs.
    pub fn total_cents(&self) -> u64 {
        total_cents(&self.items)
    }
}

/// What `items` cost together.
pub fn total_cents(items: &[OrderItem]) -> u64 {
    items
        .iter()
        .map(|i| u64::from(i.quantity) * i.unit_price_cents)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{SaleWindow, TicketType};

    fn event(types: &[(&str, u64)]) -> EventConfig {
        EventConfig {
            id: crate::EventId::parse("demo").unwrap(),
            name: "d".into(),
            price_cents: 1,
            currency: "EUR".into(),
            stock: 10,
            per_user_limit: 4,
            window: SaleWindow::new(1, 2).unwrap(),
            reservation_ttl: std::time::Duration::from_secs(60),
            queue: None,
            ticket_types: types
                .iter()
                .map(|(id, price)| TicketType {
                    id: (*id).into(),
                    name: (*id).into(),
                    price_cents: *price,
                    stock: 5,
                    per_user_limit: 4,
                    hidden: false,
                })
                .collect(),
            phases: Vec::new(),
            venue: None,
        }
    }

    #[test]
    fn a_quantity_buys_the_only_type() {
        let general = event(&[("general", 1000)]);
        let one = Basket::parse(b"", &general).unwrap();
        assert_eq!((one.quantity(), one.total_cents()), (1, 1000));
        let two = Basket::parse(br#"{"quantity":2}"#, &general).unwrap();
        assert_eq!((two.quantity(), two.total_cents()), (2, 2000));
        let several = event(&[("standing", 1000), ("vip", 5000)]);
        assert_eq!(Basket::parse(b"", &several), Err(Refusal::BadRequest));
        assert_eq!(
            Basket::parse(br#"{"quantity":1}"#, &several),
            Err(Refusal::BadRequest)
        );
    }

    #[test]
    fn items_are_priced_and_merged() {
        let several = event(&[("standing", 1000), ("vip", 5000)]);
        let body = br#"{"items":[{"ticket_type":"vip","quantity":1},{"ticket_type":"standing","quantity":2},{"ticket_type":"vip","quantity":1}],"access_code":"X"}"#;
        let basket = Basket::parse(body, &several).unwrap();
        assert_eq!(basket.items.len(), 2);
        assert_eq!(basket.items[0].quantity, 2);
        assert_eq!((basket.quantity(), basket.total_cents()), (4, 12000));
        assert_eq!(basket.access_code.as_deref(), Some("X"));
    }

    #[test]
    fn bad_baskets_are_refused() {
        let several = event(&[("standing", 1000), ("vip", 5000)]);
        for (body, refusal) in [
            (&br#"{"items":[]}"#[..], Refusal::BadRequest),
            (
                br#"{"items":[{"ticket_type":"vip","quantity":0}]}"#,
                Refusal::BadRequest,
            ),
            (
                br#"{"items":[{"ticket_type":"balcony","quantity":1}]}"#,
                Refusal::UnknownTicketType,
            ),
            (
                br#"{"quantity":1,"items":[{"ticket_type":"vip","quantity":1}]}"#,
                Refusal::BadRequest,
            ),
            (br#"{"qty":2}"#, Refusal::BadRequest),
            (br#"{"quantity":-1}"#, Refusal::BadRequest),
            (b"not json", Refusal::BadRequest),
        ] {
            assert_eq!(
                Basket::parse(body, &several),
                Err(refusal),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    fn seated() -> EventConfig {
        let venue = crate::venue::Venue::parse(
            r#"{"id": "v", "sections": [{"id": "A", "rows": [{"id": "1", "seats": [
              {"number": 1, "category": "standing", "x": 0, "y": 0},
              {"number": 2, "category": "vip", "x": 1, "y": 0},
              {"number": 3, "category": "vip", "x": 2, "y": 0}]}]}]}"#,
        )
        .unwrap();
        EventConfig {
            venue: Some(std::sync::Arc::new(crate::seat_map::SeatMap::new(venue))),
            ..event(&[("standing", 1000), ("vip", 5000)])
        }
    }

    #[test]
    fn picked_seats_are_lines_of_their_categories() {
        let event = seated();
        let basket = Basket::parse(br#"{"seats":["A-1-2","A-1-1","A-1-3"]}"#, &event).unwrap();
        let lines: Vec<_> = basket
            .items
            .iter()
            .map(|i| (i.ticket_type.as_str(), i.quantity))
            .collect();
        assert_eq!(lines, [("vip", 2), ("standing", 1)]);
        assert_eq!(basket.total_cents(), 11000);
        let map = event.venue.as_deref().unwrap();
        let Seats::Picked(bits) = &basket.seats else {
            panic!("picked: {basket:?}")
        };
        assert_eq!(map.seat_ids(bits), ["A-1-2", "A-1-1", "A-1-3"]);
    }

    #[test]
    fn a_seated_basket_asks_for_the_best_together_unless_told() {
        let event = seated();
        let body = br#"{"items":[{"ticket_type":"vip","quantity":2}]}"#;
        let basket = Basket::parse(body, &event).unwrap();
        assert_eq!(basket.seats, Seats::Best { together: true });
        let body = br#"{"items":[{"ticket_type":"vip","quantity":2}],"together":false}"#;
        let basket = Basket::parse(body, &event).unwrap();
        assert_eq!(basket.seats, Seats::Best { together: false });
        let unseated = event_unseated();
        let basket = Basket::parse(br#"{"quantity":1,"together":true}"#, &unseated).unwrap();
        assert_eq!(basket.seats, Seats::Unseated);
    }

    fn event_unseated() -> EventConfig {
        event(&[("general", 1000)])
    }

    #[test]
    fn bad_seat_choices_are_refused() {
        let event = seated();
        for (body, refusal) in [
            (&br#"{"seats":["A-1-9"]}"#[..], Refusal::UnknownSeat),
            (br#"{"seats":["A-1-1","A-1-1"]}"#, Refusal::BadRequest),
            (br#"{"seats":[]}"#, Refusal::BadRequest),
            (
                br#"{"seats":["A-1-1"],"items":[{"ticket_type":"vip","quantity":1}]}"#,
                Refusal::BadRequest,
            ),
        ] {
            assert_eq!(
                Basket::parse(body, &event),
                Err(refusal),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            Basket::parse(br#"{"seats":["A-1-1"]}"#, &event_unseated()),
            Err(Refusal::BadRequest)
        );
    }
}
