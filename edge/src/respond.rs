//! The answers the edge gives itself (pages, JSON, refusals) and writing them to the client.
//! Every refusal goes through [`refuse`], so all of them carry the contract's JSON body and the
//! request's id (`request_id`).

use std::collections::HashMap;
use std::sync::LazyLock;

use bytes::Bytes;
use pingora::Result;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use sale::Refusal;
use sale::refusal_response::RETRY_AFTER_SECS;
use sale::request_id::RequestId;
use serde::Serialize;

/// Headers beyond the defaults.
pub type Extra<'a> = &'a [(&'static str, String)];

/// Extra response headers.
pub type Headers = Vec<(&'static str, String)>;

/// A response the edge writes itself.
#[derive(Debug)]
pub enum Answer {
    /// A contract refusal, with extra headers (`Retry-After`).
    Refuse(Refusal, Headers),
    /// A JSON document, serialised (from its typed value: no JSON tree in between).
    Json(u16, Bytes, Headers),
    /// Bytes with their content type (pages, 304s).
    Raw {
        /// Status.
        status: u16,
        /// `Content-Type`.
        content_type: &'static str,
        /// The body.
        body: Bytes,
        /// Extra headers.
        headers: Headers,
    },
}

/// Whether the connection ends with `refusal`: the request's body (or what follows its head)
/// cannot be read safely, so the connection cannot carry another request.
fn ends_connection(refusal: Refusal) -> bool {
    matches!(
        refusal,
        Refusal::HeaderTooLarge
            | Refusal::AmbiguousLength
            | Refusal::TooLarge
            | Refusal::RequestTimeout
    )
}

impl Answer {
    /// A JSON answer of `value`.
    pub fn json(status: u16, value: &impl Serialize, headers: Headers) -> Self {
        Self::Json(
            status,
            Bytes::from(serde_json::to_vec(value).unwrap_or_default()),
            headers,
        )
    }

    /// The extra headers it will be sent with.
    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Self::Refuse(_, headers) | Self::Json(_, _, headers) | Self::Raw { headers, .. } => {
                headers
            }
        }
    }

    /// Whether the connection ends with this answer.
    pub fn closes_connection(&self) -> bool {
        matches!(self, Self::Refuse(refusal, _) if ends_connection(*refusal))
    }
}

/// The head of a response the edge writes itself: `status`, its content type and length, never
/// cached unless `extra` says otherwise.
fn head(
    status: u16,
    content_type: &str,
    length: usize,
    extra: Extra<'_>,
) -> Result<ResponseHeader> {
    let mut header = ResponseHeader::build(status, Some(4 + extra.len()))?;
    header.insert_header("content-type", content_type)?;
    header.insert_header("content-length", length.to_string())?;
    header.insert_header("cache-control", "no-store")?;
    for (name, value) in extra {
        header.insert_header(*name, value.as_str())?;
    }
    Ok(header)
}

/// Sends a complete response.
pub async fn send(
    session: &mut Session,
    status: u16,
    content_type: &str,
    body: Bytes,
    extra: Extra<'_>,
) -> Result<()> {
    let header = head(status, content_type, body.len(), extra)?;
    write_head_and_body(session, header, body).await
}

/// Writes `header` and `body` (the head alone for a `HEAD` request).
async fn write_head_and_body(
    session: &mut Session,
    header: ResponseHeader,
    body: Bytes,
) -> Result<()> {
    let head_only = session.req_header().method == http::Method::HEAD;
    session
        .write_response_header(Box::new(header), head_only || body.is_empty())
        .await?;
    if !head_only && !body.is_empty() {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}

/// A refusal as it is sent: its JSON body and its head, both built once, since refusals are
/// most of what a flash sale answers. A 5xx, always temporary, says when to retry.
struct Prepared {
    body: Bytes,
    head: ResponseHeader,
}

static REFUSALS: LazyLock<HashMap<Refusal, Prepared>> = LazyLock::new(|| {
    Refusal::ALL
        .iter()
        .filter_map(|r| {
            let body = Bytes::from(serde_json::to_vec(&r.body()).unwrap_or_default());
            let retry: Headers = if r.status() >= 500 {
                vec![("retry-after", RETRY_AFTER_SECS.to_string())]
            } else {
                Vec::new()
            };
            let head = head(r.status(), "application/json", body.len(), &retry).ok()?;
            Some((*r, Prepared { body, head }))
        })
        .collect()
});

/// `body`, a JSON object, with `"request_id"` added as its last member. An id is plain ASCII
/// (letters, digits, `-_.:`), so it needs no escaping.
fn with_request_id(body: &[u8], id: &RequestId) -> Bytes {
    let Some(open) = body.strip_suffix(b"}") else {
        return Bytes::copy_from_slice(body);
    };
    let separator: &[u8] = if open.ends_with(b"{") { b"" } else { b"," };
    let mut spliced = Vec::with_capacity(body.len() + id.as_str().len() + 20);
    spliced.extend_from_slice(open);
    spliced.extend_from_slice(separator);
    spliced.extend_from_slice(b"\"request_id\":\"");
    spliced.extend_from_slice(id.as_str().as_bytes());
    spliced.extend_from_slice(b"\"}");
    Bytes::from(spliced)
}

/// Sends a contract refusal of request `id`: its prepared head with `extra` added (a
/// `Retry-After` given there replaces a 5xx's default) and its prepared body with the id.
pub async fn refuse(
    session: &mut Session,
    refusal: Refusal,
    extra: Extra<'_>,
    id: &RequestId,
) -> Result<()> {
    let Some(prepared) = REFUSALS.get(&refusal) else {
        return send(
            session,
            refusal.status(),
            "application/json",
            Bytes::new(),
            extra,
        )
        .await;
    };
    let body = with_request_id(&prepared.body, id);
    let mut header = prepared.head.clone();
    header.insert_header("content-length", body.len().to_string())?;
    for (name, value) in extra {
        header.insert_header(*name, value.as_str())?;
    }
    write_head_and_body(session, header, body).await
}

/// Writes `answer` to request `id`; returns the code to count it under.
pub async fn write(session: &mut Session, answer: Answer, id: &RequestId) -> Result<&'static str> {
    match answer {
        Answer::Refuse(refusal, headers) => {
            if ends_connection(refusal) {
                // The client is told so.
                session.set_keepalive(None);
            }
            refuse(session, refusal, &headers, id).await?;
            Ok(refusal.code())
        }
        Answer::Json(status, body, headers) => {
            // A refusal with more to say than the contract's body (when a sale starts, say).
            let body = if status >= 400 {
                with_request_id(&body, id)
            } else {
                body
            };
            send(session, status, "application/json", body, &headers)
                .await
                .map(|()| "ok")
        }
        Answer::Raw {
            status,
            content_type,
            body,
            headers,
        } => send(session, status, content_type, body, &headers)
            .await
            .map(|()| "ok"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prepared_refusal_body_takes_the_request_id() {
        let id = RequestId::given(b"req-1").expect("plain");
        for refusal in Refusal::ALL {
            let body = with_request_id(&REFUSALS[&refusal].body, &id);
            let value: serde_json::Value = serde_json::from_slice(&body).expect("still JSON");
            assert_eq!(value["request_id"], "req-1", "{refusal:?}");
            assert_eq!(value["code"], refusal.code());
        }
    }

    #[test]
    fn an_empty_object_takes_the_request_id_alone() {
        let id = RequestId::given(b"r").expect("plain");
        assert_eq!(&with_request_id(b"{}", &id)[..], br#"{"request_id":"r"}"#);
    }
}
