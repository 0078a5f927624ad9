//! Writing answers the edge gives itself (pages, JSON, refusals) to the client. Every refusal
//! goes through [`refuse`], so all of them carry the contract's JSON body.

use std::collections::HashMap;
use std::sync::LazyLock;

use bytes::Bytes;
use pingora::Result;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use sale::Refusal;
use serde::Serialize;

/// Headers beyond the defaults.
pub type Extra<'a> = &'a [(&'static str, String)];

/// Sends a complete response.
pub async fn send(
    session: &mut Session,
    status: u16,
    content_type: &str,
    body: Bytes,
    extra: Extra<'_>,
) -> Result<()> {
    let mut header = ResponseHeader::build(status, Some(4 + extra.len()))?;
    header.insert_header("content-type", content_type)?;
    header.insert_header("content-length", body.len().to_string())?;
    header.insert_header("cache-control", "no-store")?;
    for (name, value) in extra {
        header.insert_header(*name, value.as_str())?;
    }
    let head_only = session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(header), head_only || body.is_empty())
        .await?;
    if !head_only && !body.is_empty() {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}

/// Sends `value` as JSON.
pub async fn json(
    session: &mut Session,
    status: u16,
    value: &impl Serialize,
    extra: Extra<'_>,
) -> Result<()> {
    let body = serde_json::to_vec(value).unwrap_or_default();
    send(
        session,
        status,
        "application/json",
        Bytes::from(body),
        extra,
    )
    .await
}

/// Every refusal's JSON body, serialised once: refusals are most of what a flash sale answers.
static REFUSAL_BODIES: LazyLock<HashMap<Refusal, Bytes>> = LazyLock::new(|| {
    Refusal::ALL
        .iter()
        .map(|r| {
            (
                *r,
                Bytes::from(serde_json::to_vec(&r.body()).unwrap_or_default()),
            )
        })
        .collect()
});

/// Sends a contract refusal.
pub async fn refuse(session: &mut Session, refusal: Refusal, extra: Extra<'_>) -> Result<()> {
    let body = REFUSAL_BODIES.get(&refusal).cloned().unwrap_or_default();
    send(session, refusal.status(), "application/json", body, extra).await
}
