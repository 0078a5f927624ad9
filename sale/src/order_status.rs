//! The states of an order, the one list every component shares: Redis records, the stream, the
//! database rows and the public API all spell them the same way.

use serde::{Deserialize, Serialize};

/// Where an order is in its life: `reserved → paid → finished`, or `reserved → canceled`; a
/// payment confirmed once the order was canceled or expired makes it `refund_due`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderStatus {
    /// Holds its seats until `pay_by`.
    Reserved,
    /// Paid; the seats are the buyer's.
    Paid,
    /// Paid, and the sale is over.
    Finished,
    /// Canceled by the buyer or on expiry; the seats went back to stock.
    Canceled,
    /// Terminal: the provider confirmed a payment after the order was canceled or expired. The
    /// seats stay where they went (back to stock, perhaps sold again); the money goes back.
    #[serde(rename = "refund_due")]
    RefundDue,
}

impl OrderStatus {
    /// Every state.
    pub const ALL: [Self; 5] = [
        Self::Reserved,
        Self::Paid,
        Self::Finished,
        Self::Canceled,
        Self::RefundDue,
    ];

    /// The state as text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Paid => "paid",
            Self::Finished => "finished",
            Self::Canceled => "canceled",
            Self::RefundDue => "refund_due",
        }
    }

    /// Reads a state written as text.
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the order holds seats.
    pub fn is_live(self) -> bool {
        !matches!(self, Self::Canceled | Self::RefundDue)
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_agree() {
        for status in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
        }
        assert_eq!(OrderStatus::parse("lost"), None);
    }
}
