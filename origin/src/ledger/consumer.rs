//! The ledger consumer: reads each event's stream as a member of the `ledger` consumer group,
//! writes the orders to the database in batches and acknowledges entries only after the commit.
//! A crash before the acknowledgement leaves entries pending; they are re-read on restart (own
//! pending entries first) or claimed by a surviving origin (XAUTOCLAIM), and the idempotent upsert
//! makes the second write harmless. So every order reaches the database exactly once in effect.
//! Every few seconds the consumer also trims what every group has acknowledged from the stream.
//! An entry the consumer cannot read (the scripts never write one; a hand-made or foreign entry
//! could), or whose row the database refuses [`MAX_ROW_ATTEMPTS`] times, is copied to the event's
//! dead-letter stream with the reason and acknowledged, so it cannot hold up the orders behind
//! it; the metric and reconcile make it visible.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamId, StreamReadOptions, StreamReadReply,
};
use redis::{AsyncCommands, RedisResult};
use sale::EventId;
use sale::config::RedisTarget;
use sale::redis_keys::EventKeys;
use sale::redis_link::{LinkOptions, RedisLink};
use tokio::sync::watch;

use super::LedgerError;
use super::dead_letters::{RowRefusals, set_aside};
use super::row_refusal;
use super::store::{OrderChange, OrderStore};
use crate::metrics::Metrics;

/// The consumer group every origin joins.
pub const GROUP: &str = "ledger";
/// Entries per read and per database transaction.
const BATCH: usize = 512;
/// How long one read waits for new entries.
const BLOCK_MS: usize = 1_000;
/// An entry pending this long on another consumer is presumed orphaned and claimed.
const CLAIM_IDLE_MS: u64 = 15_000;
/// Pause after a failure before trying again.
const RETRY: Duration = Duration::from_millis(250);
/// How often this consumer re-reads its own pending entries (rows the database refused).
const PENDING_RETRY: Duration = Duration::from_secs(1);
/// Times the database may refuse one row before the entry is set aside as a dead letter, so a
/// row that can never be written stops costing anything while everything behind it flows.
pub const MAX_ROW_ATTEMPTS: u32 = 5;

/// Drains event streams into the order database.
#[derive(Debug, Clone)]
pub struct Ledger {
    redis: RedisTarget,
    store: OrderStore,
    consumer: String,
    metrics: Arc<Metrics>,
    /// Database refusals per stream entry, for [`MAX_ROW_ATTEMPTS`].
    refusals: Arc<RowRefusals>,
    /// Woken after each commit: the webhook deliverer, so a change goes out at once.
    wake: Arc<tokio::sync::Notify>,
}

/// Which entries a read asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cursor<'a> {
    /// This consumer's own unacknowledged entries after the given id (after a crash or restart,
    /// or rows the database refused).
    OwnPending(&'a str),
    /// Entries never delivered to anyone.
    New,
}

impl Ledger {
    /// A consumer named `consumer` (unique per origin node).
    pub fn new(
        redis: RedisTarget,
        store: OrderStore,
        consumer: String,
        metrics: Arc<Metrics>,
    ) -> Self {
        Self {
            redis,
            store,
            consumer,
            metrics,
            refusals: Arc::default(),
            wake: Arc::default(),
        }
    }

    /// Wakes `wake` after each commit.
    pub fn waking(self, wake: Arc<tokio::sync::Notify>) -> Self {
        Self { wake, ..self }
    }

    /// Runs one consuming task per event in force, starting one for each event a reload adds,
    /// until `shutdown` turns true. A batch cut off by shutdown stays pending and is written
    /// again, idempotently, by the next consumer to read it.
    pub async fn run(
        self,
        mut events: watch::Receiver<Vec<EventId>>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut tasks: HashMap<EventId, tokio::task::JoinHandle<()>> = HashMap::new();
        loop {
            for event in events.borrow_and_update().iter() {
                if !tasks.contains_key(event) {
                    let task = tokio::spawn(self.clone().consume(event.clone(), shutdown.clone()));
                    tasks.insert(event.clone(), task);
                }
            }
            tokio::select! {
                changed = events.changed() => if changed.is_err() { break },
                _ = shutdown.changed() => break,
            }
        }
        for (_, task) in tasks {
            if let Err(e) = task.await {
                tracing::error!(error = %e, "ledger task failed");
            }
        }
    }

    /// The consumer's own connection, apart from the process's shared one: a blocking
    /// XREADGROUP holds its connection for up to BLOCK_MS, which would stall every buy queued
    /// behind it on a shared multiplexed connection.
    async fn connect(&self) -> RedisResult<RedisLink> {
        let options = LinkOptions {
            // Reads block for BLOCK_MS, so the reply timeout must be longer than that.
            response_timeout: Some(Duration::from_millis(BLOCK_MS as u64 * 5)),
            connection_timeout: Duration::from_secs(1),
            retries: 1,
            read_from_replicas: false,
        };
        RedisLink::open(&self.redis, options).await
    }

    async fn consume(self, event: EventId, mut shutdown: watch::Receiver<bool>) {
        let stream = EventKeys::new(&event).stream;
        while !*shutdown.borrow() {
            let outcome = tokio::select! {
                outcome = self.consume_connected(&event, &stream) => outcome,
                _ = shutdown.changed() => return,
            };
            if let Err(e) = outcome {
                tracing::warn!(event = %event, error = %e, "ledger consumer interrupted; retrying");
                tokio::select! {
                    () = tokio::time::sleep(RETRY) => {}
                    _ = shutdown.changed() => return,
                }
            }
        }
    }

    async fn consume_connected(&self, event: &EventId, stream: &str) -> Result<(), LedgerError> {
        let mut con = self.connect().await?;
        ensure_group(&mut con, stream).await?;
        self.retry_own_pending(&mut con, event, stream).await?;
        let mut last_retry = tokio::time::Instant::now();
        let mut last_claim = tokio::time::Instant::now();
        loop {
            self.drain(&mut con, event, stream, Cursor::New).await?;
            if last_retry.elapsed() >= PENDING_RETRY {
                self.retry_own_pending(&mut con, event, stream).await?;
                last_retry = tokio::time::Instant::now();
            }
            if last_claim.elapsed() >= Duration::from_millis(CLAIM_IDLE_MS / 3) {
                self.claim_orphans(&mut con, event, stream).await?;
                super::trim::trim_acknowledged(&mut con, stream).await?;
                last_claim = tokio::time::Instant::now();
            }
        }
    }

    /// Writes this consumer's own pending entries once each, in slices: a row the database
    /// refuses stays pending for the next pass (or is set aside after [`MAX_ROW_ATTEMPTS`]) and
    /// never makes this pass read it again.
    async fn retry_own_pending(
        &self,
        con: &mut RedisLink,
        event: &EventId,
        stream: &str,
    ) -> Result<(), LedgerError> {
        let mut after = "0".to_owned();
        loop {
            let entries = self
                .drain(con, event, stream, Cursor::OwnPending(&after))
                .await?;
            match entries {
                Some(last) => after = last,
                None => return Ok(()),
            }
        }
    }

    /// Reads one batch and writes it; returns the last entry id it handled, if any.
    async fn drain(
        &self,
        con: &mut RedisLink,
        event: &EventId,
        stream: &str,
        cursor: Cursor<'_>,
    ) -> Result<Option<String>, LedgerError> {
        let mut options = StreamReadOptions::default()
            .group(GROUP, &self.consumer)
            .count(BATCH);
        let from = match cursor {
            Cursor::OwnPending(after) => after,
            Cursor::New => {
                options = options.block(BLOCK_MS);
                ">"
            }
        };
        let reply: Option<StreamReadReply> =
            con.xread_options(&[stream], &[from], &options).await?;
        let entries: Vec<StreamId> = reply
            .into_iter()
            .flat_map(|r| r.keys)
            .flat_map(|k| k.ids)
            .collect();
        self.write(con, event, stream, &entries).await?;
        Ok(entries.last().map(|e| e.id.clone()))
    }

    /// Takes over entries another consumer left pending too long (it crashed) and writes them.
    async fn claim_orphans(
        &self,
        con: &mut RedisLink,
        event: &EventId,
        stream: &str,
    ) -> Result<(), LedgerError> {
        let mut start = "0-0".to_owned();
        loop {
            let options = StreamAutoClaimOptions::default().count(BATCH);
            let reply: StreamAutoClaimReply = con
                .xautoclaim_options(
                    stream,
                    GROUP,
                    &self.consumer,
                    CLAIM_IDLE_MS,
                    &start,
                    options,
                )
                .await?;
            if !reply.claimed.is_empty() {
                tracing::info!(event = %event, count = reply.claimed.len(), "claimed orphaned ledger entries");
            }
            self.write(con, event, stream, &reply.claimed).await?;
            if reply.next_stream_id == "0-0" {
                return Ok(());
            }
            start = reply.next_stream_id;
        }
    }

    /// Writes entries to the database, then acknowledges the ones written.
    async fn write(
        &self,
        con: &mut RedisLink,
        event: &EventId,
        stream: &str,
        entries: &[StreamId],
    ) -> Result<(), LedgerError> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut acked: Vec<&str> = Vec::new();
        let mut readable: Vec<&StreamId> = Vec::with_capacity(entries.len());
        let mut changes: Vec<OrderChange> = Vec::with_capacity(entries.len());
        for entry in entries {
            match super::entry::parse_entry(event, entry) {
                Ok(change) => {
                    readable.push(entry);
                    changes.push(change);
                }
                Err(problem) => {
                    set_aside(con, event, entry, &problem, &self.metrics).await?;
                    acknowledge(con, stream, entry).await?;
                }
            }
        }
        match self.store.apply(&changes).await {
            Ok(()) => acked.extend(readable.iter().map(|e| e.id.as_str())),
            // One bad row must not hold up the batch: write row by row, acknowledge what stuck;
            // the rest stays pending and is retried later.
            Err(batch_error) => {
                tracing::warn!(error = %batch_error, "ledger batch failed; writing row by row");
                for (entry, change) in readable.iter().zip(&changes) {
                    match self.store.apply_one(change).await {
                        Ok(()) => {
                            self.refusals.forget(stream, entry);
                            acked.push(entry.id.as_str());
                        }
                        // The database refused this row itself (a constraint, a bad value):
                        // counted, and set aside once it keeps failing.
                        Err(e) if row_refusal::refuses_the_row(&e) => {
                            let refusal = LedgerError::Refused(e.to_string());
                            if self.refusals.count(stream, entry) >= MAX_ROW_ATTEMPTS {
                                set_aside(con, event, entry, &refusal, &self.metrics).await?;
                                acknowledge(con, stream, entry).await?;
                                self.refusals.forget(stream, entry);
                            } else {
                                tracing::warn!(order = %change.order_id, error = %refusal, "ledger row not written; will retry");
                            }
                        }
                        // The database itself is failing (down, full, read-only, locked):
                        // nothing is the row's fault, so it stays pending, uncounted, until the
                        // database is back.
                        Err(e) => return Err(e.into()),
                    }
                }
            }
        }
        if !acked.is_empty() {
            self.wake.notify_one();
            let _: usize = con.xack(stream, GROUP, &acked).await?;
        }
        Ok(())
    }
}

/// Acknowledges an entry set aside as a dead letter at once, whatever happens to the rest of its
/// pass: otherwise a pass the database then fails would leave it pending, to be set aside (and
/// counted) again on every retry.
async fn acknowledge(con: &mut RedisLink, stream: &str, entry: &StreamId) -> RedisResult<()> {
    let _: usize = con.xack(stream, GROUP, &[entry.id.as_str()]).await?;
    Ok(())
}

async fn ensure_group(con: &mut RedisLink, stream: &str) -> RedisResult<()> {
    let created: RedisResult<()> = con.xgroup_create_mkstream(stream, GROUP, "0").await;
    match created {
        Err(e) if e.code() == Some("BUSYGROUP") => Ok(()),
        other => other,
    }
}
