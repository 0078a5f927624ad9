//! Orders as Redis holds them: the authoritative, live record of each reservation. The order
//! database follows these records through the event stream.

use sale::OrderStatus;
use sale::basket::OrderItem;
use serde::{Deserialize, Serialize};

use crate::error::OriginError;

/// One order's record in the event's `orders` hash, written by the Lua scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderRecord {
    /// The buyer.
    pub user: String,
    /// Seats held.
    pub qty: u32,
    /// Where the order is in its life.
    pub status: OrderStatus,
    /// Payment deadline, Unix ms.
    pub pay_by: u64,
    /// Bumped on every state change, so the ledger applies changes in order whatever order it
    /// receives them in.
    pub version: u64,
    /// When it was reserved, Unix ms.
    pub created: u64,
    /// What it costs, minor units (0 for orders reserved before totals were recorded).
    #[serde(default)]
    pub total: u64,
    /// The payment its checkout created, once there was one.
    #[serde(default)]
    pub payment: Option<String>,
    /// Why it was canceled: `canceled` (by the buyer) or `expired`.
    #[serde(default)]
    pub reason: Option<String>,
    /// Its lines (none for an order reserved before ticket types existed).
    #[serde(default)]
    pub items: Vec<RecordItem>,
    /// The SHA-256 of the shared access code whose use it spent, if any.
    #[serde(default)]
    pub code: Option<String>,
    /// Its seats' ids, on a seated event.
    #[serde(default)]
    pub seats: Vec<String>,
    /// Its seats' bits in the event's seat map (what expiry or cancel frees).
    #[serde(default)]
    pub bits: Vec<u32>,
}

/// One line of an order as the scripts store it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordItem {
    /// Ticket type.
    pub t: String,
    /// Quantity.
    pub q: u32,
    /// Unit price, minor units.
    #[serde(default)]
    pub p: u64,
}

impl OrderRecord {
    /// Its lines as the API shows them; an order from before ticket types is one line of
    /// `general` at its total's share.
    pub fn items(&self) -> Vec<OrderItem> {
        if self.items.is_empty() {
            return vec![OrderItem {
                ticket_type: sale::config::catalog_section::GENERAL.to_owned(),
                quantity: self.qty,
                unit_price_cents: self.total / u64::from(self.qty.max(1)),
            }];
        }
        self.items
            .iter()
            .map(|i| OrderItem {
                ticket_type: i.t.clone(),
                quantity: i.q,
                unit_price_cents: i.p,
            })
            .collect()
    }

    /// Parses the JSON the scripts store.
    pub fn from_json(text: &str) -> Result<Self, OriginError> {
        serde_json::from_str(text)
            .map_err(|e| OriginError::Unexpected(format!("order record: {e}")))
    }
}
