//! What an admitted token or buy still needs after the gate's local checks: the fleet-wide
//! per-user cap and origin rate (in Redis), and for the classic md5 scheme the stored token.

use sale::config::TokenScheme;

use super::{Gatekeeper, RequestCtx};
use crate::gate::{Forward, RedisChecks};
use crate::respond::Answer;
use crate::tokens;
use crate::tokens::stored::StoredToken;

impl Gatekeeper {
    /// Answers a token request the local cap let through, once the fleet's cap agrees.
    pub(super) async fn issue_token(
        &self,
        ctx: &RequestCtx,
        event: &sale::EventId,
        user: &sale::UserId,
    ) -> Answer {
        let config = &ctx.snapshot.config;
        if let Err(limited) = self.fleet.check_user(&config.edge.limits, user).await {
            return limited.answer();
        }
        let now = sale::time::now_millis();
        let Some(event) = config.event(event.as_str()) else {
            return Answer::Refuse(sale::Refusal::UnknownEvent, Vec::new());
        };
        let issued = match &config.tokens.scheme {
            TokenScheme::HmacSha256 => Ok(tokens::issue(config, event, user, now)),
            TokenScheme::Md5 { salt } => {
                let tokens = &config.tokens;
                self.stored.issue(tokens, salt, event, user, now).await
            }
        };
        match issued {
            Ok(token) => Answer::json(200, &token, Vec::new()),
            Err(refusal) => Answer::Refuse(refusal, Vec::new()),
        }
    }

    /// Carries out what `forward` still needs before it leaves ([`RedisChecks`]); returns it (a
    /// stored token Redis no longer holds turns it into a replay) and whether it spent
    /// origin capacity, or the answer refusing it.
    pub(super) async fn run_redis_checks(
        &self,
        ctx: &RequestCtx,
        forward: Forward,
    ) -> Result<(Forward, bool), Answer> {
        let user = match &forward.user {
            Some(user) if forward.redis_checks != RedisChecks::None => user.clone(),
            _ => return Ok((forward, false)),
        };
        let limits = &ctx.snapshot.config.edge.limits;
        let fleet = &self.fleet;
        fleet
            .check_user(limits, &user)
            .await
            .map_err(|l| l.answer())?;
        match (forward.redis_checks, &forward.purchase) {
            (RedisChecks::FleetUserCap, _) => return Ok((forward, false)),
            (RedisChecks::StoredTokenThenFleetCaps, Some(purchase)) => {
                let checked = self
                    .stored
                    .check(&purchase.event, &user, &purchase.nonce)
                    .await;
                match checked {
                    Ok(StoredToken::Buys) => {
                        ctx.snapshot.limits.forward_buy().map_err(|l| l.answer())?;
                    }
                    Ok(StoredToken::Bought { otherwise }) => {
                        return Ok((forward.into_replay(otherwise), false));
                    }
                    Err(refusal) => return Err(Answer::Refuse(refusal, Vec::new())),
                }
            }
            _ => {}
        }
        fleet.forward_buy(limits).await.map_err(|l| l.answer())?;
        Ok((forward, true))
    }
}
