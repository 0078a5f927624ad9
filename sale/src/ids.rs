//! Identifiers that cross trust boundaries: event ids and user ids. Both are validated once at the
//! boundary so they can be put into URLs, Redis keys, signed payloads and SQL without escaping.

use std::fmt;

use thiserror::Error;

/// Why an identifier was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum IdError {
    /// Empty or longer than the limit.
    #[error("must be 1 to {max} characters long")]
    Length {
        /// The longest accepted id.
        max: usize,
    },
    /// A character outside the allowed set.
    #[error("may only contain {allowed}")]
    Charset {
        /// Human description of the allowed characters.
        allowed: &'static str,
    },
}

fn check(
    value: &str,
    max: usize,
    ok: fn(char) -> bool,
    allowed: &'static str,
) -> Result<(), IdError> {
    if value.is_empty() || value.len() > max {
        return Err(IdError::Length { max });
    }
    if !value.chars().all(ok) {
        return Err(IdError::Charset { allowed });
    }
    Ok(())
}

/// An event id: it appears in URLs and in the Redis hash tag `{ev:ID}`, so it is limited to a
/// URL- and key-safe alphabet.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(String);

impl EventId {
    /// The longest event id.
    pub const MAX_LEN: usize = 64;

    /// Validates an event id.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check(
            value,
            Self::MAX_LEN,
            |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
            "ASCII letters, digits, '-' and '_'",
        )?;
        Ok(Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A user id as the site's login service issues it. Newlines and other control characters are
/// refused because signed payloads separate fields with newlines.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(String);

impl UserId {
    /// The longest user id.
    pub const MAX_LEN: usize = 128;

    /// Validates a user id.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        check(
            value,
            Self::MAX_LEN,
            |c| c.is_ascii_graphic(),
            "printable ASCII without spaces",
        )?;
        Ok(Self(value.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An order id: `EVENT.RANDOM`, 128 random bits in hex after the event id. Unguessable, so knowing
/// one order id reveals nothing about others; carrying the event id lets the origin find the
/// event's Redis keys from the id alone.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OrderId(String);

impl OrderId {
    /// A fresh random order id for `event`.
    pub fn generate(event: &EventId) -> Self {
        use rand::RngCore;
        let mut random = [0u8; 16];
        rand::rng().fill_bytes(&mut random);
        Self(format!("{}.{}", event.as_str(), hex::encode(random)))
    }

    /// Validates an order id from a URL.
    pub fn parse(value: &str) -> Result<Self, IdError> {
        let allowed = "EVENT.HEX";
        let (event, random) = value.split_once('.').ok_or(IdError::Charset { allowed })?;
        EventId::parse(event)?;
        if random.len() != 32 || !random.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(IdError::Charset { allowed });
        }
        Ok(Self(value.to_owned()))
    }

    /// The event this order belongs to.
    pub fn event(&self) -> EventId {
        let (event, _) = self.0.split_once('.').expect("validated on construction");
        EventId(event.to_owned())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_ids_are_url_and_key_safe() {
        assert!(EventId::parse("demo-2026_a").is_ok());
        assert_eq!(EventId::parse(""), Err(IdError::Length { max: 64 }));
        assert!(matches!(
            EventId::parse("a}b"),
            Err(IdError::Charset { .. })
        ));
        assert!(matches!(
            EventId::parse("a/b"),
            Err(IdError::Charset { .. })
        ));
        assert!(EventId::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn order_ids_round_trip_and_name_their_event() {
        let event = EventId::parse("demo").unwrap();
        let id = OrderId::generate(&event);
        assert_eq!(OrderId::parse(id.as_str()).unwrap().event(), event);
        assert_ne!(OrderId::generate(&event), id);
        assert!(OrderId::parse("demo").is_err());
        assert!(OrderId::parse("demo.xyz").is_err());
        assert!(OrderId::parse("de/mo.0123456789abcdef0123456789abcdef").is_err());
    }

    #[test]
    fn user_ids_refuse_separators() {
        assert!(UserId::parse("alice@example.com").is_ok());
        assert!(UserId::parse("a\nb").is_err());
        assert!(UserId::parse("a b").is_err());
        assert!(UserId::parse("").is_err());
    }
}
