//! Before an origin sells, it checks that Redis keeps what it acknowledges as well as the config
//! requires (`redis.durability`): flashgate answers 201 as soon as the reservation script
//! returns, so a Redis without AOF `appendfsync always` can lose accepted orders in a crash. A
//! weaker Redis, or one that will not say (`CONFIG` renamed away, as managed services do), is
//! refused at start, or only warned about when `redis.on_weak_durability = "warn"`.

use redis::aio::ConnectionLike;
use sale::config::{Durability, Fsync};

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

async fn config_value(con: &mut impl ConnectionLike, name: &str) -> redis::RedisResult<String> {
    let (_, value): (String, String) = redis::cmd("CONFIG")
        .arg("GET")
        .arg(name)
        .query_async(con)
        .await?;
    Ok(value)
}

/// How Redis persists, as it reports it.
async fn persistence(con: &mut impl ConnectionLike) -> Result<Fsync, DurabilityError> {
    let appendonly = config_value(con, "appendonly")
        .await
        .map_err(DurabilityError::Unknown)?;
    let appendfsync = config_value(con, "appendfsync")
        .await
        .map_err(DurabilityError::Unknown)?;
    Ok(Fsync::of_redis(&appendonly, &appendfsync))
}

/// Checks Redis against `required`: an error only when the config says to refuse.
pub async fn check(
    con: &mut impl ConnectionLike,
    required: Durability,
) -> Result<(), DurabilityError> {
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
