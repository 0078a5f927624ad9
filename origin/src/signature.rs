//! Only the edge may talk to an origin: every route but `/healthz` requires the edge's signature,
//! checked here as an extractor so a handler cannot forget it.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sale::edge_signature::{self, Claims};
use sale::{Refusal, UserId};

use crate::error::OriginError;
use crate::state::AppState;

/// A request the edge signed, with the user it admitted.
#[derive(Debug)]
pub struct Admitted {
    /// The signed-in user.
    pub user: UserId,
    /// The purchase token nonce, on buys.
    pub nonce: Option<String>,
}

/// A request the edge signed without a user: a payment provider's confirmation it forwarded.
#[derive(Debug)]
pub struct ForwardedByEdge;

/// The edge's claims on the request in `parts`, or the refusal.
fn verified(parts: &Parts, state: &AppState) -> Result<Claims, OriginError> {
    let config = state.config();
    edge_signature::verify(
        &config.secrets.internal_keys,
        parts.method.as_str(),
        // The query is signed too: a replay's fallback refusal is the edge's word.
        parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str()),
        |name| parts.headers.get(name).and_then(|v| v.to_str().ok()),
        sale::time::now_millis(),
        sale::time::millis(config.origin.signature_max_age),
    )
    .map_err(|e| {
        state.metrics().unsigned.inc();
        tracing::debug!(error = %e, path = parts.uri.path(), "refused unsigned request");
        Refusal::Unsigned.into()
    })
}

impl FromRequestParts<AppState> for Admitted {
    type Rejection = OriginError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match verified(parts, state)? {
            Claims {
                user: Some(user),
                nonce,
                ..
            } => Ok(Self { user, nonce }),
            _ => Err(Refusal::Unsigned.into()),
        }
    }
}

impl FromRequestParts<AppState> for ForwardedByEdge {
    type Rejection = OriginError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        verified(parts, state).map(|_| Self)
    }
}
