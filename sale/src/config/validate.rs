//! Turns a [`RawConfig`] into a [`Config`], collecting every problem instead of stopping at the
//! first, so `check-config` and a refused reload show the operator the whole list.
//!
//! Over 400 lines because every field of the file is validated here, in file order, each in a
//! few lines; splitting by section would scatter the one list an operator reads against.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::catalog_section;
use super::problems::Problems;
use super::raw::{RawConfig, RawEvent, RawRate};
use super::values::{self, Network, Rate, SaleWindow, ValueResult, Weight};
use super::{
    CapScope, Config, DatabaseUrl, EdgeConfig, Environment, EventConfig, LimitsConfig,
    OriginConfig, OriginNode, Problem, Secrets, TokenConfig, TokenScheme, UpConfig,
};
use crate::ids::EventId;
use crate::secret_url::SecretUrl;

const MS: Duration = Duration::from_millis(1);
const SEC: Duration = Duration::from_secs(1);
const MIN: Duration = Duration::from_secs(60);
const DAY: Duration = Duration::from_secs(86_400);

fn in_range(value: u64, min: u64, max: u64) -> ValueResult<u64> {
    if (min..=max).contains(&value) {
        Ok(value)
    } else {
        Err(format!("must be between {min} and {max}, got {value}"))
    }
}

fn database_url(text: &str, base: &Path) -> ValueResult<DatabaseUrl> {
    if let Some(path) = text.strip_prefix("sqlite://") {
        if path.is_empty() {
            return Err("needs a file path after sqlite://".into());
        }
        // Absolute, so the file is the same whatever directory a command runs from.
        let file = base.join(path);
        return Ok(DatabaseUrl::Sqlite(
            std::path::absolute(&file).unwrap_or(file),
        ));
    }
    if text.starts_with("postgres://") || text.starts_with("postgresql://") {
        return Ok(DatabaseUrl::Postgres(SecretUrl::new(text)));
    }
    // The value is not repeated: it may hold a password.
    Err("must start with sqlite:// or postgres://".into())
}

fn event(
    p: &mut Problems,
    i: usize,
    raw: &RawEvent,
    base: &Path,
    env: &Environment,
) -> Option<EventConfig> {
    let f = |name: &str| format!("events[{i}].{name}");
    let id = p.check(f("id"), EventId::parse(&raw.id).map_err(|e| e.to_string()));
    let name = p.check(
        f("name"),
        if raw.name.trim().is_empty() || raw.name.chars().count() > 200 {
            Err("must be 1 to 200 characters".to_owned())
        } else {
            Ok(raw.name.clone())
        },
    );
    let currency = p.check(f("currency"), values::currency(&raw.currency));
    let limit = raw.per_user_limit.unwrap_or(1);
    let per_user_limit = p
        .check(f("per_user_limit"), in_range(limit.into(), 1, 100))
        .and_then(|l| u32::try_from(l).ok());
    let venue = super::venue_section::load(p, &f("venue"), raw.venue.as_deref(), base);
    let map = venue.as_ref().and_then(Option::as_deref);
    let ticket_types = catalog_section::event_ticket_types(p, &f, raw, per_user_limit, &|id| {
        Some(map?.category(id)?.count)
    });
    let starts_at = p.check(f("starts_at"), values::instant(&raw.starts_at, env.epoch));
    let ends_at = p.check(f("ends_at"), values::instant(&raw.ends_at, env.epoch));
    let window = match (starts_at, ends_at) {
        (Some(s), Some(e)) => p.check(f("ends_at"), SaleWindow::new(s, e)),
        _ => None,
    };
    let reservation_ttl = p.duration(
        &f("reservation_ttl"),
        raw.reservation_ttl.as_deref(),
        "10m",
        SEC,
        DAY,
    );
    let queue = super::queue_section::validate(p, &f("queue"), raw.queue.as_ref());
    let ticket_types = ticket_types?;
    let venue = venue?;
    if let Some(map) = &venue {
        super::venue_section::check_types(p, &f("venue"), map, &ticket_types);
    }
    let window = window?;
    let phases = catalog_section::phases(p, &f("phases"), &raw.phases, window, &ticket_types, env);
    let stock = ticket_types.iter().map(|t| u64::from(t.stock)).sum::<u64>();
    let listed = ticket_types.iter().filter(|t| !t.hidden);
    let price_cents = listed
        .map(|t| t.price_cents)
        .min()
        .unwrap_or(ticket_types[0].price_cents);
    Some(EventConfig {
        id: id?,
        name: name?,
        price_cents,
        currency: currency?,
        stock: u32::try_from(stock).ok()?,
        per_user_limit: per_user_limit?,
        window,
        reservation_ttl: reservation_ttl?,
        queue: queue?,
        ticket_types,
        phases: phases?,
        venue,
    })
}

/// Validates everything, returning all problems found.
pub fn validate(raw: RawConfig, base: &Path, env: &Environment) -> Result<Config, Vec<Problem>> {
    let mut p = Problems::default();

    let listen = p.check("edge.listen", values::socket_addr(&raw.edge.listen));
    let admin_listen = p.check(
        "edge.admin_listen",
        values::socket_addr(&raw.edge.admin_listen),
    );
    if listen.is_some() && listen == admin_listen {
        p.check::<()>(
            "edge.admin_listen",
            Err("must differ from edge.listen".into()),
        );
    }
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let threads = p.check(
        "edge.threads",
        in_range(raw.edge.threads.unwrap_or(cores) as u64, 1, 256),
    );
    let static_dir = base.join(&raw.edge.static_dir);
    if !static_dir.is_dir() {
        p.check::<()>(
            "edge.static_dir",
            Err(format!("must be a folder, {} is not", static_dir.display())),
        );
    }
    let edge = &raw.edge;
    let connect = p.duration(
        "edge.upstream_connect_timeout",
        edge.upstream_connect_timeout.as_deref(),
        "1s",
        10 * MS,
        MIN,
    );
    let read = p.duration(
        "edge.upstream_read_timeout",
        edge.upstream_read_timeout.as_deref(),
        "5s",
        10 * MS,
        MIN,
    );
    let health = p.duration(
        "edge.health_check_interval",
        edge.health_check_interval.as_deref(),
        "500ms",
        50 * MS,
        MIN,
    );

    let grace = p.duration(
        "edge.clock_skew_grace",
        edge.clock_skew_grace.as_deref(),
        "1s",
        Duration::ZERO,
        MIN,
    );
    let trusted: Vec<Network> = edge
        .trusted_proxies
        .iter()
        .enumerate()
        .filter_map(|(i, text)| p.check(format!("edge.trusted_proxies[{i}]"), Network::parse(text)))
        .collect();
    let client_timeout = p.duration(
        "edge.client_timeout",
        edge.client_timeout.as_deref(),
        "10s",
        100 * MS,
        MIN,
    );
    let idle_timeout = p.duration(
        "edge.idle_timeout",
        edge.idle_timeout.as_deref(),
        "60s",
        Duration::from_secs(1),
        10 * MIN,
    );
    let max_body = p.check(
        "edge.max_body_bytes",
        in_range(
            edge.max_body_bytes.unwrap_or(16 * 1024),
            0,
            super::MAX_BODY_BYTES,
        ),
    );
    let max_header = p.check(
        "edge.max_header_bytes",
        in_range(
            edge.max_header_bytes.unwrap_or(32 * 1024),
            1024,
            1024 * 1024,
        ),
    );
    let max_header_line = p.check(
        "edge.max_header_line_bytes",
        in_range(
            edge.max_header_line_bytes.unwrap_or(8 * 1024),
            256,
            max_header.unwrap_or(1024 * 1024),
        ),
    );
    let view_staleness = p.duration(
        "edge.view_staleness",
        edge.view_staleness.as_deref(),
        "2s",
        500 * MS,
        MIN,
    );
    let mut rate = |name: &str, raw: Option<&RawRate>, default: &str, burst: u32| {
        let (text, burst) = raw.map_or((default, Some(burst)), |r| (r.rate.as_str(), r.burst));
        p.check(format!("edge.limits.{name}"), Rate::parse(text, burst))
    };
    let limits = &edge.limits;
    let per_user = rate("per_user", limits.per_user.as_ref(), "5/s", 10);
    let per_ip = rate("per_ip", limits.per_ip.as_ref(), "50/s", 100);
    let origin_rate = rate(
        "origin_rate",
        limits.origin_rate.as_ref(),
        "20000/s",
        20_000,
    );
    let scope = p.check(
        "edge.limits.scope",
        match limits.scope.as_deref().unwrap_or("fleet") {
            "fleet" => Ok(CapScope::Fleet),
            "edge" => Ok(CapScope::Edge),
            other => Err(format!("must be \"fleet\" or \"edge\", got {other:?}")),
        },
    );
    let max_keys = p.check(
        "edge.limits.max_keys",
        in_range(
            limits.max_keys.unwrap_or(1_000_000) as u64,
            1_000,
            100_000_000,
        ),
    );

    if raw.origins.is_empty() {
        p.check::<()>("origins", Err("must list at least one origin".into()));
    }
    let mut seen = HashSet::new();
    let mut origins = Vec::new();
    for (i, o) in raw.origins.iter().enumerate() {
        let addr = p.check(
            format!("origins[{i}].listen"),
            values::socket_addr(&o.listen),
        );
        if let Some(addr) = addr.filter(|a| !seen.insert(*a)) {
            p.check::<()>(
                format!("origins[{i}].listen"),
                Err(format!("repeats {addr}")),
            );
        }
        let weight = p.check(
            format!("origins[{i}].weight"),
            Weight::parse(o.weight.unwrap_or(1)),
        );
        let tls = super::origin_tls_section::origin_tls(&mut p, i, o.tls.as_ref(), base, addr);
        if let (Some(listen), Some(weight), Some(tls)) = (addr, weight, tls) {
            origins.push(OriginNode {
                listen,
                weight,
                tls,
            });
        }
    }

    let database = p
        .resolve_env("origin.database_url", &raw.origin.database_url, env)
        .and_then(|text| p.check("origin.database_url", database_url(text, base)));
    let max_age = p.duration(
        "origin.signature_max_age",
        raw.origin.signature_max_age.as_deref(),
        "30s",
        SEC,
        10 * MIN,
    );

    let buffer = raw.origin.local_stock_buffer_percent.unwrap_or(10);
    let buffer = p.check(
        "origin.local_stock_buffer_percent",
        in_range(buffer.into(), 0, 100),
    );

    let redis = super::redis_section::validate(&mut p, &raw.redis, env);
    // The plan is in force under `up --redis-cluster`, or when the file spells out its replicas.
    let plan_in_use = raw.up.redis_cluster.replicas.is_some()
        || env.vars.contains_key(Environment::REDIS_CLUSTER_VAR);
    let redis_cluster =
        super::redis_section::cluster_plan(&mut p, &raw.up.redis_cluster, &raw.redis, plan_in_use);

    let s = &raw.secrets;
    let admin_token = p.secret("secrets.admin_token", &s.admin_token, env);
    let session_keys = p.ring("secrets.session_keys", &s.session_keys, env);
    let token_keys = p.ring("secrets.token_keys", &s.token_keys, env);
    let internal_keys = p.ring("secrets.internal_keys", &s.internal_keys, env);

    let scheme = match raw.tokens.scheme.as_deref().unwrap_or("hmac-sha256") {
        "hmac-sha256" => Some(TokenScheme::HmacSha256),
        "md5" => match &s.md5_salt {
            Some(salt) => p
                .secret("secrets.md5_salt", salt, env)
                .map(|salt| TokenScheme::Md5 { salt }),
            None => p.check(
                "secrets.md5_salt",
                Err("is required when tokens.scheme is \"md5\"".into()),
            ),
        },
        other => p.check(
            "tokens.scheme",
            Err(format!("must be \"hmac-sha256\" or \"md5\", got {other:?}")),
        ),
    };
    let ttl = p.duration(
        "tokens.ttl",
        raw.tokens.ttl.as_deref(),
        "30s",
        SEC,
        10 * MIN,
    );
    let session_ttl = p.duration(
        "tokens.session_ttl",
        raw.tokens.session_ttl.as_deref(),
        "12h",
        MIN,
        30 * DAY,
    );

    let mut events = Vec::new();
    let mut ids = HashSet::new();
    for (i, raw_event) in raw.events.iter().enumerate() {
        if !ids.insert(raw_event.id.as_str()) {
            p.check::<()>(
                format!("events[{i}].id"),
                Err(format!("repeats {:?}", raw_event.id)),
            );
        }
        events.extend(event(&mut p, i, raw_event, base, env));
    }
    super::venue_section::check_shared_ids(&mut p, &events);

    let var_dir = base.join(raw.up.var_dir.as_deref().unwrap_or("../var"));
    let tls = super::tls_section::validate(
        &mut p,
        raw.edge.tls.as_ref(),
        base,
        &var_dir,
        raw.edge.dev_sessions,
    );

    let payments = super::payments_section::payments(
        &mut p,
        raw.payments.as_ref(),
        raw.edge.dev_sessions,
        env,
    );
    let webhooks = super::payments_section::webhooks(&mut p, raw.webhooks.as_ref(), env);

    let complete = || -> Option<Config> {
        Some(Config {
            edge: EdgeConfig {
                listen: listen?,
                admin_listen: admin_listen?,
                threads: usize::try_from(threads?).ok()?,
                static_dir,
                dev_sessions: raw.edge.dev_sessions,
                upstream_connect_timeout: connect?,
                upstream_read_timeout: read?,
                health_check_interval: health?,
                clock_skew_grace: grace?,
                trusted_proxies: trusted,
                client_timeout: client_timeout?,
                idle_timeout: idle_timeout?,
                max_body_bytes: max_body?,
                max_header_bytes: max_header?,
                max_header_line_bytes: max_header_line?,
                view_staleness: view_staleness?,
                limits: LimitsConfig {
                    per_user: per_user?,
                    per_ip: per_ip?,
                    origin_rate: origin_rate?,
                    max_keys: usize::try_from(max_keys?).ok()?,
                    scope: scope?,
                },
                tls: tls?,
            },
            origins,
            origin: OriginConfig {
                database_url: database?,
                signature_max_age: max_age?,
                local_stock_buffer_percent: u32::try_from(buffer?).ok()?,
            },
            redis: redis?,
            secrets: Secrets {
                admin_token: admin_token?,
                session_keys: session_keys?,
                token_keys: token_keys?,
                internal_keys: internal_keys?,
            },
            tokens: TokenConfig {
                scheme: scheme?,
                ttl: ttl?,
                session_ttl: session_ttl?,
            },
            events,
            up: UpConfig {
                var_dir,
                // A bare name is looked up on PATH; a path is the file's, like every other.
                redis_server: match raw.up.redis_server.as_deref() {
                    None => "redis-server".into(),
                    Some(program) if !program.contains('/') => program.into(),
                    Some(path) => base.join(path).to_string_lossy().into_owned(),
                },
                redis_cluster: redis_cluster?,
            },
            payments: payments?,
            webhooks: webhooks?,
        })
    };
    match complete() {
        Some(config) if p.0.is_empty() => Ok(config),
        _ => Err(p.0),
    }
}
