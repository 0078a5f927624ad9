//! File-level validation: a valid baseline, then one test per refused value, each asserting the
//! problem names the right field.
//! Events' own values are in `tests/events.rs`, what scales a sale out in `tests/scale_out.rs`.

use std::collections::HashMap;
use std::path::Path;

use super::{Config, ConfigError, DatabaseUrl, Environment};

mod events;
mod scale_out;

const VALID: &str = r#"
[edge]
listen = "127.0.0.1:8080"
admin_listen = "127.0.0.1:9180"
threads = 2
static_dir = "."

[[origins]]
listen = "127.0.0.1:8181"
weight = 1

[[origins]]
listen = "127.0.0.1:8182"
weight = 3

[origin]
database_url = "sqlite://orders.db"

[redis]
url = "redis://127.0.0.1:6390"

[secrets]
admin_token = "env:ADMIN_TOKEN"
session_keys = [{ id = "s1", secret = "session-key-0123456789" }]
token_keys = [{ id = "t2", secret = "token-key-new-0123456789" }, { id = "t1", secret = "token-key-old-0123456789" }]
internal_keys = [{ id = "i1", secret = "internal-key-0123456789" }]

[payments]
provider = "webhook"
secrets = [{ id = "p1", secret = "provider-secret-0123456789" }]
checkout_url = "https://pay.example/checkout/{payment_id}"

[[events]]
id = "demo"
name = "Demo"
price_cents = 4900
currency = "EUR"
stock = 100
starts_at = "+30s"
ends_at = "2030-01-01T00:00:00Z"
"#;

fn env() -> Environment {
    Environment {
        vars: HashMap::from([("ADMIN_TOKEN".into(), "admin-token-0123456789".into())]),
        epoch: Some(1_000_000),
    }
}

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(text, Path::new("."), &env())
}

/// The fields named by the problems in `text`, which must be refused.
fn refused(text: &str) -> Vec<String> {
    match parse(text) {
        Err(ConfigError::Invalid(problems)) => problems.into_iter().map(|p| p.field).collect(),
        other => panic!("expected validation problems, got {other:?}"),
    }
}

fn with(from: &str, to: &str) -> String {
    assert!(VALID.contains(from), "{from}");
    VALID.replacen(from, to, 1)
}

#[test]
fn the_baseline_is_valid_and_typed() {
    let c = parse(VALID).unwrap();
    assert_eq!(c.origins.len(), 2);
    assert_eq!(c.origins[1].weight.get(), 3);
    assert_eq!(c.events[0].window.starts_at, 1_030_000);
    assert_eq!(c.events[0].per_user_limit, 1);
    assert_eq!(c.secrets.token_keys.current().id.as_str(), "t2");
    assert!(matches!(c.origin.database_url, DatabaseUrl::Sqlite(_)));
    assert_eq!(c.tokens.ttl.as_secs(), 30);
}

#[test]
fn rehearsal_overrides_apply_to_every_event() {
    let mut environment = env();
    environment
        .vars
        .insert(Environment::STOCK_VAR.into(), "7".into());
    environment
        .vars
        .insert(Environment::STARTS_AT_VAR.into(), "+5s".into());
    let c = Config::parse(VALID, Path::new("."), &environment).unwrap();
    assert_eq!(c.events[0].stock, 7);
    assert_eq!(c.events[0].window.starts_at, 1_005_000);
}

#[test]
fn unknown_fields_are_refused() {
    let text = with("threads = 2", "threads = 2\nthreds = 3");
    assert!(matches!(parse(&text), Err(ConfigError::Syntax(_))));
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = with("stock = 100", "stock = 0").replace("weight = 3", "weight = 0");
    assert_eq!(refused(&text), ["origins[1].weight", "events[0].stock"]);
}

#[test]
fn a_missing_secret_variable_is_refused() {
    let errors = match Config::parse(VALID, Path::new("."), &Environment::default()) {
        Err(ConfigError::Invalid(p)) => p,
        other => panic!("{other:?}"),
    };
    assert_eq!(errors[0].field, "secrets.admin_token");
    assert!(errors[0].message.contains("ADMIN_TOKEN"));
}

#[test]
fn short_secrets_are_refused() {
    let text = with(
        r#"secret = "session-key-0123456789""#,
        r#"secret = "short""#,
    );
    assert_eq!(refused(&text), ["secrets.session_keys[0].secret"]);
}

#[test]
fn duplicate_key_ids_are_refused() {
    let text = with(r#"{ id = "t1""#, r#"{ id = "t2""#);
    assert_eq!(refused(&text), ["secrets.token_keys"]);
}

#[test]
fn empty_key_rings_are_refused() {
    let text = with(
        r#"internal_keys = [{ id = "i1", secret = "internal-key-0123456789" }]"#,
        "internal_keys = []",
    );
    assert_eq!(refused(&text), ["secrets.internal_keys"]);
}

#[test]
fn a_bad_listen_address_is_refused() {
    assert_eq!(
        refused(&with("127.0.0.1:8080", "localhost:8080")),
        ["edge.listen"]
    );
}

#[test]
fn admin_and_public_listeners_must_differ() {
    assert_eq!(
        refused(&with("127.0.0.1:9180", "127.0.0.1:8080")),
        ["edge.admin_listen"]
    );
}

#[test]
fn zero_threads_are_refused() {
    assert_eq!(
        refused(&with("threads = 2", "threads = 0")),
        ["edge.threads"]
    );
}

#[test]
fn a_missing_static_dir_is_refused() {
    assert_eq!(
        refused(&with(r#"static_dir = ".""#, r#"static_dir = "nope/""#)),
        ["edge.static_dir"]
    );
}

#[test]
fn out_of_range_timeouts_are_refused() {
    let text = with("threads = 2", "threads = 2\nupstream_read_timeout = \"2h\"");
    assert_eq!(refused(&text), ["edge.upstream_read_timeout"]);
}

#[test]
fn a_client_timeout_out_of_range_is_refused() {
    for bad in ["0s", "50ms", "2m", "soon"] {
        let text = with(
            "threads = 2",
            &format!("threads = 2\nclient_timeout = \"{bad}\""),
        );
        assert_eq!(refused(&text), ["edge.client_timeout"], "{bad}");
    }
}

#[test]
fn an_idle_timeout_out_of_range_is_refused() {
    for bad in ["0s", "500ms", "11m", "later"] {
        let text = with(
            "threads = 2",
            &format!("threads = 2\nidle_timeout = \"{bad}\""),
        );
        assert_eq!(refused(&text), ["edge.idle_timeout"], "{bad}");
    }
}

#[test]
fn no_origins_are_refused() {
    let text = VALID
        .replace("[[origins]]\nlisten = \"127.0.0.1:8182\"\nweight = 3\n", "")
        .replace("[[origins]]\nlisten = \"127.0.0.1:8181\"\nweight = 1\n", "");
    assert_eq!(refused(&text), ["origins"]);
}

#[test]
fn repeated_origins_are_refused() {
    assert_eq!(
        refused(&with("127.0.0.1:8182", "127.0.0.1:8181")),
        ["origins[1].listen"]
    );
}

#[test]
fn unknown_databases_are_refused() {
    assert_eq!(
        refused(&with("sqlite://orders.db", "mysql://x")),
        ["origin.database_url"]
    );
}

#[test]
fn bad_redis_urls_are_refused() {
    assert_eq!(
        refused(&with("redis://127.0.0.1:6390", "127.0.0.1:6390")),
        ["redis.url"]
    );
}

#[test]
fn a_local_stock_buffer_over_100_percent_is_refused() {
    let text = with(
        "database_url = \"sqlite://orders.db\"",
        "database_url = \"sqlite://orders.db\"\nlocal_stock_buffer_percent = 101",
    );
    assert_eq!(refused(&text), ["origin.local_stock_buffer_percent"]);
}

#[test]
fn a_bad_rate_is_refused() {
    let text = with(
        "threads = 2",
        "threads = 2\nlimits = { per_user = { rate = \"fast\" } }",
    );
    assert_eq!(refused(&text), ["edge.limits.per_user"]);
}

#[test]
fn a_bad_trusted_proxy_is_refused() {
    let text = with(
        "threads = 2",
        "threads = 2\ntrusted_proxies = [\"10.0.0.0/8\", \"lb.internal\"]",
    );
    assert_eq!(refused(&text), ["edge.trusted_proxies[1]"]);
}

#[test]
fn a_tiny_limiter_key_cap_is_refused() {
    let text = with("threads = 2", "threads = 2\nlimits = { max_keys = 10 }");
    assert_eq!(refused(&text), ["edge.limits.max_keys"]);
}

#[test]
fn an_unknown_token_scheme_is_refused() {
    let text = format!("{VALID}\n[tokens]\nscheme = \"sha1\"\n");
    assert_eq!(refused(&text), ["tokens.scheme"]);
}

#[test]
fn the_md5_scheme_needs_a_salt() {
    let text = format!("{VALID}\n[tokens]\nscheme = \"md5\"\n");
    assert_eq!(refused(&text), ["secrets.md5_salt"]);
    let salted = with(
        "internal_keys",
        "md5_salt = \"classic-salt-0123456789\"\ninternal_keys",
    );
    let config = parse(&format!("{salted}\n[tokens]\nscheme = \"md5\"\n")).unwrap();
    assert!(matches!(
        config.tokens.scheme,
        super::TokenScheme::Md5 { .. }
    ));
}

#[test]
fn a_bad_token_ttl_is_refused() {
    let text = format!("{VALID}\n[tokens]\nttl = \"0s\"\n");
    assert_eq!(refused(&text), ["tokens.ttl"]);
}

#[test]
fn head_bounds_out_of_range_are_refused() {
    for (field, bad) in [
        ("max_header_bytes", "512"),
        ("max_header_bytes", "2000000"),
        ("max_header_line_bytes", "100"),
        ("max_header_line_bytes", "40000"),
    ] {
        let text = with("threads = 2", &format!("threads = 2\n{field} = {bad}"));
        assert_eq!(refused(&text), [format!("edge.{field}")], "{field} = {bad}");
    }
    let c = parse(VALID).unwrap();
    assert_eq!(
        (c.edge.max_header_bytes, c.edge.max_header_line_bytes),
        (32_768, 8_192)
    );
}

#[test]
fn a_body_limit_over_what_origins_read_is_refused() {
    let over = super::MAX_BODY_BYTES + 1;
    let text = with(
        "threads = 2",
        &format!("threads = 2\nmax_body_bytes = {over}"),
    );
    assert_eq!(refused(&text), ["edge.max_body_bytes"]);
    let most = super::MAX_BODY_BYTES;
    let text = with(
        "threads = 2",
        &format!("threads = 2\nmax_body_bytes = {most}"),
    );
    assert_eq!(parse(&text).unwrap().edge.max_body_bytes, most);
}

#[test]
fn a_view_staleness_out_of_range_is_refused() {
    for bad in ["100ms", "2m", "stale"] {
        let text = with(
            "threads = 2",
            &format!("threads = 2\nview_staleness = \"{bad}\""),
        );
        assert_eq!(refused(&text), ["edge.view_staleness"], "{bad}");
    }
}

#[test]
fn unknown_durability_words_are_refused() {
    let url = "url = \"redis://127.0.0.1:6390\"";
    let text = with(url, &format!("{url}\ndurability = \"sometimes\""));
    assert_eq!(refused(&text), ["redis.durability"]);
    let text = with(url, &format!("{url}\non_weak_durability = \"shrug\""));
    assert_eq!(refused(&text), ["redis.on_weak_durability"]);
    let c = parse(VALID).unwrap();
    assert_eq!(
        c.redis.durability,
        super::Durability {
            required: super::Fsync::Always,
            refuse_weaker: true
        }
    );
}

#[test]
fn a_ring_of_only_accept_only_keys_is_refused() {
    let text = with(
        r#"internal_keys = [{ id = "i1", secret = "internal-key-0123456789" }]"#,
        r#"internal_keys = [{ id = "i1", secret = "internal-key-0123456789", accept_only = true }]"#,
    );
    assert_eq!(refused(&text), ["secrets.internal_keys"]);
}

#[test]
fn a_reload_may_not_move_what_is_bound_at_start() {
    use super::reload::Component;
    let now = parse(VALID).unwrap();
    let next = parse(
        &with(
            "url = \"redis://127.0.0.1:6390\"",
            "url = \"redis://127.0.0.1:6391\"",
        )
        .replacen("stock = ", "stock = 1", 1),
    );
    let Err(ConfigError::Invalid(problems)) = now.reloaded(next, Component::Edge) else {
        panic!("the reload must be refused");
    };
    let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
    assert_eq!(fields, ["redis.url/redis.cluster", "events[0].stock"]);
    assert!(problems[0].message.contains("restart of the edge"));
    let window_moved =
        parse(&VALID.replacen("ends_at = ", "ends_at = \"2031-01-01T00:00:00Z\"\n# ", 1));
    assert!(now.reloaded(window_moved, Component::Origin).is_ok());
}
