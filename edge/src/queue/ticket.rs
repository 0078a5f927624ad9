//! The queue ticket: a buyer's place in one event's waiting room, signed by the edge (with the
//! purchase token keys, under its own purpose), so a status poll is answered from the ticket and
//! the serving counter the edge already holds, without a Redis call. It carries the entrant id,
//! the buyer's number (the join number until the draw gives a position), and once admitted when
//! the admission ends. It travels as the `fg_queue_EVENT` cookie (set on every answer) or the
//! `x-fg-queue` header, for clients without cookies.

use pingora::http::RequestHeader;
use sale::draw::EntrantId;
use sale::envelope::{self, Purpose};
use sale::key_ring::KeyRing;
use sale::{EventId, UserId};

/// The header a client without cookies sends its ticket in.
pub const HEADER: &str = "x-fg-queue";

/// A buyer's place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// Its holder's entrant id.
    pub entrant: EntrantId,
    /// The join number, or the position once `positioned`.
    pub number: u64,
    /// Whether `number` is the buyer's position in line.
    pub positioned: bool,
    /// When the admission ends, Unix ms; 0 until admitted.
    pub admitted_until: u64,
}

/// The cookie holding the ticket for `event`.
pub fn cookie_name(event: &EventId) -> String {
    format!("fg_queue_{}", event.as_str())
}

impl Ticket {
    /// Signs the ticket for `user` at `event`.
    pub fn seal(&self, ring: &KeyRing, event: &EventId, user: &UserId) -> String {
        envelope::seal(
            ring,
            Purpose::QueueTicket,
            &[
                event.as_str(),
                user.as_str(),
                &self.entrant.to_string(),
                &self.number.to_string(),
                if self.positioned { "1" } else { "0" },
                &self.admitted_until.to_string(),
            ],
        )
    }

    /// The ticket in `text`, if it is genuine and names this `user` at this `event`.
    pub fn open(ring: &KeyRing, event: &EventId, user: &UserId, text: &str) -> Option<Self> {
        let fields = envelope::open(ring, Purpose::QueueTicket, text).ok()?;
        let [e, u, entrant, number, positioned, until] = fields.as_slice() else {
            return None;
        };
        if e != event.as_str() || u != user.as_str() {
            return None;
        }
        Some(Self {
            entrant: EntrantId::parse(entrant)?,
            number: number.parse().ok()?,
            positioned: positioned == "1",
            admitted_until: until.parse().ok()?,
        })
    }

    /// The ticket `req` carries for `user` at `event` (header first, then cookie), if genuine.
    pub fn from_request(
        req: &RequestHeader,
        ring: &KeyRing,
        event: &EventId,
        user: &UserId,
    ) -> Option<Self> {
        Self::open(ring, event, user, Self::presented(req, event)?)
    }

    /// The sealed ticket text `req` carries for `event` (header first, then cookie), unchecked.
    pub fn presented<'r>(req: &'r RequestHeader, event: &EventId) -> Option<&'r str> {
        let from_header = req.headers.get(HEADER).and_then(|v| v.to_str().ok());
        let name = cookie_name(event);
        let from_cookie = || {
            req.headers
                .get_all(http::header::COOKIE)
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(';'))
                .find_map(|pair| {
                    let (k, v) = pair.trim().split_once('=')?;
                    (k == name).then_some(v)
                })
        };
        from_header.or_else(from_cookie)
    }

    /// Whether this ticket holds an admission that is live at `now`.
    pub fn admitted_at(&self, now: u64) -> bool {
        self.admitted_until > now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sale::key_ring::{KeyId, Secret, SigningKey};

    fn ring() -> KeyRing {
        KeyRing::new(vec![SigningKey {
            id: KeyId::parse("t1").unwrap(),
            secret: Secret::parse("ticket-test-key-0123456789").unwrap(),
        }])
        .unwrap()
    }

    #[test]
    fn a_ticket_opens_only_for_its_user_and_event() {
        let (event, user) = (
            EventId::parse("demo").unwrap(),
            UserId::parse("alice").unwrap(),
        );
        let ticket = Ticket {
            entrant: EntrantId([1; 8]),
            number: 42,
            positioned: true,
            admitted_until: 0,
        };
        let text = ticket.seal(&ring(), &event, &user);
        assert_eq!(Ticket::open(&ring(), &event, &user, &text), Some(ticket));
        let bob = UserId::parse("bob").unwrap();
        assert_eq!(Ticket::open(&ring(), &event, &bob, &text), None);
        let other = EventId::parse("other").unwrap();
        assert_eq!(Ticket::open(&ring(), &other, &user, &text), None);
        assert_eq!(Ticket::open(&ring(), &event, &user, "forged.x.y"), None);
    }
}
