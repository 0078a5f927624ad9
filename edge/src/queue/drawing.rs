//! The draw's Redis side: freezing the pre-queue's entrants at `starts_at`, drawing their
//! positions under a lease (one edge draws, any edge retries a failed draw at once), and reading
//! the frozen list back for the fairness endpoints. Every key carries the event's hash tag.

use std::sync::LazyLock;

use redis::{AsyncCommands, RedisResult, Script};
use sale::config::EventConfig;
use sale::draw::EntrantId;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;
use sale::replication::{Replication, ReplicationError};

use super::store::{decode_hex, malformed};

static FREEZE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("freeze.lua")));
static RELEASE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("release.lua")));

/// Entrant ids are read and written this many at a time during the draw.
const DRAW_CHUNK: isize = 10_000;

/// The frozen entrant list, in join order.
pub async fn entrants(
    con: &mut RedisLink,
    event: &EventConfig,
    frozen: u64,
) -> RedisResult<Vec<EntrantId>> {
    let keys = EventKeys::new(&event.id);
    let mut ids = Vec::with_capacity(usize::try_from(frozen).unwrap_or(0));
    let frozen = isize::try_from(frozen).unwrap_or(isize::MAX);
    let mut start = 0;
    while start < frozen {
        let stop = (start + DRAW_CHUNK).min(frozen) - 1;
        let chunk: Vec<Vec<u8>> = con.lrange(&keys.queue_order, start, stop).await?;
        ids.extend(
            chunk
                .into_iter()
                .filter_map(|b| Some(EntrantId(b.try_into().ok()?))),
        );
        start = stop + 1;
    }
    Ok(ids)
}

/// Runs the draw if it is due and nobody has: freezes the entrants, takes the draw's lease, writes
/// every entrant's position and marks the room drawn. Returns whether this call drew. A draw that
/// fails releases its lease, so the next pass (on any edge) tries again at once rather than
/// after the lease's minute. The frozen count is replicated before anything is drawn from it
/// (a failover that lost it could freeze a longer list), and the draw before it is reported.
pub async fn draw_if_due(
    con: &mut RedisLink,
    event: &EventConfig,
    replication: &Replication,
) -> Result<bool, ReplicationError> {
    let keys = EventKeys::new(&event.id);
    let (frozen, drawn): (i64, i64) = FREEZE
        .key(&keys.queue)
        .arg(event.window.starts_at)
        .invoke_async(con)
        .await?;
    if frozen < 0 {
        return Ok(false);
    }
    // Drawn already (here, or by another edge): confirmed too before anyone is told.
    replication.confirm(con, &keys.queue).await?;
    if drawn == 1 {
        return Ok(false);
    }
    // A token of this pass's own, so the lease is released only by whoever holds it.
    let token = hex::encode(rand::random::<[u8; 16]>());
    let leased: bool = redis::cmd("SET")
        .arg(&keys.queue_draw_lease)
        .arg(&token)
        .arg("NX")
        .arg("PX")
        .arg(60_000)
        .query_async::<Option<String>>(con)
        .await?
        .is_some();
    if !leased {
        return Ok(false);
    }
    let mut drew = draw(con, event, &keys, frozen.unsigned_abs())
        .await
        .map_err(ReplicationError::from);
    if drew.is_ok() {
        drew = replication.confirm(con, &keys.queue).await;
    }
    if drew.is_err() {
        let released: RedisResult<i64> = RELEASE
            .key(&keys.queue_draw_lease)
            .arg(&token)
            .invoke_async(con)
            .await;
        if let Err(e) = released {
            tracing::warn!(event = %event.id, error = %e, "waiting room: cannot release the draw's lease");
        }
    }
    drew.map(|()| true)
}

/// The draw itself, under the lease: the seed must be the one committed to, or nothing is drawn.
async fn draw(
    con: &mut RedisLink,
    event: &EventConfig,
    keys: &EventKeys,
    frozen: u64,
) -> RedisResult<()> {
    let (seed, commitment): (String, String) = redis::cmd("HMGET")
        .arg(&keys.queue)
        .arg("seed")
        .arg("commitment")
        .query_async::<(Option<String>, Option<String>)>(con)
        .await
        .and_then(|(seed, commitment)| {
            Ok((
                seed.ok_or_else(|| malformed("no seed"))?,
                commitment.ok_or_else(|| malformed("no commitment"))?,
            ))
        })?;
    let seed = decode_hex(&seed, "the draw's seed")?;
    if sale::draw::commitment(&seed) != commitment {
        return Err(malformed(
            "the draw's seed does not match its published commitment",
        ));
    }
    let ids = entrants(con, event, frozen).await?;
    let positions = sale::draw::draw(&seed, &ids);
    for chunk in ids
        .iter()
        .zip(&positions)
        .collect::<Vec<_>>()
        .chunks(DRAW_CHUNK as usize)
    {
        let pairs: Vec<(&[u8], u32)> = chunk.iter().map(|(id, p)| (&id.0[..], **p)).collect();
        let _: () = con.hset_multiple(&keys.queue_joined, &pairs).await?;
    }
    let _: () = con.hset(&keys.queue, "drawn", 1).await?;
    tracing::info!(event = %event.id, entrants = ids.len(), "waiting room drawn");
    Ok(())
}
