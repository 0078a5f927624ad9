//! `[redis]` and `[up] redis_cluster`: where Redis is (one server or a cluster, exactly one), how
//! durable and how replicated an origin requires it to be, and the local cluster `up` may start.

use std::time::Duration;

use super::problems::Problems;
use super::raw::{RawClusterPlan, RawRedis};
use super::{ClusterPlan, Durability, Environment, Fsync, RedisConfig, RedisTarget, ReplicaAcks};
use crate::secret_url::SecretUrl;

/// The longest `redis.replica_ack_timeout`: half an origin's deadline for any Redis reply.
pub const MAX_REPLICA_ACK_TIMEOUT: Duration = Duration::from_secs(1);

const URL_SCHEMES: [&str; 4] = ["redis://", "rediss://", "unix://", "redis+unix://"];

/// A Redis URL. A refusal never repeats the text: it may hold a password.
fn url(text: &str) -> Result<SecretUrl, String> {
    if URL_SCHEMES.iter().any(|s| text.starts_with(s)) {
        Ok(SecretUrl::new(text))
    } else {
        Err("must start with redis://, rediss:// or unix:// (the value is not shown: it may hold a password)".into())
    }
}

fn target(p: &mut Problems, raw: &RawRedis, env: &Environment) -> Option<RedisTarget> {
    match (&raw.url, &raw.cluster) {
        (Some(one), None) => {
            let one = p.resolve_env("redis.url", one, env)?;
            p.check("redis.url", url(one)).map(RedisTarget::Node)
        }
        (None, Some(seeds)) if seeds.is_empty() => p.check(
            "redis.cluster",
            Err("must name at least one seed node".into()),
        ),
        (None, Some(seeds)) => {
            let checked: Vec<Option<SecretUrl>> = seeds
                .iter()
                .enumerate()
                .map(|(i, seed)| {
                    let field = format!("redis.cluster[{i}]");
                    let seed = p.resolve_env(&field, seed, env)?;
                    let seed = url(seed).and_then(|u| {
                        let tcp = ["redis://", "rediss://"];
                        if tcp.iter().any(|s| u.expose().starts_with(s)) {
                            Ok(u)
                        } else {
                            Err("must be redis://HOST:PORT: a cluster node is a TCP address".into())
                        }
                    });
                    p.check(field, seed)
                })
                .collect();
            checked
                .into_iter()
                .collect::<Option<Vec<_>>>()
                .map(RedisTarget::Cluster)
        }
        (Some(_), Some(_)) => p.check(
            "redis",
            Err("sets both url and cluster; keep exactly one".into()),
        ),
        (None, None) => p.check(
            "redis",
            Err("needs url (one server) or cluster (seed nodes)".into()),
        ),
    }
}

fn fsync(text: &str) -> Result<Fsync, String> {
    match text {
        "always" => Ok(Fsync::Always),
        "everysec" => Ok(Fsync::EverySec),
        "none" => Ok(Fsync::None),
        other => Err(format!(
            "must be \"always\", \"everysec\" or \"none\", got {other:?}"
        )),
    }
}

/// `[redis]`, every problem recorded in `p`.
pub(super) fn validate(p: &mut Problems, raw: &RawRedis, env: &Environment) -> Option<RedisConfig> {
    let target = target(p, raw, env);
    let required = p.check(
        "redis.durability",
        fsync(raw.durability.as_deref().unwrap_or("always")),
    );
    let refuse_weaker = p.check(
        "redis.on_weak_durability",
        match raw.on_weak_durability.as_deref().unwrap_or("refuse") {
            "refuse" => Ok(true),
            "warn" => Ok(false),
            other => Err(format!("must be \"refuse\" or \"warn\", got {other:?}")),
        },
    );
    let default_acks = u32::from(raw.cluster.is_some());
    let min = p.check(
        "redis.min_replica_acks",
        match raw.min_replica_acks.unwrap_or(default_acks) {
            acks @ 0..=5 => Ok(acks),
            other => Err(format!("must be 0 to 5, got {other}")),
        },
    );
    // WAIT holds the connection that wrote the change (it only counts that connection's writes),
    // and the buys behind it wait too: the bound keeps every wait well inside an origin's 2 s
    // deadline for a Redis reply, which a longer WAIT would turn into a dropped connection.
    let timeout = p.duration(
        "redis.replica_ack_timeout",
        raw.replica_ack_timeout.as_deref(),
        "200ms",
        Duration::from_millis(1),
        MAX_REPLICA_ACK_TIMEOUT,
    );
    Some(RedisConfig {
        target: target?,
        durability: Durability {
            required: required?,
            refuse_weaker: refuse_weaker?,
        },
        replica_acks: ReplicaAcks {
            min: min?,
            timeout: timeout?,
        },
        replica_reads: raw.replica_reads.unwrap_or(true),
    })
}

/// The replica acknowledgements a cluster runs with: as configured, else one.
fn cluster_acks(raw: &RawRedis) -> u32 {
    raw.min_replica_acks.unwrap_or(1)
}

/// `[up] redis_cluster`, every problem recorded in `p`. When the plan is in use (`in_use`), it
/// must give every primary at least as many replicas as each order change waits for, or every
/// change on it would answer 503 with its seat held.
pub(super) fn cluster_plan(
    p: &mut Problems,
    raw: &RawClusterPlan,
    redis: &RawRedis,
    in_use: bool,
) -> Option<ClusterPlan> {
    let primaries = p.check(
        "up.redis_cluster.primaries",
        match raw.primaries.unwrap_or(3) {
            n @ 3..=16 => Ok(n),
            other => Err(format!(
                "must be 3 to 16 (Redis Cluster needs at least 3), got {other}"
            )),
        },
    );
    let acks = cluster_acks(redis);
    let replicas = p.check(
        "up.redis_cluster.replicas",
        match raw.replicas.unwrap_or(1) {
            n if n > 5 => Err(format!("must be 0 to 5, got {n}")),
            n if in_use && n < acks => Err(format!(
                "must be at least redis.min_replica_acks ({acks}, the default on a cluster), got {n}: \
                 every order change waits for that many replicas; set redis.min_replica_acks = {n} to \
                 sell without them"
            )),
            n => Ok(n),
        },
    );
    let first_port = u64::from(raw.first_port.unwrap_or(7000));
    let nodes = u64::from(primaries.unwrap_or(3)) * (1 + u64::from(replicas.unwrap_or(1)));
    let first_port = p.check(
        "up.redis_cluster.first_port",
        // Each node's cluster bus listens 10000 above its port.
        if first_port == 0 || first_port + nodes + 10_000 > 65_536 {
            Err(format!(
                "must leave room for {nodes} nodes and their bus ports (10000 above) below 65536, got {first_port}"
            ))
        } else {
            u16::try_from(first_port).map_err(|e| e.to_string())
        },
    );
    Some(ClusterPlan {
        primaries: u16::try_from(primaries?).ok()?,
        replicas: u16::try_from(replicas?).ok()?,
        first_port: first_port?,
    })
}
