//! What crosses between the edge and an origin on one request: the request the origin gets
//! (client-sent internal headers and credentials stripped, the path rewritten, the edge's
//! signature and the request's id added), what the edge learns from the answer (sold out, the order a token bought,
//! the origin's refusal code) before the client sees it stripped of those internal headers, and
//! which refusal a failed exchange becomes.

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::{Error, ErrorSource, ErrorType, Result};
use sale::Refusal;
use sale::edge_signature::{self, Claims, SIGNED_HEADERS};
use sale::key_ring::KeyRing;
use sale::request_id::{self, RequestId};
use sale::wire::{HEADER_REFUSAL, HEADER_SOLD_OUT, RESPONSE_HEADERS};

use crate::gate::Forward;
use crate::tokens::used::UsedTokens;
use crate::view::EventView;

/// Turns the client's request into the origin's: nothing the client sent may pose as the
/// edge's word, and the session stays at the edge. The id replaces any the client sent.
pub fn prepare(
    upstream: &mut RequestHeader,
    keys: &KeyRing,
    forward: &Forward,
    id: &RequestId,
) -> Result<()> {
    upstream.insert_header(request_id::HEADER, id.as_str())?;
    for name in SIGNED_HEADERS {
        upstream.remove_header(name);
    }
    upstream.remove_header(&http::header::COOKIE);
    upstream.remove_header(&http::header::AUTHORIZATION);
    let uri: http::Uri = forward
        .path
        .parse()
        .map_err(|_| Error::new(ErrorType::InternalError))?;
    upstream.set_uri(uri);
    let claims = Claims {
        user: forward.user.clone(),
        nonce: forward.purchase.as_ref().map(|p| p.nonce.clone()),
        signed_at: sale::time::now_millis(),
    };
    let method = upstream.method.as_str().to_owned();
    for (name, value) in edge_signature::sign(keys, &method, &forward.path, &claims) {
        upstream.insert_header(name, value)?;
    }
    Ok(())
}

/// Learns from an origin's answer to `forward` and strips what only the edge may see; returns
/// the origin's refusal code, if it refused. Whatever an origin answers is one buyer's (an order,
/// a payment) or a one-off (a webhook's receipt), so no cache in between may keep it.
pub fn learn(
    response: &mut ResponseHeader,
    forward: Option<&Forward>,
    view: &EventView,
    used: &UsedTokens,
) -> Option<&'static str> {
    if let Some(forward) = forward
        && let Some(purchase) = &forward.purchase
        && let Some(buyer) = &forward.user
    {
        if response.headers.contains_key(HEADER_SOLD_OUT) {
            view.report_sold_out(purchase.event.as_str());
        }
        if response.status.as_u16() == 201 {
            let now = sale::time::now_millis();
            let (nonce, buyer) = (purchase.nonce.clone(), buyer.clone());
            used.record(nonce, purchase.expires_at, buyer, now);
        }
    }
    // A header value of static ASCII is always valid.
    let _ = response.insert_header(http::header::CACHE_CONTROL, "no-store");
    let refusal = response.remove_header(HEADER_REFUSAL);
    for name in RESPONSE_HEADERS {
        response.remove_header(name);
    }
    refusal?
        .to_str()
        .ok()
        .and_then(Refusal::from_code)
        .map(Refusal::code)
}

/// The refusal for a request the edge could not complete: the client's fault (too large, too
/// slow), no origin to try, or an origin that failed after the request was sent (the outcome
/// unknown: the same link retried returns the order if there is one), logged with request `id`.
pub fn failure_refusal(e: &Error, no_origin: bool, id: &RequestId) -> Refusal {
    match e.etype() {
        ErrorType::HTTPStatus(413) => Refusal::TooLarge,
        ErrorType::ReadTimedout if *e.esource() == ErrorSource::Downstream => {
            Refusal::RequestTimeout
        }
        _ if no_origin => Refusal::NoOrigin,
        // Failing to connect, or to agree TLS with an origin (its certificate refused), happens
        // before any byte of the request left: nothing was bought.
        ErrorType::ConnectRefused
        | ErrorType::ConnectTimedout
        | ErrorType::ConnectError
        | ErrorType::TLSHandshakeFailure
        | ErrorType::TLSHandshakeTimedout
        | ErrorType::InvalidCert
        | ErrorType::HandshakeError => Refusal::NoOrigin,
        _ => {
            tracing::warn!(request_id = %id, error = %e, "origin failed after the request was sent");
            Refusal::OriginFailed
        }
    }
}
