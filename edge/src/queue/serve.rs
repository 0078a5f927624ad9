//! The waiting room's endpoints: the buyer's place (`GET`/`POST …/queue`), the proof-of-work
//! challenge, and the published fairness record. A poll with a ticket is answered from the
//! ticket and this edge's view; Redis is asked only to join, to learn a position the draw has
//! just given, or to grant an admission once a buyer's turn has come.

use sale::config::{EventConfig, QueueConfig};
use sale::draw::{self, EntrantId};
use sale::{Config, EventId, Refusal, UserId};
use serde_json::json;

use super::store::{self, Grant, Joined};
use super::ticket::{self, Ticket};
use super::{QueueDocument, QueueState, eta, poll_after};
use crate::redis_handle::RedisHandle;
use crate::respond::Answer;

/// The `admitted_until` of a ticket whose turn passed unclaimed: an admission that ended before
/// it began.
const PASSED: u64 = 1;

/// One event's room as a request sees it.
pub struct Room<'a> {
    /// The config in force.
    pub config: &'a Config,
    /// The event.
    pub event: &'a EventConfig,
    /// Its queue settings.
    pub queue: &'a QueueConfig,
    /// The room as last read.
    pub state: QueueState,
    /// Whether the event's seats are gone (from the event view).
    pub sold_out: bool,
    /// Whether the operator has closed the sale (`POST /admin/events/{id}/close`): the room is
    /// over as if its window had ended, until the operator opens it again.
    pub closed: bool,
    /// The process's Redis.
    pub redis: &'a RedisHandle,
}

fn unavailable(e: &dyn std::fmt::Display) -> Refusal {
    tracing::warn!(error = %e, "waiting room: redis unavailable or replicas behind");
    Refusal::Unavailable
}

impl Room<'_> {
    /// The longest poll interval this room may tell a buyer, in seconds.
    fn longest_poll(&self) -> u64 {
        self.queue.longest_poll().as_secs()
    }

    /// Whether the sale is over at `now`: its window ended, or the operator closed it.
    fn over(&self, now: u64) -> bool {
        self.closed || now >= self.event.window.ends_at
    }

    fn id(&self) -> &EventId {
        &self.event.id
    }

    async fn con(&self) -> Result<sale::redis_link::RedisLink, Refusal> {
        self.redis
            .room_connection()
            .await
            .map_err(|e| unavailable(&e))
    }

    /// Waits until replicas hold what `con` wrote to the room; a buyer is never answered with a
    /// place or an admission a failover could take back.
    async fn confirm(&self, con: &mut sale::redis_link::RedisLink) -> Result<(), Refusal> {
        let queue = sale::redis_keys::EventKeys::new(self.id()).queue;
        self.redis
            .confirm(con, &queue)
            .await
            .map_err(|e| unavailable(&e))
    }

    fn entrant(&self, salt: &[u8], user: &UserId) -> EntrantId {
        draw::entrant_id(salt, self.id(), user)
    }

    /// Whether a join number is already a position, by what the view knows.
    fn positioned(&self, number: u64) -> bool {
        self.state.drawn || self.state.frozen.is_some_and(|frozen| number > frozen)
    }

    /// The place of the holder of `ticket`, asking Redis only when it has news for them.
    async fn place(
        &self,
        mut ticket: Ticket,
        now: u64,
    ) -> Result<(QueueDocument, Ticket), Refusal> {
        let entrant = ticket.entrant;
        if ticket.admitted_until > 0 {
            return Ok((self.admitted(&ticket, now), ticket));
        }
        if self.sold_out {
            return Ok((QueueDocument::bare("sold_out", self.longest_poll()), ticket));
        }
        if !ticket.positioned && self.state.drawn {
            let mut con = self.con().await?;
            let number = store::number_of(&mut con, self.event, entrant).await;
            if let Some(number) = number.map_err(|e| unavailable(&e))? {
                ticket.number = number;
                ticket.positioned = true;
            }
        }
        if !ticket.positioned {
            let eta = self
                .event
                .window
                .starts_at
                .saturating_sub(now)
                .div_ceil(1000);
            let mut doc = QueueDocument::bare("pre_queue", poll_after(eta, self.queue));
            doc.eta_seconds = Some(eta);
            return Ok((doc, ticket));
        }
        let position = ticket.number;
        let serving = self.state.serving;
        if position <= serving {
            let mut con = self.con().await?;
            let granted = store::grant(&mut con, self.event, self.queue, entrant, position).await;
            match granted.map_err(|e| unavailable(&e))? {
                Grant::Admitted(until) => {
                    self.confirm(&mut con).await?;
                    ticket.admitted_until = until;
                    return Ok((self.admitted(&ticket, now), ticket));
                }
                Grant::SoldOut => {
                    return Ok((QueueDocument::bare("sold_out", self.longest_poll()), ticket));
                }
                Grant::Passed => {
                    ticket.admitted_until = PASSED;
                    return Ok((self.admitted(&ticket, now), ticket));
                }
                Grant::Waiting => {}
            }
        }
        let ahead = position.saturating_sub(serving + 1);
        let wait = eta(
            position.saturating_sub(serving),
            self.queue.admit_rate.period,
        );
        let mut doc = QueueDocument::bare("waiting", poll_after(wait, self.queue));
        doc.position = Some(position);
        doc.ahead = Some(ahead);
        doc.eta_seconds = (!self.state.paused).then_some(wait);
        Ok((doc, ticket))
    }

    fn admitted(&self, ticket: &Ticket, now: u64) -> QueueDocument {
        let live = ticket.admitted_at(now);
        let mut doc = QueueDocument::bare(
            if live { "admitted" } else { "expired" },
            self.longest_poll().min(5),
        );
        doc.position = Some(ticket.number);
        doc.ahead = Some(0);
        doc.eta_seconds = Some(0);
        doc.admitted_until =
            (ticket.admitted_until != PASSED).then(|| sale::time::rfc3339(ticket.admitted_until));
        doc
    }

    /// The answer for a document and its (re-signed) ticket, also set as the room's cookie.
    fn answer(&self, mut doc: QueueDocument, ticket: Option<&Ticket>, user: &UserId) -> Answer {
        let mut headers = Vec::new();
        if let Some(ticket) = ticket {
            let sealed = ticket.seal(&self.config.secrets.token_keys, self.id(), user);
            headers.push((
                "set-cookie",
                format!(
                    "{}={sealed}; Path=/; HttpOnly; SameSite=Strict",
                    ticket::cookie_name(self.id())
                ),
            ));
            doc.entrant = Some(ticket.entrant.to_string());
            doc.ticket = Some(sealed);
        }
        Answer::json(200, &doc, headers)
    }

    /// `GET …/queue`: where `user` stands, given the genuine ticket they presented (and its
    /// sealed text). A poll whose ticket is unchanged gets its own text back instead of a new one
    /// (no signing, no cookie): most polls of a long wait are answered with the ticket's facts.
    pub async fn status(
        &self,
        user: &UserId,
        presented: Option<(Ticket, String)>,
        now: u64,
    ) -> Answer {
        let (ticket, sealed) = presented.unzip();
        let presented = ticket.clone();
        if self.over(now) {
            return self.answer(QueueDocument::bare("ended", 60), None, user);
        }
        let ticket = match (ticket, &self.state.salt) {
            (Some(ticket), _) => Some(ticket),
            // No ticket (another device, or cookies off): Redis knows whether they joined.
            (None, Some(salt)) => {
                let entrant = self.entrant(salt, user);
                let found = match self.con().await {
                    Ok(mut con) => store::number_of(&mut con, self.event, entrant).await,
                    Err(refusal) => return Answer::Refuse(refusal, Vec::new()),
                };
                match found {
                    Ok(number) => number.map(|number| Ticket {
                        entrant,
                        number,
                        positioned: self.positioned(number),
                        admitted_until: 0,
                    }),
                    Err(e) => return Answer::Refuse(unavailable(&e), Vec::new()),
                }
            }
            (None, None) => None,
        };
        let Some(ticket) = ticket else {
            return self.answer(QueueDocument::bare("not_joined", 5), None, user);
        };
        match self.place(ticket, now).await {
            Ok((mut doc, ticket)) if presented.as_ref() == Some(&ticket) => {
                doc.entrant = Some(ticket.entrant.to_string());
                doc.ticket = sealed;
                self.answer(doc, None, user)
            }
            Ok((doc, ticket)) => self.answer(doc, Some(&ticket), user),
            Err(refusal) => Answer::Refuse(refusal, Vec::new()),
        }
    }

    /// `POST …/queue`: joins `user` (once; joining again returns the same place).
    pub async fn join(&self, user: &UserId, pow: Option<(String, String)>, now: u64) -> Answer {
        match self.try_join(user, pow, now).await {
            Ok((doc, ticket)) => self.answer(doc, Some(&ticket), user),
            Err(refusal) => Answer::Refuse(refusal, Vec::new()),
        }
    }

    async fn try_join(
        &self,
        user: &UserId,
        pow: Option<(String, String)>,
        now: u64,
    ) -> Result<(QueueDocument, Ticket), Refusal> {
        if now < store::opens_at(self.event, self.queue) {
            return Err(Refusal::QueueClosed);
        }
        if self.over(now) {
            return Err(Refusal::Ended);
        }
        if self.sold_out {
            return Err(Refusal::SoldOut);
        }
        if self.queue.pow_bits > 0 {
            let (challenge, nonce) = pow.ok_or(Refusal::PowRequired)?;
            let ring = &self.config.secrets.token_keys;
            let bits = self.queue.pow_bits;
            super::pow::verify(ring, self.id(), user, bits, &challenge, &nonce, now)?;
        }
        let mut con = self.con().await?;
        let salt = match &self.state.salt {
            Some(salt) => salt.clone(),
            None => store::open(&mut con, self.event, self.redis.replication())
                .await
                .map_err(|e| unavailable(&e))?,
        };
        let entrant = self.entrant(&salt, user);
        let joined = store::join(&mut con, self.event, self.queue, entrant).await;
        let joined = joined.map_err(|e| unavailable(&e))?;
        self.confirm(&mut con).await?;
        match joined {
            Joined::Closed => Err(Refusal::QueueClosed),
            Joined::Ended => Err(Refusal::Ended),
            Joined::Placed { number, positioned } => {
                let ticket = Ticket {
                    entrant,
                    number,
                    positioned,
                    admitted_until: 0,
                };
                self.place(ticket, now).await
            }
        }
    }

    /// `GET …/fairness`: the commitment, and once drawn the seed and the number of entrants.
    pub fn fairness(&self) -> Answer {
        let drawn = self.state.drawn;
        let body = json!({
            "commitment": self.state.commitment,
            "seed": self.state.seed,
            "entrants": if drawn { self.state.frozen } else { None },
            "algorithm": draw::ALGORITHM,
        });
        Answer::json(200, &body, Vec::new())
    }

    /// `GET …/fairness/entrants`: the frozen list, in join order, once drawn.
    pub async fn entrants(&self) -> Answer {
        let (true, Some(frozen)) = (self.state.drawn, self.state.frozen) else {
            return Answer::Refuse(Refusal::NotFound, Vec::new());
        };
        let listed = match self.con().await {
            Ok(mut con) => super::drawing::entrants(&mut con, self.event, frozen).await,
            Err(refusal) => return Answer::Refuse(refusal, Vec::new()),
        };
        match listed {
            Ok(ids) => {
                let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
                Answer::json(200, &json!(ids), Vec::new())
            }
            Err(e) => Answer::Refuse(unavailable(&e), Vec::new()),
        }
    }
}

/// `GET …/queue/challenge`: a proof-of-work challenge for the session's user, if any.
pub fn challenge(config: &Config, event: &EventConfig, user: Option<&UserId>, now: u64) -> Answer {
    let bits = event.queue.map_or(0, |q| q.pow_bits);
    let who = user.map_or("", UserId::as_str);
    let (challenge, expires_at) =
        super::pow::challenge(&config.secrets.token_keys, &event.id, who, now);
    let body = json!({
        "challenge": challenge,
        "bits": bits,
        "expires_at": sale::time::rfc3339(expires_at),
    });
    Answer::json(200, &body, Vec::new())
}
