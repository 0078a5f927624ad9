//! The waiting room's Redis side: one script per step (open, join, advance, grant, bought), each
//! atomic and on Redis's clock; the draw's steps are in [`super::drawing`]. Every key carries the
//! event's hash tag, so each call touches one slot.

use std::sync::LazyLock;

use redis::{AsyncCommands, ErrorKind, RedisError, RedisResult, Script};
use sale::config::{EventConfig, QueueConfig};
use sale::draw::EntrantId;
use sale::redis_keys::EventKeys;
use sale::redis_link::RedisLink;
use sale::replication::{Replication, ReplicationError};

use super::QueueState;

static OPEN: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("open.lua")));
static JOIN: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("join.lua")));
static ADVANCE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(concat!(
        include_str!("live.lua"),
        include_str!("advance.lua")
    ))
});
static GRANT: LazyLock<Script> =
    LazyLock::new(|| Script::new(concat!(include_str!("live.lua"), include_str!("grant.lua"))));
static BOUGHT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("bought.lua")));

/// A reply that is not what the script returns: an error, never a panic or a made-up value.
pub(super) fn malformed(what: &str) -> RedisError {
    RedisError::from((
        ErrorKind::Parse,
        "unexpected waiting-room reply",
        what.to_owned(),
    ))
}

/// Field `i` of a script's reply, as `T`.
fn field<T: redis::FromRedisValue>(reply: &[redis::Value], i: usize, what: &str) -> RedisResult<T> {
    let value = reply.get(i).ok_or_else(|| malformed(what))?;
    redis::from_redis_value_ref(value).map_err(|_| malformed(what))
}

/// Hex text from Redis (a salt, a seed) as bytes; text that is not hex is corrupt state, and an
/// error rather than an empty value that would silently change what it keys.
pub(super) fn decode_hex(text: &str, what: &str) -> RedisResult<Vec<u8>> {
    hex::decode(text).map_err(|_| malformed(what))
}

/// When the pre-queue of `event` opens, Unix ms.
pub fn opens_at(event: &EventConfig, queue: &QueueConfig) -> u64 {
    event
        .window
        .starts_at
        .saturating_sub(sale::time::millis(queue.opens_before))
}

/// Reads the room's state.
pub async fn read(con: &mut RedisLink, event: &EventConfig) -> RedisResult<QueueState> {
    let fields: Vec<Option<String>> = redis::cmd("HMGET")
        .arg(EventKeys::new(&event.id).queue)
        .arg(&[
            "salt",
            "commitment",
            "seed",
            "frozen",
            "joined",
            "drawn",
            "serving",
            "paused",
            "granted",
            "published",
        ])
        .query_async(con)
        .await?;
    let text = |i: usize| fields.get(i).and_then(Option::as_deref);
    let number = |i: usize| text(i).and_then(|v| v.parse::<f64>().ok());
    let drawn = text(5) == Some("1");
    // Nothing of the room is used before its commitment is replicated and published.
    let published = text(9) == Some("1");
    Ok(QueueState {
        salt: text(0)
            .filter(|_| published)
            .map(|s| decode_hex(s, "the room's salt"))
            .transpose()?,
        commitment: text(1).filter(|_| published).map(str::to_owned),
        seed: text(2).map(str::to_owned).filter(|_| drawn),
        frozen: number(3).map(|n| n as u64),
        joined: number(4).unwrap_or(0.0) as u64,
        drawn,
        serving: number(6).unwrap_or(0.0).floor() as u64,
        paused: text(7) == Some("1"),
        granted: number(8).unwrap_or(0.0) as u64,
    })
}

/// Opens the room if nobody has: a fresh salt and seed, and the seed's commitment. The
/// commitment is published only once `replication` confirms them, so a failover can never bring
/// up a primary with another seed behind a commitment already shown. Returns the salt in force.
pub async fn open(
    con: &mut RedisLink,
    event: &EventConfig,
    replication: &Replication,
) -> Result<Vec<u8>, ReplicationError> {
    use rand::RngCore;
    let (mut salt, mut seed) = ([0u8; 32], [0u8; 32]);
    rand::rng().fill_bytes(&mut salt);
    rand::rng().fill_bytes(&mut seed);
    let queue = EventKeys::new(&event.id).queue;
    let (stored, _): (String, String) = OPEN
        .key(&queue)
        .arg(hex::encode(salt))
        .arg(hex::encode(seed))
        .arg(sale::draw::commitment(&seed))
        .invoke_async(con)
        .await?;
    replication.confirm(con, &queue).await?;
    let () = con.hset(&queue, "published", 1).await?;
    Ok(decode_hex(&stored, "the room's salt")?)
}

/// What a join found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Joined {
    /// Before `opens_before`.
    Closed,
    /// After `ends_at`.
    Ended,
    /// In line with this number; `positioned` when it is already the position.
    Placed {
        /// Join number or position.
        number: u64,
        /// Whether `number` is the position.
        positioned: bool,
    },
}

/// Joins `entrant`, once.
pub async fn join(
    con: &mut RedisLink,
    event: &EventConfig,
    queue: &QueueConfig,
    entrant: EntrantId,
) -> RedisResult<Joined> {
    let keys = EventKeys::new(&event.id);
    let reply: Vec<redis::Value> = JOIN
        .key(&keys.queue)
        .key(&keys.queue_joined)
        .key(&keys.queue_order)
        .arg(&entrant.0[..])
        .arg(opens_at(event, queue))
        .arg(event.window.starts_at)
        .arg(event.window.ends_at)
        .invoke_async(con)
        .await?;
    let what = "a join";
    Ok(match field::<String>(&reply, 0, what)?.as_str() {
        "closed" => Joined::Closed,
        "ended" => Joined::Ended,
        _ => {
            let (number, frozen, drawn): (i64, i64, i64) = (
                field(&reply, 1, what)?,
                field(&reply, 2, what)?,
                field(&reply, 3, what)?,
            );
            Joined::Placed {
                number: number.max(0) as u64,
                positioned: drawn == 1 || (frozen >= 0 && number > frozen),
            }
        }
    })
}

/// The number Redis holds for `entrant` (join number, or position once drawn), if it joined.
pub async fn number_of(
    con: &mut RedisLink,
    event: &EventConfig,
    entrant: EntrantId,
) -> RedisResult<Option<u64>> {
    con.hget(EventKeys::new(&event.id).queue_joined, &entrant.0[..])
        .await
}

/// What a grant found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Grant {
    /// Admitted until this instant (Unix ms; in the past if the admission expired).
    Admitted(u64),
    /// Not yet: the counter has not reached the position, or every seat left is spoken for.
    Waiting,
    /// Nothing left to buy.
    SoldOut,
    /// The place was reached an admission's lifetime ago and never claimed: the turn passed.
    Passed,
}

/// Grants `entrant` at `position` its admission, if its turn has come.
pub async fn grant(
    con: &mut RedisLink,
    event: &EventConfig,
    queue: &QueueConfig,
    entrant: EntrantId,
    position: u64,
) -> RedisResult<Grant> {
    let keys = EventKeys::new(&event.id);
    let reply: Vec<redis::Value> = GRANT
        .key(&keys.queue)
        .key(&keys.queue_granted)
        .key(&keys.queue_live)
        .key(&keys.queue_grants)
        .key(&keys.seats)
        .key(&keys.queue_granted_positions)
        .key(&keys.queue_live_seats)
        .arg(&entrant.0[..])
        .arg(position)
        .arg(sale::time::millis(queue.admission_ttl))
        .arg(entrant.to_string())
        .invoke_async(con)
        .await?;
    let what = "a grant";
    Ok(match field::<String>(&reply, 0, what)?.as_str() {
        "admitted" => Grant::Admitted(field(&reply, 1, what)?),
        "sold_out" => Grant::SoldOut,
        "passed" => Grant::Passed,
        "waiting" => Grant::Waiting,
        _ => return Err(malformed(what)),
    })
}

/// `entrant` (signed in as `user`) bought: their admission now holds back only what they may
/// still buy, and nothing once that is nothing.
pub async fn bought(
    con: &mut RedisLink,
    event: &EventConfig,
    entrant: EntrantId,
    user: &sale::UserId,
) -> RedisResult<()> {
    let keys = EventKeys::new(&event.id);
    BOUGHT
        .key(&keys.queue)
        .key(&keys.queue_live)
        .key(&keys.queue_live_seats)
        .key(&keys.seats)
        .key(&keys.holders)
        .arg(&entrant.0[..])
        .arg(user.as_str())
        .invoke_async::<i64>(con)
        .await
        .map(drop)
}

/// Advances the serving counter by the time since its last advance.
pub async fn advance(
    con: &mut RedisLink,
    event: &EventConfig,
    queue: &QueueConfig,
) -> RedisResult<u64> {
    let keys = EventKeys::new(&event.id);
    ADVANCE
        .key(&keys.queue)
        .key(&keys.seats)
        .key(&keys.queue_live)
        .key(&keys.queue_reached)
        .key(&keys.queue_granted_positions)
        .key(&keys.queue_live_seats)
        .arg(1.0 / queue.admit_rate.period.as_secs_f64())
        .arg(sale::time::millis(queue.admission_ttl))
        .invoke_async(con)
        .await
}

/// Pauses or resumes admission.
pub async fn set_paused(con: &mut RedisLink, event: &EventConfig, paused: bool) -> RedisResult<()> {
    con.hset(EventKeys::new(&event.id).queue, "paused", u8::from(paused))
        .await
}

/// Every queued event's state, read concurrently (one slot each); each read succeeds or fails
/// on its own.
pub async fn read_each<'e>(
    con: &RedisLink,
    events: &[&'e EventConfig],
) -> Vec<(&'e EventConfig, RedisResult<QueueState>)> {
    let reads = events.iter().map(|e| {
        let mut con = con.clone();
        async move { (*e, read(&mut con, e).await) }
    });
    futures::future::join_all(reads).await
}

#[cfg(test)]
mod tests {
    use redis::Value;

    use super::*;

    #[test]
    fn a_short_or_strange_reply_is_an_error_not_a_panic() {
        let short = [Value::SimpleString("placed".into())];
        assert!(field::<i64>(&short, 1, "a join").is_err());
        assert!(field::<String>(&[], 0, "a grant").is_err());
        let wrong_type = [Value::SimpleString("many".into())];
        assert!(field::<u64>(&wrong_type, 0, "a grant").is_err());
        assert_eq!(field::<i64>(&[Value::Int(7)], 0, "a join").ok(), Some(7));
    }

    #[test]
    fn corrupt_hex_state_is_an_error_not_an_empty_value() {
        assert!(decode_hex("not hex", "the draw's seed").is_err());
        assert_eq!(decode_hex("00ff", "a salt").ok(), Some(vec![0, 255]));
    }
}
