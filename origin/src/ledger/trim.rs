//! Trimming an event's order stream, so a platform that runs sale after sale does not grow Redis
//! memory for ever. Only entries every consumer group has acknowledged go: nothing pending (a
//! row not yet committed, an entry of a crashed consumer) and nothing not yet delivered. The
//! trim point is read first and trimmed with `XTRIM MINID` after; in between groups only move
//! forward, so a point read a moment ago is still safe.

use redis::aio::ConnectionLike;
use redis::streams::{StreamInfoGroupsReply, StreamPendingReply};
use redis::{AsyncCommands, RedisResult};

/// A stream entry id, `ms-seq`, ordered as Redis orders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct EntryId(u64, u64);

impl EntryId {
    fn parse(text: &str) -> Option<Self> {
        let (ms, seq) = text.split_once('-')?;
        Some(Self(ms.parse().ok()?, seq.parse().ok()?))
    }

    /// The smallest id after this one.
    fn next(self) -> Self {
        match self.1.checked_add(1) {
            Some(seq) => Self(self.0, seq),
            None => Self(self.0 + 1, 0),
        }
    }
}

impl std::fmt::Display for EntryId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.0, self.1)
    }
}

/// What one group still needs: entries from its oldest pending one, or else everything after
/// the last it was delivered.
fn needed_from(last_delivered: &str, oldest_pending: Option<&str>) -> Option<EntryId> {
    match oldest_pending {
        Some(pending) => EntryId::parse(pending),
        None => EntryId::parse(last_delivered).map(EntryId::next),
    }
}

/// The id below which no group needs anything, or `None` if any group's state is unreadable
/// (then nothing is trimmed) or there are no groups (nobody has consumed anything).
fn trim_point(groups: &[(String, Option<String>)]) -> Option<EntryId> {
    let mut point: Option<EntryId> = None;
    for (last_delivered, oldest_pending) in groups {
        let needed = needed_from(last_delivered, oldest_pending.as_deref())?;
        point = Some(point.map_or(needed, |p| p.min(needed)));
    }
    point
}

/// Removes every entry of `stream` that all its groups have acknowledged; returns how many.
pub async fn trim_acknowledged(
    con: &mut (impl ConnectionLike + Send + Sync),
    stream: &str,
) -> RedisResult<usize> {
    let info: StreamInfoGroupsReply = con.xinfo_groups(stream).await?;
    let mut groups = Vec::with_capacity(info.groups.len());
    for group in &info.groups {
        let oldest_pending = if group.pending == 0 {
            None
        } else {
            match con.xpending(stream, &group.name).await? {
                StreamPendingReply::Data(data) => Some(data.start_id),
                StreamPendingReply::Empty => None,
                // A reply this code does not know: trim nothing rather than guess.
                _ => return Ok(0),
            }
        };
        groups.push((group.last_delivered_id.clone(), oldest_pending));
    }
    let Some(point) = trim_point(&groups) else {
        return Ok(0);
    };
    redis::cmd("XTRIM")
        .arg(stream)
        .arg("MINID")
        .arg(point.to_string())
        .query_async(con)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(last: &str, pending: Option<&str>) -> (String, Option<String>) {
        (last.to_owned(), pending.map(str::to_owned))
    }

    #[test]
    fn a_fully_acknowledged_group_frees_everything_it_was_delivered() {
        assert_eq!(trim_point(&[group("5-3", None)]), Some(EntryId(5, 4)));
    }

    #[test]
    fn a_pending_entry_and_everything_after_it_stay() {
        assert_eq!(
            trim_point(&[group("9-0", Some("4-1"))]),
            Some(EntryId(4, 1))
        );
    }

    #[test]
    fn the_slowest_group_decides() {
        let groups = [
            group("9-0", None),
            group("3-7", None),
            group("8-0", Some("6-0")),
        ];
        assert_eq!(trim_point(&groups), Some(EntryId(3, 8)));
    }

    #[test]
    fn nothing_is_trimmed_without_groups_or_with_an_unreadable_one() {
        assert_eq!(trim_point(&[]), None);
        assert_eq!(trim_point(&[group("9-0", None), group("junk", None)]), None);
    }

    #[test]
    fn ids_order_numerically() {
        assert!(EntryId::parse("10-0") > EntryId::parse("9-99"));
        assert_eq!(EntryId(1, u64::MAX).next(), EntryId(2, 0));
    }
}
