//! What one buy asks for: the body `{"quantity": n}` (n of the event's only ticket type),
//! `{"items": [{"ticket_type", "quantity"}], "access_code"}` (a basket, all or nothing), or
//! nothing (one of the only type), read against the event into priced items. The prices are the
//! config's at this moment; the reservation fixes them in the order.

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
}

/// A buy's basket, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basket {
    /// One line per ticket type, in the order first named.
    pub items: Vec<OrderItem>,
    /// The access code sent with it, if any.
    pub access_code: Option<String>,
}

impl Basket {
    /// Reads `body` (possibly empty) as a buy at `event`.
    pub fn parse(body: &[u8], event: &EventConfig) -> Result<Self, Refusal> {
        let parsed: BuyBody = if body.iter().all(u8::is_ascii_whitespace) {
            BuyBody::default()
        } else {
            serde_json::from_slice(body).map_err(|_| Refusal::BadRequest)?
        };
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
        Ok(Self {
            items,
            access_code: parsed.access_code,
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
}
