//! One test per refused value of an event: its id, name, currency, stock and limit, and its sale
//! window's instants (zone required, nothing past 9999, relative ones only with a shared start);
//! and a seated event's venue (its seats as stock, fixed once seeded, one map per venue id).

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
fn an_event_name_is_counted_in_characters() {
    // 200 characters of three bytes each: within the bound, whatever its byte length.
    let long = "祭".repeat(200);
    let text = with(r#"name = "Demo""#, &format!("name = \"{long}\""));
    assert_eq!(parse(&text).unwrap().events[0].name, long);
    let longer = with(r#"name = "Demo""#, &format!("name = \"{long}祭\""));
    assert_eq!(refused(&longer), ["events[0].name"]);
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

/// VALID's event with two ticket types instead of its own stock and price.
fn typed(extra: &str) -> String {
    format!(
        "{}\n[[events.ticket_types]]\nid = \"standing\"\nname = \"Standing\"\nprice_cents = 4900\nstock = 90\n\
         [[events.ticket_types]]\nid = \"vip\"\nname = \"VIP\"\nprice_cents = 9900\nstock = 10\n{extra}",
        with("price_cents = 4900\n", "").replacen("stock = 100\n", "", 1)
    )
}

#[test]
fn ticket_types_replace_the_events_own_stock_and_price() {
    let config = parse(&typed("")).expect("valid");
    let event = &config.events[0];
    assert_eq!(event.stock, 100, "the types' stock together");
    assert_eq!(event.price_cents, 4900, "the lowest listed price");
    assert_eq!(event.ticket_types.len(), 2);
    let both = typed("").replacen("currency", "stock = 100\ncurrency", 1);
    assert_eq!(refused(&both), ["events[0].stock"]);
    let neither = with("stock = 100\n", "");
    assert_eq!(refused(&neither), ["events[0].stock"]);
    let no_price = with("price_cents = 4900\n", "");
    assert_eq!(refused(&no_price), ["events[0].price_cents"]);
}

#[test]
fn a_reload_may_add_a_type_but_not_change_or_drop_one() {
    use super::super::reload::Component;
    let now = parse(&typed("")).unwrap();
    let added = typed(
        "[[events.ticket_types]]\nid = \"balcony\"\nname = \"Balcony\"\nprice_cents = 100\nstock = 5\n",
    );
    assert!(now.reloaded(parse(&added), Component::Origin).is_ok());
    let repriced = typed("").replace("price_cents = 9900", "price_cents = 12900");
    assert!(now.reloaded(parse(&repriced), Component::Origin).is_ok());
    for changed in [
        typed("").replace("stock = 10\n", "stock = 11\n"),
        typed("").replace("id = \"vip\"", "id = \"vvip\""),
    ] {
        let Err(ConfigError::Invalid(problems)) = now.reloaded(parse(&changed), Component::Origin)
        else {
            panic!("refused: {changed}");
        };
        assert_eq!(problems[0].field, "events[0].ticket_types");
    }
}

#[test]
fn a_seated_event_sells_its_venue_and_a_reload_may_not_move_its_seats() {
    use super::super::reload::Component;
    let dir = std::env::temp_dir().join(format!("fg-config-venue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let venue = |categories: &str| crate::venue::test_file(&[categories], "\"row_order\"");
    std::fs::write(dir.join("one.json"), venue("112")).unwrap();
    std::fs::write(dir.join("two.json"), venue("121")).unwrap();
    let seated = |file: &str| {
        with(
            "price_cents = 4900\ncurrency = \"EUR\"\nstock = 100\n",
            "currency = \"EUR\"\n",
        ) + &format!(
            "venue = \"{}\"\n[[events.ticket_types]]\nid = \"c1\"\nname = \"One\"\nprice_cents = 100\n\
             [[events.ticket_types]]\nid = \"c2\"\nname = \"Two\"\nprice_cents = 50\n",
            dir.join(file).display()
        )
    };
    let now = parse(&seated("one.json")).expect("a seated event is valid");
    let demo = now.event("demo").unwrap();
    assert_eq!(demo.stock, 3);
    assert_eq!(
        demo.ticket_type("c1").unwrap().stock,
        2,
        "a type's stock is its seats"
    );
    assert!(demo.venue.is_some());
    assert!(
        now.reloaded(parse(&seated("one.json")), Component::Origin)
            .is_ok()
    );
    for next in [parse(&seated("two.json")), parse(VALID)] {
        let Err(ConfigError::Invalid(problems)) = now.reloaded(next, Component::Origin) else {
            panic!("moving the seats must be refused");
        };
        assert!(
            problems.iter().any(|p| p.field == "events[0].venue"),
            "{problems:?}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn two_venues_with_one_id_are_refused() {
    let dir = std::env::temp_dir().join(format!("fg-config-venue-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("a.json"),
        crate::venue::test_file(&["1"], "\"row_order\""),
    )
    .unwrap();
    std::fs::write(
        dir.join("b.json"),
        crate::venue::test_file(&["11"], "\"row_order\""),
    )
    .unwrap();
    let event = |id: &str, file: &str| {
        format!(
            "\n[[events]]\nid = \"{id}\"\nname = \"{id}\"\ncurrency = \"EUR\"\nstarts_at = \"+30s\"\n\
             ends_at = \"2030-01-01T00:00:00Z\"\nvenue = \"{}\"\n[[events.ticket_types]]\nid = \"c1\"\n\
             name = \"One\"\nprice_cents = 100\n",
            dir.join(file).display()
        )
    };
    let same = format!(
        "{VALID}{}{}",
        event("one", "a.json"),
        event("two", "a.json")
    );
    assert!(parse(&same).is_ok(), "two events may sell one venue");
    let clash = format!(
        "{VALID}{}{}",
        event("one", "a.json"),
        event("two", "b.json")
    );
    assert_eq!(refused(&clash), ["events[2].venue"]);
    std::fs::remove_dir_all(&dir).ok();
}
