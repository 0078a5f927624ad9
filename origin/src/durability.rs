//! Before an origin sells, it checks that Redis keeps what it acknowledges as well as the config
//! requires (`redis.durability`): flashgate answers 201 as soon as the reservation script
//! returns, so a Redis without AOF `appendfsync always` can lose accepted orders in a crash. A
//! weaker Redis, or one that will not say (`CONFIG` renamed away, as managed services do), is
//! refused at start, or only warned about when `redis.on_weak_durability = "warn"`.

use sale::config::{Durability, Fsync};
use sale::redis_link::RedisLink;

/// What the check found, when it is not what the config requires.
#[derive(Debug, thiserror::Error)]
pub enum DurabilityError {
    /// Redis persists less than required.
    #[error(
        "Redis persists with {found:?}, weaker than redis.durability requires ({required:?}); \
         run it with appendonly yes and appendfsync always, or set redis.on_weak_durability = \"warn\""
    )]
    Weaker {
        /// What Redis runs with.
        found: Fsync,
        /// What the config requires.
        required: Fsync,
    },
    /// Redis did not answer `CONFIG GET`.
    #[error(
        "cannot read Redis's persistence settings ({0}); set redis.on_weak_durability = \"warn\" \
         if CONFIG is disabled on purpose and persistence is known to be right"
    )]
    Unknown(redis::RedisError),
}

/// `CONFIG GET name` on every primary.
async fn config_values(con: &mut RedisLink, name: &str) -> redis::RedisResult<Vec<String>> {
    let mut get = redis::cmd("CONFIG");
    get.arg("GET").arg(name);
    let mut values = Vec::new();
    for (_, reply) in con.on_every_primary(get).await? {
        let (_, value): (String, String) = redis::FromRedisValue::from_redis_value(reply)?;
        values.push(value);
    }
    Ok(values)
}

/// How Redis persists, as it reports it: on a cluster, the weakest of its primaries, since an
/// order is only as safe as the shard that holds it.
async fn persistence(con: &mut RedisLink) -> Result<Fsync, DurabilityError> {
    let appendonly = config_values(con, "appendonly")
        .await
        .map_err(DurabilityError::Unknown)?;
    let appendfsync = config_values(con, "appendfsync")
        .await
        .map_err(DurabilityError::Unknown)?;
    appendonly
        .iter()
        .zip(&appendfsync)
        .map(|(only, fsync)| Fsync::of_redis(only, fsync))
        .min()
        .ok_or_else(|| {
            DurabilityError::Unknown(redis::RedisError::from((
                redis::ErrorKind::Client,
                "no primary answered CONFIG GET",
            )))
        })
}

/// Checks Redis against `required`: an error only when the config says to refuse.
pub async fn check(con: &mut RedisLink, required: Durability) -> Result<(), DurabilityError> {
    let verdict = match persistence(con).await {
        Ok(found) if found >= required.required => return Ok(()),
        Ok(found) => DurabilityError::Weaker {
            found,
            required: required.required,
        },
        Err(unknown) => unknown,
    };
    if required.refuse_weaker {
        Err(verdict)
    } else {
        tracing::warn!(problem = %verdict, "selling on Redis weaker than configured");
        Ok(())
    }
}
