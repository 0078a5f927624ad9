//! The waiting room's requests as the proxy meets them: reading a join's proof of work from the
//! body, handing each endpoint to [`crate::queue::serve`], and freeing a queued buyer's admission
//! once their buy succeeded.

use pingora::proxy::Session;

use crate::gate::QueueRequest;
use crate::proxy::{Gatekeeper, RequestCtx};
use crate::queue::serve::{self, Room};
use crate::queue::ticket::Ticket;
use crate::respond::Answer;
use crate::routes::QueueKind;

/// The proof of work a join's body carries: `{"pow": {"challenge": …, "nonce": …}}`.
async fn join_proof(
    session: &mut Session,
    limit: u64,
) -> std::result::Result<Option<(String, String)>, sale::Refusal> {
    let body = crate::request_body::read_whole(session, limit).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|_| sale::Refusal::BadRequest)?;
    let pow = &value["pow"];
    match (pow["challenge"].as_str(), pow["nonce"].as_str()) {
        (Some(challenge), Some(nonce)) => Ok(Some((challenge.to_owned(), nonce.to_owned()))),
        _ if pow.is_null() => Ok(None),
        _ => Err(sale::Refusal::BadPow),
    }
}

impl Gatekeeper {
    /// Answers a waiting-room request.
    pub(crate) async fn queue(
        &self,
        session: &mut Session,
        ctx: &RequestCtx,
        request: QueueRequest,
    ) -> Answer {
        let config = &ctx.snapshot.config;
        let Some(event) = config.event(request.event.as_str()) else {
            return Answer::Refuse(sale::Refusal::UnknownEvent, Vec::new());
        };
        let Some(queue) = &event.queue else {
            return Answer::Refuse(sale::Refusal::NotFound, Vec::new());
        };
        let room = Room {
            config,
            event,
            queue,
            state: self.queue.get(event.id.as_str()),
            sold_out: self.view.sold_out(event.id.as_str()),
            closed: self.view.gate(event.id.as_str()) == crate::window::Gate::Closed,
            redis: &self.stored.redis,
        };
        let now = sale::time::now_millis();
        match (request.kind, &request.user) {
            (QueueKind::Status, Some(user)) => {
                let ring = &config.secrets.token_keys;
                let presented = Ticket::presented(session.req_header(), &event.id);
                let ticket = presented.and_then(|sealed| {
                    let ticket = Ticket::open(ring, &event.id, user, sealed)?;
                    Some((ticket, sealed.to_owned()))
                });
                room.status(user, ticket, now).await
            }
            (QueueKind::Join, Some(user)) => {
                match join_proof(session, config.edge.max_body_bytes).await {
                    Ok(pow) => room.join(user, pow, now).await,
                    Err(refusal) => Answer::Refuse(refusal, Vec::new()),
                }
            }
            (QueueKind::Challenge, user) => serve::challenge(config, event, user.as_ref(), now),
            (QueueKind::Fairness, _) => room.fairness(),
            (QueueKind::Entrants, _) => room.entrants().await,
            (QueueKind::Status | QueueKind::Join, None) => {
                Answer::Refuse(sale::Refusal::NoSession, Vec::new())
            }
        }
    }

    /// A queued buyer bought: their admission holds back only what they may still buy from the
    /// next in line (done in the background; a failure only delays the next admission until this
    /// one ends).
    pub(crate) fn free_admission(&self, ctx: &RequestCtx) {
        let Some(forward) = &ctx.forward else { return };
        let (Some(purchase), Some(user)) = (&forward.purchase, &forward.user) else {
            return;
        };
        let config = &ctx.snapshot.config;
        let Some(event) = config
            .event(purchase.event.as_str())
            .filter(|e| e.queue.is_some())
        else {
            return;
        };
        let Some(salt) = self.queue.get(event.id.as_str()).salt else {
            return;
        };
        let entrant = sale::draw::entrant_id(&salt, &event.id, user);
        let (event, redis) = (event.clone(), self.stored.redis.clone());
        let user = user.clone();
        tokio::spawn(async move {
            let freed = async {
                let mut con = redis.room_connection().await?;
                crate::queue::store::bought(&mut con, &event, entrant, &user).await
            };
            if let Err(e) = freed.await {
                tracing::warn!(error = %e, "waiting room: could not free an admission");
            }
        });
    }
}
