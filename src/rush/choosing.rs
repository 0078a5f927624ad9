//! What a rush buyer asks for, as a page's visitor would choose: one seat of an event's only type
//! (no body), or on an event of several types a basket of one or two of them; and in a phase
//! that needs an access code, the buyer's own bound code, or (a share of buyers) a guess, which
//! must be refused. At a seated event, [`super::seating`] chooses the seats.

use rand::Rng;
use rand::seq::IndexedRandom;
use sale::config::EventConfig;
use sale::config::catalog_section::PhaseAt;
use sale::key_ring::KeyRing;

/// What the buyers choose from.
#[derive(Debug, Clone)]
pub struct Chooser {
    /// The event as configured.
    pub event: EventConfig,
    /// The token keys, to issue each buyer's bound code as the operator would have.
    pub code_keys: KeyRing,
    /// Share of buyers in a coded phase who guess instead of using their code.
    pub guess_share: f64,
    /// Shared codes of the presale's channel; half of the buyers with a code use one of these.
    pub shared: Vec<String>,
    /// At a seated event (`--seated`): best available groups and picks of the hottest seats.
    pub seating: Option<super::seating::Seating>,
}

/// One buy's body, and whether its code is a guess.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    /// The JSON body, or none (one seat of the only type).
    pub body: Option<serde_json::Value>,
    /// The body carries a made-up code.
    pub guessed: bool,
    /// The body picks seats by id.
    pub picked: bool,
}

impl Chooser {
    /// `user`'s choice at `now` (Unix ms).
    pub fn choose(&self, user: &str, now: u64) -> Choice {
        let mut rng = rand::rng();
        let running = match self.event.phase_at(now) {
            Some(PhaseAt::Running(phase)) => Some(phase),
            _ => None,
        };
        let on_sale: Vec<&str> = self
            .event
            .ticket_types
            .iter()
            .map(|t| t.id.as_str())
            .filter(|id| running.is_none_or(|p| p.ticket_types.iter().any(|t| t == id)))
            .collect();
        let mut picked = false;
        let mut body = if let Some(seating) = &self.seating {
            let (body, picks) = seating.choose(&mut rng);
            picked = picks;
            body
        } else if self.event.ticket_types.len() < 2 || on_sale.is_empty() {
            serde_json::json!({})
        } else {
            let count = if on_sale.len() > 1 && rng.random_bool(0.5) {
                2
            } else {
                1
            };
            let lines: Vec<_> = on_sale
                .choose_multiple(&mut rng, count)
                .map(|t| serde_json::json!({"ticket_type": t, "quantity": 1}))
                .collect();
            serde_json::json!({ "items": lines })
        };
        let mut guessed = false;
        if let Some(channel) = running.and_then(|p| p.channel.as_deref()) {
            guessed = rng.random_bool(self.guess_share.clamp(0.0, 1.0));
            body["access_code"] = if guessed {
                format!("GUESS{:011}", rng.random_range(0..100_000_000_000u64)).into()
            } else if let Some(shared) = self
                .shared
                .choose(&mut rng)
                .filter(|_| rng.random_bool(0.5))
            {
                shared.clone().into()
            } else {
                sale::access_code::issue(&self.code_keys, self.event.id.as_str(), channel, user)
                    .into()
            };
        }
        let empty = body.as_object().is_some_and(serde_json::Map::is_empty);
        Choice {
            body: (!empty).then_some(body),
            guessed,
            picked,
        }
    }
}
