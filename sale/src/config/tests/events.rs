//! One test per refused value of an event: its id, name, currency, stock and limit, and its sale
//! window's instants (zone required, nothing past 9999, relative ones only with a shared start).

use std::path::Path;

use super::super::{Config, ConfigError, Environment};
use super::{VALID, env, parse, refused, with};

#[test]
fn bad_event_ids_are_refused() {
    assert_eq!(
        refused(&with(r#"id = "demo""#, r#"id = "{demo}""#)),
        ["events[0].id"]
    );
}

#[test]
fn repeated_event_ids_are_refused() {
    let second = &VALID[VALID.find("[[events]]").unwrap()..];
    assert_eq!(refused(&format!("{VALID}{second}")), ["events[1].id"]);
}

#[test]
fn a_per_user_limit_above_stock_is_refused() {
    let text = with("stock = 100", "stock = 2\nper_user_limit = 3");
    assert_eq!(refused(&text), ["events[0].per_user_limit"]);
}

#[test]
fn an_end_before_the_start_is_refused() {
    assert_eq!(
        refused(&with("2030-01-01T00:00:00Z", "1970-01-01T00:00:01Z")),
        ["events[0].ends_at"]
    );
}

#[test]
fn a_bad_currency_is_refused() {
    assert_eq!(
        refused(&with(r#"currency = "EUR""#, r#"currency = "euro""#)),
        ["events[0].currency"]
    );
}

#[test]
fn a_blank_event_name_is_refused() {
    assert_eq!(
        refused(&with(r#"name = "Demo""#, r#"name = "  ""#)),
        ["events[0].name"]
    );
}

#[test]
fn an_instant_without_its_zone_is_refused() {
    let text = with(
        r#"ends_at = "2030-01-01T00:00:00Z""#,
        r#"ends_at = "2030-01-01T00:00:00""#,
    );
    assert_eq!(refused(&text), ["events[0].ends_at"]);
    let offset = with(
        r#"ends_at = "2030-01-01T00:00:00Z""#,
        r#"ends_at = "2030-01-01T01:00:00+01:00""#,
    );
    assert_eq!(
        parse(&offset).unwrap().events[0].window.ends_at,
        1_893_456_000_000
    );
}

#[test]
fn an_instant_past_the_year_9999_is_refused() {
    let text = with(
        r#"ends_at = "2030-01-01T00:00:00Z""#,
        r#"ends_at = "+20000y""#,
    );
    assert_eq!(refused(&text), ["events[0].ends_at"]);
}

#[test]
fn relative_instants_are_refused_without_a_shared_start() {
    let alone = Environment {
        epoch: None,
        ..env()
    };
    match Config::parse(VALID, Path::new("."), &alone) {
        Err(ConfigError::Invalid(problems)) => {
            let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["events[0].starts_at"]);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}
