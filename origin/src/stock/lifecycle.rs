//! Order transitions after the reservation, through `stock/lifecycle.lua`: `reserved → paid →
//! finished`, or `reserved → canceled` (by the user, or on expiry, returning the seats). Each is
//! one atomic script call that also appends the change to the event's stream.

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
        };
        let mut redis = self.redis.clone();
        let reply: Vec<String> = invocation(&self.script, &order.event(), name)
            .arg(order.as_str())
            .arg(user.as_str())
            .invoke_async(&mut redis)
            .await?;
        match reply.as_slice() {
            [ok, record] if ok == "ok" => {
                let seats = EventKeys::new(&order.event()).seats;
                self.replication.confirm(&mut redis, &seats).await?;
                OrderRecord::from_json(record)
            }
            [refused, code] if refused == "refused" => Err(Refusal::from_code(code).map_or_else(
                || OriginError::Unexpected(format!("lifecycle replied {reply:?}")),
                OriginError::from,
            )),
            _ => Err(OriginError::Unexpected(format!(
                "lifecycle replied {reply:?}"
            ))),
        }
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
