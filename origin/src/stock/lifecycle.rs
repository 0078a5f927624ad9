//! Order transitions after the reservation, through `stock/lifecycle.lua`: `reserved → paid →
//! finished`, or `reserved → canceled` (by the user, or on expiry, returning the seats), and a
//! provider's confirmation (`reserved → paid`, or `canceled → refund_due` when it came too late).
//! Each is one atomic script call that also appends the change to the event's stream.

use std::sync::Arc;

use redis::Script;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;
use sale::{EventId, OrderId, Refusal, UserId};

use crate::error::OriginError;
use crate::orders::OrderRecord;
use sale::replication::Replication;

/// A transition a user asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserAction {
    /// `reserved → paid`.
    Pay,
    /// `reserved → canceled`, seats returned.
    Cancel,
    /// Starts (or resumes) the order's payment at the provider; the order stays `reserved`.
    Checkout {
        /// The event's price now, for an order reserved before totals were recorded.
        unit_cents: u64,
    },
}

/// What a provider's confirmation did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirmed {
    /// `reserved → paid`.
    Paid,
    /// Too late: the order had been canceled or had expired; the money is owed back.
    RefundDue,
    /// Nothing: a failure, or a repeat of a confirmation already applied.
    Unchanged,
}

/// Runs the lifecycle script.
#[derive(Clone)]
pub struct Lifecycle {
    redis: RedisLink,
    replication: Replication,
    script: Arc<Script>,
}

impl std::fmt::Debug for Lifecycle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lifecycle").finish_non_exhaustive()
    }
}

/// The error a refused or unreadable script reply stands for.
fn refused(reply: &[String]) -> OriginError {
    match reply {
        [refused, code] if refused == "refused" => Refusal::from_code(code).map_or_else(
            || OriginError::Unexpected(format!("lifecycle replied {reply:?}")),
            OriginError::from,
        ),
        _ => OriginError::Unexpected(format!("lifecycle replied {reply:?}")),
    }
}

fn invocation<'a>(
    script: &'a Script,
    event: &EventId,
    action: &str,
) -> redis::ScriptInvocation<'a> {
    let keys = EventKeys::new(event);
    let mut call = script.prepare_invoke();
    call.key(keys.seats)
        .key(keys.holders)
        .key(keys.orders)
        .key(keys.deadlines)
        .key(keys.paid)
        .key(keys.stream)
        .key(keys.codes)
        .key(keys.seat_map)
        .arg(action);
    call
}

impl Lifecycle {
    /// Transitions over `redis`, each confirmed as `replication` says.
    pub fn new(redis: RedisLink, replication: Replication) -> Self {
        Self {
            redis,
            replication,
            script: Arc::new(Script::new(concat!(
                include_str!("common.lua"),
                include_str!("lifecycle.lua")
            ))),
        }
    }

    /// Pays or cancels the user's own order; the updated record on success.
    pub async fn apply(
        &self,
        action: UserAction,
        order: &OrderId,
        user: &UserId,
    ) -> Result<OrderRecord, OriginError> {
        let name = match action {
            UserAction::Pay => "pay",
            UserAction::Cancel => "cancel",
            UserAction::Checkout { .. } => "checkout",
        };
        let unit_cents = match action {
            UserAction::Checkout { unit_cents } => unit_cents,
            _ => 0,
        };
        let mut redis = self.redis.clone();
        let reply: Vec<String> = invocation(&self.script, &order.event(), name)
            .arg(order.as_str())
            .arg(user.as_str())
            .arg(sale::payments::new_payment_id())
            .arg(unit_cents)
            .invoke_async(&mut redis)
            .await?;
        match reply.as_slice() {
            [ok, record] if ok == "ok" => {
                let seats = EventKeys::new(&order.event()).seats;
                self.replication.confirm(&mut redis, &seats).await?;
                OrderRecord::from_json(record)
            }
            _ => Err(refused(&reply)),
        }
    }

    /// Applies a provider's confirmation of `payment` (for `amount_cents`) to `order`.
    pub async fn confirm(
        &self,
        order: &OrderId,
        payment: &str,
        amount_cents: u64,
        currency_matches: bool,
        succeeded: bool,
    ) -> Result<(OrderRecord, Confirmed), OriginError> {
        let mut redis = self.redis.clone();
        let reply: Vec<String> = invocation(&self.script, &order.event(), "confirm")
            .arg(order.as_str())
            .arg(payment)
            .arg(amount_cents)
            .arg(if succeeded { "succeeded" } else { "failed" })
            .arg(if currency_matches { "1" } else { "0" })
            .invoke_async(&mut redis)
            .await?;
        let confirmed = match reply.as_slice() {
            [ok, _, what] if ok == "ok" => match what.as_str() {
                "paid" => Confirmed::Paid,
                "refund_due" => Confirmed::RefundDue,
                _ => Confirmed::Unchanged,
            },
            _ => return Err(refused(&reply)),
        };
        // Even a repeat waits for the replicas: its first delivery may have been answered
        // before they confirmed, and the provider must not stop retrying on a change a
        // failover could still lose.
        let seats = EventKeys::new(&order.event()).seats;
        self.replication.confirm(&mut redis, &seats).await?;
        Ok((OrderRecord::from_json(&reply[1])?, confirmed))
    }

    /// Cancels up to `batch` reservations of `event` past their deadline; returns how many.
    pub async fn expire(&self, event: &EventId, batch: usize) -> Result<usize, OriginError> {
        self.sweep(event, "expire", batch).await
    }

    /// Marks up to `batch` paid orders finished if the sale has ended; returns how many.
    pub async fn finish(&self, event: &EventId, batch: usize) -> Result<usize, OriginError> {
        self.sweep(event, "finish", batch).await
    }

    async fn sweep(
        &self,
        event: &EventId,
        action: &str,
        batch: usize,
    ) -> Result<usize, OriginError> {
        let mut redis = self.redis.clone();
        let (_, count): (String, usize) = invocation(&self.script, event, action)
            .arg(batch)
            .invoke_async(&mut redis)
            .await?;
        if count > 0 {
            let seats = EventKeys::new(event).seats;
            self.replication.confirm(&mut redis, &seats).await?;
        }
        Ok(count)
    }
}
