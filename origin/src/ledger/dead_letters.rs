//! Dead letters: a stream entry the ledger cannot write is copied, with why, to the event's
//! dead-letter stream and acknowledged, so it stops costing anything and cannot hold up the
//! orders behind it; the metric and reconcile make it visible. Unreadable entries go at once; a
//! row the database refuses goes after [`MAX_ROW_ATTEMPTS`](super::consumer::MAX_ROW_ATTEMPTS)
//! refusals, counted here.

use std::collections::HashMap;
use std::sync::Mutex;

use redis::streams::StreamId;
use redis::{AsyncCommands, RedisResult};
use sale::EventId;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;

use super::LedgerError;
use crate::metrics::{EventLabel, Metrics};

/// Database refusals per stream entry (stream key, entry id).
#[derive(Debug, Default)]
pub struct RowRefusals {
    counts: Mutex<HashMap<(String, String), u32>>,
}

impl RowRefusals {
    /// Counts one more refusal of `entry` of `stream`; returns the count.
    pub fn count(&self, stream: &str, entry: &StreamId) -> u32 {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts
            .entry((stream.to_owned(), entry.id.clone()))
            .or_default();
        *count += 1;
        *count
    }

    /// Forgets `entry` (written, or set aside).
    pub fn forget(&self, stream: &str, entry: &StreamId) {
        let mut counts = self
            .counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !counts.is_empty() {
            counts.remove(&(stream.to_owned(), entry.id.clone()));
        }
    }
}

/// Copies `entry`, with `problem`, to the event's dead-letter stream and counts it. The caller
/// acknowledges it afterwards; a crash in between only copies it twice.
pub async fn set_aside(
    con: &mut RedisLink,
    event: &EventId,
    entry: &StreamId,
    problem: &LedgerError,
    metrics: &Metrics,
) -> RedisResult<()> {
    tracing::error!(event = %event, entry = %entry.id, %problem, "ledger entry set aside as a dead letter");
    let mut fields: Vec<(String, Vec<u8>)> = vec![
        ("source_id".to_owned(), entry.id.clone().into_bytes()),
        ("problem".to_owned(), problem.to_string().into_bytes()),
    ];
    for field in entry.map.keys() {
        let value = entry.get::<Vec<u8>>(field).unwrap_or_default();
        fields.push((format!("original.{field}"), value));
    }
    let _: String = con
        .xadd(EventKeys::new(event).dead_letters, "*", &fields)
        .await?;
    metrics
        .dead_letters
        .get_or_create(&EventLabel {
            event: event.as_str().to_owned(),
        })
        .inc();
    Ok(())
}
