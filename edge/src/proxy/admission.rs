//! What an admitted token or buy still needs after the gate's local checks: the fleet-wide
//! per-user cap and admission rate (in Redis), and for the classic md5 scheme the stored token.

use sale::config::TokenScheme;

use super::{Gatekeeper, RequestCtx};
use crate::gate::Forward;
use crate::respond::Answer;
use crate::tokens;

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
        match (&config.tokens.scheme, config.event(event.as_str())) {
            (TokenScheme::HmacSha256, Some(event)) => {
                let token = tokens::issue(config, event, user, now);
                Answer::Json(
                    200,
                    serde_json::to_value(token).unwrap_or_default(),
                    Vec::new(),
                )
            }
            _ => self.stored.issue_answer(config, event, user, now).await,
        }
    }

    /// Admits a buy the local caps let through, once the fleet's caps agree: the user's first,
    /// then (for a stored token, after Redis confirmed it) the admission rate.
    pub(super) async fn admit_buy(
        &self,
        ctx: &RequestCtx,
        forward: &Forward,
    ) -> Result<(), Answer> {
        let limits = &ctx.snapshot.config.edge.limits;
        let fleet = &self.fleet;
        fleet
            .check_user(limits, &forward.user)
            .await
            .map_err(|l| l.answer())?;
        if let Some(purchase) = &forward.purchase {
            let local = &ctx.snapshot.limits;
            if let TokenScheme::Md5 { .. } = ctx.snapshot.config.tokens.scheme {
                self.stored
                    .admit(local, &purchase.event, &forward.user, &purchase.nonce)
                    .await?;
            }
            fleet.admit(limits).await.map_err(|l| l.answer())?;
        }
        Ok(())
    }
}
