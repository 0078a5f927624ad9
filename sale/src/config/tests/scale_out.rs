//! One test per refused value of what scales a sale out: `[redis]` (one server or a cluster,
//! replica acks), `[up] redis_cluster` and `redis_server`, the fleet's cap scope and edge index,
//! and an event's waiting room.

use std::path::Path;

use super::super::{CapScope, Config, Environment, RedisTarget};
use super::{VALID, env, parse, refused, with};

const ONE_NODE: &str = "url = \"redis://127.0.0.1:6390\"";

#[test]
fn a_redis_cluster_is_named_by_its_seeds_and_waits_for_one_replica() {
    let text = with(
        ONE_NODE,
        r#"cluster = ["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]"#,
    );
    let c = parse(&text).unwrap();
    assert_eq!(
        c.redis.target,
        RedisTarget::Cluster(vec![
            "redis://127.0.0.1:7000".into(),
            "redis://127.0.0.1:7001".into()
        ])
    );
    assert_eq!(c.redis.replica_acks.min, 1);
    assert_eq!(parse(VALID).unwrap().redis.replica_acks.min, 0);
    let plan = c.up.redis_cluster;
    assert_eq!(
        plan.ports().collect::<Vec<_>>(),
        (7000..7006).collect::<Vec<_>>()
    );
}

const EVENT_END: &str = r#"ends_at = "2030-01-01T00:00:00Z""#;

fn with_queue(fields: &str) -> String {
    with(
        EVENT_END,
        &format!("{EVENT_END}\nqueue = {{ enabled = true{fields} }}"),
    )
}

#[test]
fn a_queue_is_off_unless_enabled_and_typed_when_on() {
    assert_eq!(parse(VALID).unwrap().events[0].queue, None);
    let off = with(
        EVENT_END,
        &format!("{EVENT_END}\nqueue = {{ admit_rate = \"5/s\" }}"),
    );
    assert_eq!(parse(&off).unwrap().events[0].queue, None);
    let on = parse(&with_queue(", admit_rate = \"20/s\", pow_bits = 8")).unwrap();
    let queue = on.events[0].queue.expect("the queue is on");
    assert_eq!(
        queue.admit_rate.period,
        std::time::Duration::from_millis(50)
    );
    assert_eq!(queue.pow_bits, 8);
    assert_eq!(queue.opens_before, std::time::Duration::from_secs(900));
    assert_eq!(queue.admission_ttl, std::time::Duration::from_secs(600));
}

#[test]
fn bad_queue_values_are_refused() {
    for (fields, field) in [
        (", opens_before = \"0s\"", "events[0].queue.opens_before"),
        (", opens_before = \"8d\"", "events[0].queue.opens_before"),
        (", admit_rate = \"fast\"", "events[0].queue.admit_rate"),
        (
            ", admission_ttl = \"500ms\"",
            "events[0].queue.admission_ttl",
        ),
        (", admission_ttl = \"2h\"", "events[0].queue.admission_ttl"),
        (", admission_ttl = \"2s\"", "events[0].queue.admission_ttl"),
        (", pow_bits = 25", "events[0].queue.pow_bits"),
    ] {
        assert_eq!(refused(&with_queue(fields)), [field], "{fields}");
        // The same value in a room that is off is refused too: turning it on later would fail.
        let off = with_queue(fields).replace("enabled = true", "enabled = false");
        assert_eq!(refused(&off), [field], "off: {fields}");
    }
}

#[test]
fn an_unknown_cap_scope_is_refused() {
    let text = with(
        "threads = 2",
        "threads = 2\nlimits = { scope = \"planet\" }",
    );
    assert_eq!(refused(&text), ["edge.limits.scope"]);
    assert_eq!(parse(VALID).unwrap().edge.limits.scope, CapScope::Fleet);
}

#[test]
fn both_or_neither_redis_target_is_refused() {
    let both = with(
        ONE_NODE,
        &format!("{ONE_NODE}\ncluster = [\"redis://127.0.0.1:7000\"]"),
    );
    assert_eq!(refused(&both), ["redis"]);
    assert_eq!(refused(&with(ONE_NODE, "")), ["redis"]);
}

#[test]
fn bad_cluster_seeds_are_refused() {
    assert_eq!(refused(&with(ONE_NODE, "cluster = []")), ["redis.cluster"]);
    let text = with(
        ONE_NODE,
        r#"cluster = ["redis://127.0.0.1:7000", "unix:///tmp/r.sock"]"#,
    );
    assert_eq!(refused(&text), ["redis.cluster[1]"]);
}

#[test]
fn too_many_replica_acks_are_refused() {
    let text = with(ONE_NODE, &format!("{ONE_NODE}\nmin_replica_acks = 6"));
    assert_eq!(refused(&text), ["redis.min_replica_acks"]);
}

#[test]
fn bad_replica_ack_timeouts_are_refused() {
    for bad in ["0ms", "1001ms", "11s", "soon"] {
        let text = with(
            ONE_NODE,
            &format!("{ONE_NODE}\nreplica_ack_timeout = \"{bad}\""),
        );
        assert_eq!(refused(&text), ["redis.replica_ack_timeout"], "{bad}");
    }
}

#[test]
fn bad_cluster_plans_are_refused() {
    for (plan, field) in [
        ("primaries = 2", "up.redis_cluster.primaries"),
        ("primaries = 17", "up.redis_cluster.primaries"),
        ("replicas = 6", "up.redis_cluster.replicas"),
        ("first_port = 60000", "up.redis_cluster.first_port"),
        ("first_port = 0", "up.redis_cluster.first_port"),
        ("first_port = 4294967295", "up.redis_cluster.first_port"),
        ("first_port = 4294960000", "up.redis_cluster.first_port"),
    ] {
        let text = format!("{VALID}\n[up]\nredis_cluster = {{ {plan} }}\n");
        assert_eq!(refused(&text), [field], "{plan}");
    }
}

#[test]
fn an_edge_index_moves_both_listeners() {
    let mut env = env();
    env.vars
        .insert(Environment::EDGE_INDEX_VAR.into(), "2".into());
    let c = Config::parse(VALID, Path::new("."), &env).unwrap();
    assert_eq!(c.edge.listen.port(), 8082);
    assert_eq!(c.edge.admin_listen.port(), 9182);
    env.vars
        .insert(Environment::EDGE_INDEX_VAR.into(), "60000".into());
    assert!(Config::parse(VALID, Path::new("."), &env).is_err());
}

#[test]
fn a_cluster_plan_without_the_replicas_its_acks_wait_for_is_refused() {
    let text = format!("{VALID}\n[up]\nredis_cluster = {{ replicas = 0 }}\n");
    let problems = match parse(&text) {
        Err(super::super::ConfigError::Invalid(problems)) => problems,
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].field, "up.redis_cluster.replicas");
    assert!(
        problems[0].message.contains("min_replica_acks"),
        "{problems:?}"
    );
    let acks_off = text.replace(ONE_NODE, &format!("{ONE_NODE}\nmin_replica_acks = 0"));
    assert_eq!(parse(&acks_off).unwrap().up.redis_cluster.replicas, 0);
}

#[test]
fn up_on_its_cluster_refuses_more_acks_than_its_replicas() {
    let text = with(ONE_NODE, &format!("{ONE_NODE}\nmin_replica_acks = 2"));
    // A one-server config never runs on the plan, so its default plan is not held against it.
    assert!(parse(&text).is_ok());
    let mut env = env();
    env.vars.insert(
        Environment::REDIS_CLUSTER_VAR.into(),
        "redis://127.0.0.1:7000".into(),
    );
    match Config::parse(&text, Path::new("."), &env) {
        Err(super::super::ConfigError::Invalid(problems)) => {
            let fields: Vec<&str> = problems.iter().map(|p| p.field.as_str()).collect();
            assert_eq!(fields, ["up.redis_cluster.replicas"]);
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn urls_with_passwords_may_come_from_the_environment_and_never_print() {
    let mut env = env();
    env.vars.insert(
        "REDIS_URL".into(),
        "redis://:redis-pw-5ecret@127.0.0.1:6390".into(),
    );
    env.vars.insert(
        "DATABASE_URL".into(),
        "postgres://flashgate:db-pw-5ecret@db/orders".into(),
    );
    let text = with(ONE_NODE, "url = \"env:REDIS_URL\"").replace(
        "database_url = \"sqlite://orders.db\"",
        "database_url = \"env:DATABASE_URL\"",
    );
    let c = Config::parse(&text, Path::new("."), &env).unwrap();
    let RedisTarget::Node(url) = &c.redis.target else {
        panic!("one server")
    };
    assert_eq!(url.expose(), "redis://:redis-pw-5ecret@127.0.0.1:6390");
    let shown = format!("{c:?} {}", c.redis.target);
    assert!(!shown.contains("5ecret"), "{shown}");
    assert!(c.origin.database_url.connect_url().contains("db-pw-5ecret"));

    let missing = with(ONE_NODE, "url = \"env:NOPE\"");
    assert_eq!(refused(&missing), ["redis.url"]);
    let junk = with(ONE_NODE, "url = \"pw-5ecret@host\"");
    match parse(&junk) {
        Err(super::super::ConfigError::Invalid(problems)) => {
            assert!(!format!("{problems:?}").contains("5ecret"), "{problems:?}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn the_redis_program_is_a_name_on_path_or_a_path_from_the_files_folder() {
    let program = |value: &str| {
        let text = format!("{VALID}\n[up]\nredis_server = \"{value}\"\n");
        parse(&text).unwrap().up.redis_server
    };
    assert_eq!(program("redis-server"), "redis-server");
    // The tests' file sits in ".".
    assert_eq!(program("bin/redis-server"), "./bin/redis-server");
    assert_eq!(program("/usr/bin/redis-server"), "/usr/bin/redis-server");
}
