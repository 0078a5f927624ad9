//! `flashgate audit`: the waiting room's draw recomputed from what was published (the revealed
//! seed, checked against the commitment, and the frozen entrant list) and checked against every
//! admission as it was recorded when granted. A pre-queue entrant must have been admitted at the
//! position the published draw gives them, a late joiner at their place in arrival order; nobody
//! ahead of the serving counter; the counter never going back; nobody twice.

use std::collections::{HashMap, HashSet};
use std::fmt;

use anyhow::Context;
use redis::AsyncCommands;
use sale::draw::{self, EntrantId};
use sale::redis_keys::EventKeys;

/// What the room published and recorded.
#[derive(Debug, Clone)]
pub struct Record {
    /// The commitment published when the pre-queue opened.
    pub commitment: String,
    /// The seed revealed at the draw (hex).
    pub seed: String,
    /// Everyone who joined, in join order; the first `frozen` are the draw's entrants.
    pub joined: Vec<EntrantId>,
    /// How many joined before the draw.
    pub frozen: usize,
    /// Every admission in the order granted: `id:position:serving:ms`.
    pub grants: Vec<String>,
}

/// The audit's findings.
#[derive(Debug, Default)]
pub struct Verdict {
    /// Admissions checked.
    pub checked: usize,
    /// Every mismatch.
    pub problems: Vec<String>,
}

impl Verdict {
    /// Whether everything matched.
    pub fn passed(&self) -> bool {
        self.problems.is_empty()
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} admissions checked against the published draw",
            self.checked
        )?;
        if self.passed() {
            return writeln!(f, "audit passed: every admission matches the draw");
        }
        for problem in &self.problems {
            writeln!(f, "MISMATCH {problem}")?;
        }
        writeln!(f, "audit failed: {} mismatch(es)", self.problems.len())
    }
}

/// Checks `record`.
pub fn audit(record: &Record) -> Verdict {
    let mut verdict = Verdict::default();
    let seed = match hex::decode(&record.seed) {
        Ok(seed) => seed,
        Err(_) => {
            verdict
                .problems
                .push(format!("the seed {:?} is not hex", record.seed));
            return verdict;
        }
    };
    if draw::commitment(&seed) != record.commitment {
        verdict
            .problems
            .push("the revealed seed does not match the published commitment".into());
    }
    let frozen = record.frozen.min(record.joined.len());
    let drawn = draw::draw(&seed, &record.joined[..frozen]);
    let expected: HashMap<EntrantId, u64> = record
        .joined
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let position = if i < frozen {
                u64::from(drawn[i])
            } else {
                i as u64 + 1
            };
            (*id, position)
        })
        .collect();
    let mut seen = HashSet::new();
    let mut last_serving = 0;
    for (n, grant) in record.grants.iter().enumerate() {
        verdict.checked += 1;
        let fields: Vec<&str> = grant.split(':').collect();
        let parsed = match fields.as_slice() {
            [id, position, serving, _] => EntrantId::parse(id)
                .zip(position.parse::<u64>().ok())
                .zip(serving.parse::<u64>().ok()),
            _ => None,
        };
        let Some(((id, position), serving)) = parsed else {
            verdict
                .problems
                .push(format!("admission #{n} is unreadable: {grant:?}"));
            continue;
        };
        match expected.get(&id) {
            None => verdict
                .problems
                .push(format!("admission #{n}: {id} never joined")),
            Some(&want) if want != position => verdict.problems.push(format!(
                "admission #{n}: {id} was admitted at position {position}, the draw gives {want}"
            )),
            Some(_) => {}
        }
        if position > serving {
            verdict.problems.push(format!(
                "admission #{n}: {id} at position {position} was admitted ahead of the serving counter ({serving})"
            ));
        }
        if serving < last_serving {
            verdict.problems.push(format!(
                "admission #{n}: the serving counter went back from {last_serving} to {serving}"
            ));
        }
        last_serving = last_serving.max(serving);
        if !seen.insert(id) {
            verdict
                .problems
                .push(format!("admission #{n}: {id} admitted twice"));
        }
    }
    verdict
}

/// Audits `event`'s draw against what Redis recorded (`flashgate audit`, and the rush's
/// waiting-room invariant).
pub fn verdict(
    config: &sale::Config,
    event: &sale::config::EventConfig,
) -> anyhow::Result<Verdict> {
    {
        if event.queue.is_none() {
            anyhow::bail!("event {} has no waiting room", event.id);
        }
        let keys = EventKeys::new(&event.id);
        let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
        let record = runtime.block_on(async {
            let mut redis = crate::stack::ready::batch_redis(&config.redis.target)
                .await
                .context("cannot reach Redis")?;
            let meta: Vec<Option<String>> = redis::cmd("HMGET")
                .arg(&keys.queue)
                .arg(&["commitment", "seed", "frozen", "drawn"])
                .query_async(&mut redis)
                .await?;
            let [commitment, seed, frozen, drawn] = meta.as_slice() else {
                anyhow::bail!("unexpected reply from Redis");
            };
            if drawn.as_deref() != Some("1") {
                anyhow::bail!(
                    "event {} has not been drawn yet: nothing to audit",
                    event.id
                );
            }
            let joined: Vec<Vec<u8>> = redis.lrange(&keys.queue_order, 0, -1).await?;
            let joined = joined
                .into_iter()
                .map(|b| b.try_into().map(EntrantId))
                .collect::<Result<Vec<_>, _>>()
                .map_err(|_| anyhow::anyhow!("the entrant list holds a malformed id"))?;
            anyhow::Ok(Record {
                commitment: commitment.clone().unwrap_or_default(),
                seed: seed.clone().unwrap_or_default(),
                joined,
                frozen: frozen.as_deref().and_then(|f| f.parse().ok()).unwrap_or(0),
                grants: redis.lrange(&keys.queue_grants, 0, -1).await?,
            })
        })?;
        Ok(audit(&record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn honest() -> Record {
        let seed = [3u8; 32];
        let joined: Vec<EntrantId> = (0..5u8).map(|i| EntrantId([i; 8])).collect();
        let drawn = draw::draw(&seed, &joined[..4]);
        let mut by_position: Vec<(u64, EntrantId)> = joined[..4]
            .iter()
            .zip(&drawn)
            .map(|(id, p)| (u64::from(*p), *id))
            .collect();
        by_position.push((5, joined[4]));
        by_position.sort();
        let grants = by_position
            .iter()
            .map(|(p, id)| format!("{id}:{p}:{p}:0"))
            .collect();
        Record {
            commitment: draw::commitment(&seed),
            seed: hex::encode(seed),
            joined,
            frozen: 4,
            grants,
        }
    }

    #[test]
    fn an_honest_record_passes() {
        let verdict = audit(&honest());
        assert!(verdict.passed(), "{verdict}");
        assert_eq!(verdict.checked, 5);
    }

    #[test]
    fn an_altered_list_seed_or_record_fails() {
        let mut list = honest();
        list.joined.swap(0, 1);
        assert!(!audit(&list).passed(), "a reordered list changes the draw");
        let mut seed = honest();
        seed.seed = hex::encode([4u8; 32]);
        assert!(
            !audit(&seed).passed(),
            "a seed that is not the committed one"
        );
        let mut record = honest();
        record.grants.swap(0, 1);
        let verdict = audit(&record);
        assert!(!verdict.passed(), "admissions out of the counter's order");
        let mut twice = honest();
        let first = twice.grants[0].clone();
        twice.grants.push(first);
        assert!(!audit(&twice).passed());
    }
}
