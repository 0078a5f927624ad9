//! What a live reload may not change. A reload swaps the whole config at once, but a few values
//! are bound at start (sockets, connections, the order database) or cannot change at all once
//! seeded (an event's stock: seats sold cannot be unsold). A file that changes one of them is
//! refused whole, naming each field and why, and the running config stays.

use super::{Config, ConfigError, EventConfig, Problem};

/// The component reloading: each binds different values at start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// The edge: its listeners, threads, Redis connection and the replica acknowledgements its
    /// waiting rooms wait for.
    Edge,
    /// An origin: its Redis connection and durability check, and the order database.
    Origin,
}

fn unchanged<T: PartialEq + std::fmt::Debug>(
    problems: &mut Vec<Problem>,
    field: &str,
    now: &T,
    next: &T,
    component: Component,
) {
    if now != next {
        problems.push(Problem {
            field: field.to_owned(),
            message: format!(
                "changed from {now:?} to {next:?}, which takes a restart of the {}",
                match component {
                    Component::Edge => "edge",
                    Component::Origin => "origin",
                }
            ),
        });
    }
}

/// Every change from `now` to `next` that `component` cannot apply live.
pub fn unreloadable(now: &Config, next: &Config, component: Component) -> Vec<Problem> {
    let mut problems = Vec::new();
    let p = &mut problems;
    let target = (&now.redis.target, &next.redis.target);
    unchanged(p, "redis.url/redis.cluster", target.0, target.1, component);
    let acks = (&now.redis.replica_acks, &next.redis.replica_acks);
    unchanged(p, "redis.min_replica_acks", acks.0, acks.1, component);
    match component {
        Component::Edge => {
            unchanged(
                p,
                "edge.listen",
                &now.edge.listen,
                &next.edge.listen,
                component,
            );
            let admin = (&now.edge.admin_listen, &next.edge.admin_listen);
            unchanged(p, "edge.admin_listen", admin.0, admin.1, component);
            let reads = (&now.redis.replica_reads, &next.redis.replica_reads);
            unchanged(p, "redis.replica_reads", reads.0, reads.1, component);
            unchanged(
                p,
                "edge.threads",
                &now.edge.threads,
                &next.edge.threads,
                component,
            );
            // The HTTPS socket and its ALPN list are bound at start; certificates, HSTS, the
            // plain listener's answer and the h2 limits are read live.
            let tls = |c: &Config| c.edge.tls.as_ref().map(|t| (t.listen, t.http2));
            unchanged(
                p,
                "edge.tls (listen, http2)",
                &tls(now),
                &tls(next),
                component,
            );
        }
        Component::Origin => {
            let db = (&now.origin.database_url, &next.origin.database_url);
            unchanged(p, "origin.database_url", db.0, db.1, component);
            let durability = (&now.redis.durability, &next.redis.durability);
            unchanged(p, "redis.durability", durability.0, durability.1, component);
            // An origin's listener takes its TLS at start (edges read origins' CAs live).
            let tls = |c: &Config| c.origins.iter().map(|o| o.tls.clone()).collect::<Vec<_>>();
            unchanged(p, "origins[].tls", &tls(now), &tls(next), component);
        }
    }
    for (i, event) in next.events.iter().enumerate() {
        let Some(old) = now.event(event.id.as_str()) else {
            continue;
        };
        // An event of one implicit type writes its stock on the event itself.
        let implicit = |e: &EventConfig| matches!(e.ticket_types.as_slice(), [only] if only.id == super::catalog_section::GENERAL);
        let field = if implicit(old) && implicit(event) {
            format!("events[{i}].stock")
        } else {
            format!("events[{i}].ticket_types")
        };
        // Every seat's bit is where the venue put it when the event was seeded; a venue cannot
        // come, go or move under seats already held.
        let layout = |e: &EventConfig| e.venue.as_ref().map(|v| v.fingerprint.clone());
        if layout(old) != layout(event) {
            problems.push(Problem {
                field: format!("events[{i}].venue"),
                message: "a venue's seats (and whether the event has one) are fixed once it is \
                          seeded; drawing changes (positions, flags) may be reloaded"
                    .to_owned(),
            });
        }
        for seeded in &old.ticket_types {
            let message = match event.ticket_type(&seeded.id) {
                Some(t) if t.stock == seeded.stock => continue,
                Some(t) if implicit(old) && implicit(event) => format!(
                    "changed from {} to {}: an event's stock is fixed once it is seeded",
                    seeded.stock, t.stock
                ),
                Some(t) => format!(
                    "ticket type {}: stock changed from {} to {}: a type's stock is fixed once it is seeded",
                    seeded.id, seeded.stock, t.stock
                ),
                None => format!(
                    "ticket type {} is gone: a type, once seeded, stays (its seats are held and sold); a reload may add types",
                    seeded.id
                ),
            };
            problems.push(Problem {
                field: field.clone(),
                message,
            });
        }
    }
    problems
}

impl Config {
    /// Reads `next` as a reload of this config by `component`: valid, and changing nothing it
    /// cannot apply live.
    pub fn reloaded(
        &self,
        next: Result<Config, ConfigError>,
        component: Component,
    ) -> Result<Config, ConfigError> {
        let next = next?;
        let problems = unreloadable(self, &next, component);
        if problems.is_empty() {
            Ok(next)
        } else {
            Err(ConfigError::Invalid(problems))
        }
    }
}
