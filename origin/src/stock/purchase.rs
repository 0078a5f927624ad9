//! One buy's whole protocol on this node: the quantity checked against the limit first (a
//! quantity nobody may hold is a bad request, never "retry later"), then the local allowance,
//! then the reservation script, and the allowance given back for whatever the script did not
//! reserve.

use sale::basket::{Basket, OrderItem, Seats};
use sale::config::EventConfig;
use sale::{Refusal, UserId};

use super::local::{LocalStock, Take};
use super::{Reservation, StockEngine};
use crate::error::OriginError;

/// How a buy ended before or after Redis.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one value per buy, matched at once by the route; boxing would only add an allocation"
)]
pub enum Outcome {
    /// The script ran.
    Script(Reservation),
    /// This node's local allowance is spent; Redis was not asked. Seats may remain (held by
    /// buys still in flight, or in other nodes' shares), so the buyer is told to retry after the
    /// next refill, never "sold out": a false "sold out" would send a buyer away from a seat.
    LocallyExhausted,
}

/// What one buy asks for.
#[derive(Debug)]
pub struct Order<'a> {
    /// The event, as configured.
    pub event: &'a EventConfig,
    /// The buyer.
    pub user: &'a UserId,
    /// What is wanted, priced.
    pub basket: &'a Basket,
    /// The access code as the script reads it (see [`super::Attempt::Buy`]).
    pub code: &'a str,
    /// The purchase token's nonce, burnt with the reservation.
    pub nonce: &'a str,
}

/// Buys `order` on this node.
pub async fn purchase(
    stock: &StockEngine,
    local: &LocalStock,
    order: Order<'_>,
) -> Result<Outcome, OriginError> {
    let Order {
        event,
        user,
        basket,
        code,
        nonce,
    } = order;
    let quantity = basket.quantity();
    if quantity == 0 || quantity > event.per_user_limit {
        return Err(Refusal::BadRequest.into());
    }
    let id = event.id.as_str();
    let Some((taken, lines_taken)) = take_allowance(local, id, basket) else {
        return Ok(Outcome::LocallyExhausted);
    };
    let result = stock
        .reserve(event, user, attempt(basket, code), nonce)
        .await;
    match &result {
        Ok(Reservation::Reserved { remaining, .. }) => local.note_remaining(id, *remaining),
        Ok(Reservation::Refused { remaining, .. }) => {
            local.give_back(id, taken);
            local.give_back_lines(id, lines_taken);
            local.note_remaining(id, *remaining);
        }
        Ok(Reservation::Replayed { .. }) | Err(_) => {
            local.give_back(id, taken);
            local.give_back_lines(id, lines_taken);
        }
    }
    result.map(Outcome::Script)
}

/// What `basket` takes from this node's allowances (the event's, then each line's type's), or
/// none when one is spent. Picked seats take nothing: they are won or lost seat by seat, which only
/// the script knows, and a count could only turn a free seat away as "retry later".
fn take_allowance<'a>(
    local: &LocalStock,
    id: &str,
    basket: &'a Basket,
) -> Option<(u32, &'a [OrderItem])> {
    if matches!(basket.seats, Seats::Picked(_)) {
        return Some((0, &[]));
    }
    let quantity = basket.quantity();
    let taken = match local.take(id, quantity) {
        Take::Granted => quantity,
        Take::Exhausted => return None,
        // Sold out as far as this node knows, but only the script knows whether this token
        // bought before the sell-out: its retry must get that order back, not "sold out".
        Take::SoldOut => 0,
    };
    // Each line from its type's allowance too; a type sold out goes to the script for the same
    // reason as above, and takes nothing here.
    match local.take_lines(id, &basket.items) {
        Take::Granted => Some((taken, &basket.items)),
        Take::Exhausted => {
            local.give_back(id, taken);
            None
        }
        Take::SoldOut => Some((taken, &[])),
    }
}

fn attempt<'a>(basket: &'a Basket, code: &'a str) -> super::Attempt<'a> {
    super::Attempt::Buy {
        items: &basket.items,
        code,
        seats: &basket.seats,
    }
}
