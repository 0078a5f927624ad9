//! `[redis]` and `[up] redis_cluster`: where Redis is (one server or a cluster, exactly one), how
//! durable and how replicated an origin requires it to be, and the local cluster `up` may start.

use std::time::Duration;

use super::raw::{RawClusterPlan, RawRedis};
use super::validate::Problems;
use super::{ClusterPlan, Durability, Fsync, RedisConfig, RedisTarget, ReplicaAcks};

const URL_SCHEMES: [&str; 4] = ["redis://", "rediss://", "unix://", "redis+unix://"];

fn url(text: &str) -> Result<String, String> {
    if URL_SCHEMES.iter().any(|s| text.starts_with(s)) {
        Ok(text.to_owned())
    } else {
        Err(format!(
            "must start with redis://, rediss:// or unix://, got {text:?}"
        ))
    }
}

fn target(p: &mut Problems, raw: &RawRedis) -> Option<RedisTarget> {
    match (&raw.url, &raw.cluster) {
        (Some(one), None) => p.check("redis.url", url(one)).map(RedisTarget::Node),
        (None, Some(seeds)) if seeds.is_empty() => p.check(
            "redis.cluster",
            Err("must name at least one seed node".into()),
        ),
        (None, Some(seeds)) => {
            let checked: Vec<Option<String>> = seeds
                .iter()
                .enumerate()
                .map(|(i, seed)| {
                    let seed = url(seed).and_then(|u| {
                        if u.starts_with("redis://") || u.starts_with("rediss://") {
                            Ok(u)
                        } else {
                            Err("must be redis://HOST:PORT: a cluster node is a TCP address".into())
                        }
                    });
                    p.check(format!("redis.cluster[{i}]"), seed)
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
pub(super) fn validate(p: &mut Problems, raw: &RawRedis) -> Option<RedisConfig> {
    let target = target(p, raw);
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
    let timeout = p.duration(
        "redis.replica_ack_timeout",
        raw.replica_ack_timeout.as_deref(),
        "200ms",
        Duration::from_millis(1),
        Duration::from_secs(10),
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
    })
}

/// `[up] redis_cluster`, every problem recorded in `p`.
pub(super) fn cluster_plan(p: &mut Problems, raw: &RawClusterPlan) -> Option<ClusterPlan> {
    let primaries = p.check(
        "up.redis_cluster.primaries",
        match raw.primaries.unwrap_or(3) {
            n @ 3..=16 => Ok(n),
            other => Err(format!(
                "must be 3 to 16 (Redis Cluster needs at least 3), got {other}"
            )),
        },
    );
    let replicas = p.check(
        "up.redis_cluster.replicas",
        match raw.replicas.unwrap_or(1) {
            n @ 0..=5 => Ok(n),
            other => Err(format!("must be 0 to 5, got {other}")),
        },
    );
    let first_port = raw.first_port.unwrap_or(7000);
    let nodes = primaries.zip(replicas).map(|(p, r)| p * (1 + r));
    let first_port = p.check(
        "up.redis_cluster.first_port",
        match nodes {
            // Each node's cluster bus listens 10000 above its port.
            Some(nodes) if first_port == 0 || first_port + nodes + 10_000 > 65_536 => Err(format!(
                "must leave room for {nodes} nodes and their bus ports (10000 above) below 65536, got {first_port}"
            )),
            _ => Ok(first_port),
        },
    );
    Some(ClusterPlan {
        primaries: u16::try_from(primaries?).ok()?,
        replicas: u16::try_from(replicas?).ok()?,
        first_port: u16::try_from(first_port?).ok()?,
    })
}
