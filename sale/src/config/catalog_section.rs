//! What an event sells and when: `[[events.ticket_types]]` (each its own stock, price and
//! per-user limit) and `[[events.phases]]` (windows, the types on sale in each, and who may buy:
//! everyone, or holders of an access code of a channel). An event without ticket types is one
//! implicit type, `general`, with the event's own stock and price; without phases, its own window
//! is one phase open to everyone. So every config written before types existed reads unchanged.
//!
//! Over 400 lines with its unit tests (a test per refused value of both tables, half the file);
//! types and phases are checked against each other, so they stay together.

use serde::Deserialize;

use super::Environment;
use super::problems::Problems;
use super::raw::RawEvent;
use super::values::{self, SaleWindow};

/// The id of the implicit ticket type of an event that lists none.
pub const GENERAL: &str = "general";

/// One `[[events.ticket_types]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTicketType {
    /// `[A-Za-z0-9_-]{1,32}`, unique within the event.
    pub id: String,
    /// Shown on the page.
    pub name: String,
    /// Price of one, minor units.
    pub price_cents: u64,
    /// How many are for sale (1 to 10,000,000); seeded once, like the event's stock. On an event
    /// with a `venue`, the number of the type's seats (which it defaults to).
    pub stock: Option<u32>,
    /// Most of this type one user may hold (default: the event's `per_user_limit`).
    pub per_user_limit: Option<u32>,
    /// Sold, but not listed on the page or in the event document (a package sold by link).
    #[serde(default)]
    pub hidden: bool,
}

/// One `[[events.phases]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    /// `[A-Za-z0-9_-]{1,32}`, unique within the event.
    pub id: String,
    /// Start, like the event's `starts_at`; within the event's window.
    pub starts_at: String,
    /// End, after `starts_at`, within the event's window; phases do not overlap.
    pub ends_at: String,
    /// The ticket types on sale in this phase (default: all).
    pub ticket_types: Option<Vec<String>>,
    /// Only holders of an access code of this channel may buy (absent: anyone).
    pub channel: Option<String>,
}

/// A ticket type, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketType {
    /// Its id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Price of one, minor units.
    pub price_cents: u64,
    /// How many are for sale.
    pub stock: u32,
    /// Most one user may hold.
    pub per_user_limit: u32,
    /// Left out of the page and the event document.
    pub hidden: bool,
}

/// A phase, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phase {
    /// Its id.
    pub id: String,
    /// When it runs.
    pub window: SaleWindow,
    /// The ticket types on sale (ids of the event's types).
    pub ticket_types: Vec<String>,
    /// The access-code channel it needs, if any.
    pub channel: Option<String>,
}

/// Where an event's phases stand at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhaseAt<'a> {
    /// This phase is running.
    Running(&'a Phase),
    /// None runs; this one is next.
    Before(&'a Phase),
    /// Every phase is over.
    After,
}

impl super::EventConfig {
    /// With phases, where they stand at `now` (Unix ms); `None` for an event without phases
    /// (its window is its one phase, open to everyone).
    pub fn phase_at(&self, now: u64) -> Option<PhaseAt<'_>> {
        if self.phases.is_empty() {
            return None;
        }
        let at = match self.phases.iter().find(|p| now < p.window.ends_at) {
            Some(p) if now >= p.window.starts_at => PhaseAt::Running(p),
            Some(p) => PhaseAt::Before(p),
            None => PhaseAt::After,
        };
        Some(at)
    }

    /// The phase whose rules apply at `now`, as the reservation script picks it: the one
    /// running, or (the operator having opened the sale early, `opened`) the next one.
    pub fn phase_in_force(&self, now: u64, opened: bool) -> Option<&Phase> {
        self.phases
            .iter()
            .find(|p| now < p.window.ends_at && (now >= p.window.starts_at || opened))
    }

    /// The channels an access code may be bound to: those of the event's phases.
    pub fn channels(&self) -> impl Iterator<Item = &str> {
        self.phases.iter().filter_map(|p| p.channel.as_deref())
    }
}

/// Most seats one ticket type (or an event of one type) may put on sale.
const MAX_STOCK: u32 = 10_000_000;

fn stock(n: u32) -> Result<u32, String> {
    match n {
        1..=MAX_STOCK => Ok(n),
        n => Err(format!("must be between 1 and {MAX_STOCK}, got {n}")),
    }
}

/// An event's ticket types: those it lists, or its one implicit [`GENERAL`] type with its own
/// `stock` and `price_cents` (the two ways exclude each other); and its `per_user_limit` (already
/// checked, `None` if it was refused) must not exceed their stock together. Problems are named
/// by `field`.
pub(super) fn event_ticket_types(
    p: &mut Problems,
    field: &dyn Fn(&str) -> String,
    raw: &RawEvent,
    per_user_limit: Option<u32>,
    seats: &dyn Fn(&str) -> Option<u32>,
) -> Option<Vec<TicketType>> {
    // Without listed types, a venue's seats are the one type's: `general`.
    let event_stock = match raw.ticket_types.is_empty() {
        true => raw.stock.or_else(|| seats(GENERAL)),
        false => raw.stock,
    };
    let types = match (raw.ticket_types.is_empty(), event_stock, raw.price_cents) {
        (true, Some(n), Some(price_cents)) => p.check(field("stock"), stock(n)).map(|stock| {
            vec![TicketType {
                id: GENERAL.to_owned(),
                name: raw.name.clone(),
                price_cents,
                stock,
                per_user_limit: raw.per_user_limit.unwrap_or(1),
                hidden: false,
            }]
        }),
        (true, None, _) => p.check(
            field("stock"),
            Err("is required (or list ticket_types)".into()),
        ),
        (true, _, None) => p.check(
            field("price_cents"),
            Err("is required (or list ticket_types)".into()),
        ),
        (false, None, None) => ticket_types(
            p,
            &field("ticket_types"),
            &raw.ticket_types,
            per_user_limit?,
            seats,
        ),
        (false, _, _) => p.check(
            field("stock"),
            Err(
                "stock and price_cents are set per ticket type once ticket_types are listed".into(),
            ),
        ),
    };
    if let (Some(types), Some(limit)) = (&types, per_user_limit) {
        let total: u64 = types.iter().map(|t| u64::from(t.stock)).sum();
        if u64::from(limit) > total {
            p.check::<()>(
                field("per_user_limit"),
                Err(format!("must not exceed stock ({total}), got {limit}")),
            );
        }
    }
    types
}

fn short_id(text: &str) -> Result<String, String> {
    let ok = !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "must be 1 to 32 ASCII letters, digits, '-' or '_', got {text:?}"
        ))
    }
}

/// Validates an event's ticket types; `event_limit` is its `per_user_limit`, `seats` a type's
/// seats on a venue (its stock when the type names none). `None` on a problem (recorded in `p`).
pub(super) fn ticket_types(
    p: &mut Problems,
    field: &str,
    raw: &[RawTicketType],
    event_limit: u32,
    seats: &dyn Fn(&str) -> Option<u32>,
) -> Option<Vec<TicketType>> {
    let mut types = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, t) in raw.iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let id = p.check(f("id"), short_id(&t.id));
        if id.is_some() && raw[..i].iter().any(|earlier| earlier.id == t.id) {
            p.check::<()>(f("id"), Err(format!("{:?} is listed twice", t.id)));
            ok = false;
        }
        let name = p.check(
            f("name"),
            if t.name.trim().is_empty() || t.name.chars().count() > 200 {
                Err("must be 1 to 200 characters".to_owned())
            } else {
                Ok(t.name.clone())
            },
        );
        let stock = match t.stock.or_else(|| seats(&t.id)) {
            Some(n) => p.check(f("stock"), stock(n)),
            None => p.check(
                f("stock"),
                Err("is required (or sell seats of a venue)".into()),
            ),
        };
        let limit = t.per_user_limit.unwrap_or(event_limit);
        let per_user_limit = p.check(
            f("per_user_limit"),
            if limit == 0 || limit > event_limit {
                Err(format!(
                    "must be between 1 and the event's per_user_limit ({event_limit}), got {limit}"
                ))
            } else {
                Ok(limit)
            },
        );
        match (id, name, stock, per_user_limit) {
            (Some(id), Some(name), Some(stock), Some(per_user_limit)) => types.push(TicketType {
                id,
                name,
                price_cents: t.price_cents,
                stock,
                per_user_limit,
                hidden: t.hidden,
            }),
            _ => ok = false,
        }
    }
    ok.then_some(types)
}

/// Validates an event's phases against its `window` and ticket `types`.
pub(super) fn phases(
    p: &mut Problems,
    field: &str,
    raw: &[RawPhase],
    window: SaleWindow,
    types: &[TicketType],
    env: &Environment,
) -> Option<Vec<Phase>> {
    let mut phases: Vec<Phase> = Vec::with_capacity(raw.len());
    let mut ok = true;
    for (i, r) in raw.iter().enumerate() {
        let f = |name: &str| format!("{field}[{i}].{name}");
        let id = p.check(f("id"), short_id(&r.id));
        if id.is_some() && raw[..i].iter().any(|earlier| earlier.id == r.id) {
            p.check::<()>(f("id"), Err(format!("{:?} is listed twice", r.id)));
            ok = false;
        }
        let starts = p.check(f("starts_at"), values::instant(&r.starts_at, env.epoch));
        let ends = p.check(f("ends_at"), values::instant(&r.ends_at, env.epoch));
        let phase_window = match (starts, ends) {
            (Some(s), Some(e)) => p.check(
                f("ends_at"),
                SaleWindow::new(s, e).and_then(|w| {
                    if w.starts_at < window.starts_at || w.ends_at > window.ends_at {
                        Err("the phase must lie within the event's starts_at and ends_at".into())
                    } else {
                        Ok(w)
                    }
                }),
            ),
            _ => None,
        };
        let on_sale = match &r.ticket_types {
            None => Some(types.iter().map(|t| t.id.clone()).collect()),
            Some(listed) if listed.is_empty() => p.check(
                f("ticket_types"),
                Err("must name at least one ticket type (or be left out: all)".into()),
            ),
            Some(listed) => match listed.iter().find(|id| !types.iter().any(|t| &t.id == *id)) {
                Some(unknown) => p.check(
                    f("ticket_types"),
                    Err(format!("{unknown:?} is not a ticket type of this event")),
                ),
                None => Some(listed.clone()),
            },
        };
        let channel = match &r.channel {
            Some(channel) => p.check(f("channel"), short_id(channel)).map(Some),
            None => Some(None),
        };
        match (id, phase_window, on_sale, channel) {
            (Some(id), Some(phase_window), Some(ticket_types), Some(channel)) => {
                if let Some(other) = phases.iter().find(|o| {
                    o.window.starts_at < phase_window.ends_at
                        && phase_window.starts_at < o.window.ends_at
                }) {
                    p.check::<()>(
                        f("starts_at"),
                        Err(format!(
                            "overlaps phase {:?}; one phase runs at a time",
                            other.id
                        )),
                    );
                    ok = false;
                }
                phases.push(Phase {
                    id,
                    window: phase_window,
                    ticket_types,
                    channel,
                });
            }
            _ => ok = false,
        }
    }
    phases.sort_by_key(|phase| phase.window.starts_at);
    ok.then_some(phases)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn types(text: &str, event_limit: u32) -> Result<Vec<TicketType>, Vec<String>> {
        #[derive(Deserialize)]
        struct Wrapper {
            ticket_types: Vec<RawTicketType>,
        }
        let raw: Wrapper = toml::from_str(text).expect("valid TOML");
        let mut p = Problems::default();
        ticket_types(&mut p, "t", &raw.ticket_types, event_limit, &|_| None)
            .ok_or_else(|| p.0.iter().map(|x| x.field.clone()).collect())
    }

    const GOOD: &str = r#"
[[ticket_types]]
id = "standing"
name = "Standing"
price_cents = 4900
stock = 100
[[ticket_types]]
id = "vip"
name = "VIP package"
price_cents = 19900
stock = 10
per_user_limit = 1
hidden = true
"#;

    #[test]
    fn types_take_the_event_limit_unless_they_set_their_own() {
        let listed = types(GOOD, 4).expect("valid");
        assert_eq!(listed[0].per_user_limit, 4);
        assert_eq!(listed[1].per_user_limit, 1);
        assert!(listed[1].hidden);
    }

    #[test]
    fn each_bad_type_field_is_refused() {
        for (change, field) in [
            (("\"standing\"", "\"a b\""), "t[0].id"),
            (("id = \"vip\"", "id = \"standing\""), "t[1].id"),
            (("\"Standing\"", "\"\""), "t[0].name"),
            (("stock = 100", "stock = 0"), "t[0].stock"),
            (
                ("per_user_limit = 1", "per_user_limit = 5"),
                "t[1].per_user_limit",
            ),
            (
                ("per_user_limit = 1", "per_user_limit = 0"),
                "t[1].per_user_limit",
            ),
        ] {
            let text = GOOD.replacen(change.0, change.1, 1);
            let refused = types(&text, 4).expect_err(&text);
            assert!(refused.contains(&field.to_owned()), "{text}: {refused:?}");
        }
    }

    fn phases_of(text: &str) -> Result<Vec<Phase>, Vec<String>> {
        #[derive(Deserialize)]
        struct Wrapper {
            phases: Vec<RawPhase>,
        }
        let raw: Wrapper = toml::from_str(text).expect("valid TOML");
        let listed = types(GOOD, 4).expect("valid");
        let window = SaleWindow::new(1_000_000, 9_000_000).expect("a window");
        let mut p = Problems::default();
        phases(
            &mut p,
            "p",
            &raw.phases,
            window,
            &listed,
            &Environment::default(),
        )
        .ok_or_else(|| p.0.iter().map(|x| x.field.clone()).collect())
    }

    const PHASES: &str = r#"
[[phases]]
id = "general"
starts_at = "1970-01-01T00:50:00Z"
ends_at = "1970-01-01T02:00:00Z"
[[phases]]
id = "fanclub"
starts_at = "1970-01-01T00:20:00Z"
ends_at = "1970-01-01T00:40:00Z"
ticket_types = ["vip"]
channel = "fans"
"#;

    #[test]
    fn phases_are_sorted_and_default_to_every_type() {
        let listed = phases_of(PHASES).expect("valid");
        assert_eq!(listed[0].id, "fanclub");
        assert_eq!(listed[0].channel.as_deref(), Some("fans"));
        assert_eq!(listed[1].ticket_types, ["standing", "vip"]);
    }

    #[test]
    fn each_bad_phase_field_is_refused() {
        for (change, field) in [
            (("id = \"fanclub\"", "id = \"general\""), "p[1].id"),
            (("id = \"fanclub\"", "id = \"fan club\""), "p[1].id"),
            (("00:40:00Z", "00:10:00Z"), "p[1].ends_at"),
            (("02:00:00Z", "03:00:00Z"), "p[0].ends_at"),
            (("00:40:00Z", "00:55:00Z"), "p[1].starts_at"),
            (("[\"vip\"]", "[\"balcony\"]"), "p[1].ticket_types"),
            (("[\"vip\"]", "[]"), "p[1].ticket_types"),
            (("\"fans\"", "\"fans club\""), "p[1].channel"),
            (
                (
                    "starts_at = \"1970-01-01T00:20:00Z\"",
                    "starts_at = \"soon\"",
                ),
                "p[1].starts_at",
            ),
        ] {
            let text = PHASES.replacen(change.0, change.1, 1);
            let refused = phases_of(&text).expect_err(&text);
            assert!(refused.contains(&field.to_owned()), "{text}: {refused:?}");
        }
    }
}
