//! The rush simulator as operators run it, against the real stack (over HTTP/2 and https): it
//! finishes, its invariants hold, its report files exist and parse (also for a seated sale); and
//! its checker does fail when the ledger is broken.
//!
//! Just over 400 lines: each of the rush's modes (plain, paying, presale, seated) is one test
//! of the same command, sharing its runner.

use std::process::Command;

use crate::harness::{Stack, StackOptions, https};

/// Runs `flashgate rush` against `edge` of `stack` with `args`, its report in the stack's
/// scratch folder `name`; fails the test if the rush fails. Returns what it said and its summary.
async fn rush(stack: &Stack, name: &str, edge: &str, args: &[&str]) -> (String, serde_json::Value) {
    let out = stack.scratch(name);
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
        .arg("rush")
        .args(args)
        .arg("--config")
        .arg(stack.config_path())
        .args(["--edge", edge])
        .arg("--out")
        .arg(&out)
        .output()
        .await
        .expect("rush runs");
    let said = format!(
        "{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "rush failed:\n{said}");
    let summary =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    (said, summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_rush_keeps_every_invariant_and_writes_its_report() {
    let stack = Stack::start(StackOptions {
        stock: 1_000,
        ..https()
    })
    .await;
    let out = stack.scratch("rush-report");
    let config = stack.config_path().to_owned();
    // Over HTTP/2 on the https listener, trusting the test CA (`up_failover` rushes over HTTP/1.1
    // with the development CA; the benchmarks rush over plain HTTP and over https).
    let target = stack.https_url("");
    let ca = stack.path("tls/ca.pem");
    std::fs::write(&ca, stack.ca().cert_pem()).unwrap();
    let run = tokio::task::spawn_blocking({
        let out = out.clone();
        move || {
            Command::new(env!("CARGO_BIN_EXE_flashgate"))
                .args([
                    "rush",
                    "--users",
                    "20000",
                    "--concurrency",
                    "64",
                    "--ledger-wait",
                    "60",
                ])
                .arg("--config")
                .arg(&config)
                .arg("--edge")
                .arg(&target)
                .arg("--ca")
                .arg(&ca)
                .arg("--http2")
                .arg("--out")
                .arg(&out)
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        run.status.success(),
        "rush failed:\n{}\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["users"], 20_000);
    assert_eq!(summary["stock"], 1_000);
    assert!(
        summary["orders"].as_u64().unwrap() >= 1_000,
        "every seat sold at least once: {}",
        summary["orders"]
    );
    let invariants = summary["invariants"].as_array().unwrap();
    assert_eq!(invariants.len(), 4);
    assert!(invariants.iter().all(|c| c["ok"] == true), "{invariants:?}");
    assert!(summary["latency"]["buy"]["p99_ms"].as_f64().unwrap() > 0.0);
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(report.contains("## Invariants") && report.contains("✔ **reconcile clean**"));
    for chart in ["throughput.svg", "latency.svg", "seats.svg"] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.contains("<polyline"),
            "{chart} has no line"
        );
    }
    assert_eq!(stack.remaining().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rush_paying_through_the_provider_keeps_the_payment_invariants() {
    let stack = Stack::start(StackOptions {
        stock: 200,
        reservation_ttl: "4s",
        webhook_payments: true,
        ..StackOptions::default()
    })
    .await;
    let target = stack.url("");
    let (said, summary) = rush(
        &stack,
        "rush-payments",
        &target,
        &[
            "--users",
            "2000",
            "--concurrency",
            "48",
            "--pay-share",
            "0.9",
            "--pay-fail",
            "0.2",
            "--pay-repeat",
            "0.5",
            "--pay-late",
            "0.2",
            "--ledger-wait",
            "60",
        ],
    )
    .await;
    let invariants = summary["invariants"].as_array().unwrap();
    assert_eq!(invariants.len(), 6, "{invariants:?}");
    assert!(invariants.iter().all(|c| c["ok"] == true), "{invariants:?}");
    assert!(
        summary["outcomes"]["confirm"]["200"].as_u64().unwrap_or(0) > 0,
        "confirmations were sent: {}",
        summary["outcomes"]
    );
    assert!(
        stack.seat_counter("refund_due").await > 0,
        "some confirmations came after expiry: {said}"
    );
    assert!(stack.seat_counter("paid").await > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rush_through_a_coded_presale_then_the_general_sale_keeps_every_type_and_code() {
    let stack = Stack::start(StackOptions {
        ends: "+2h",
        per_user_limit: 2,
        edge_options: r#"trusted_proxies = ["127.0.0.1"]"#,
        catalog: r#"
[[events.ticket_types]]
id = "standing"
name = "Standing"
price_cents = 4900
stock = 300

[[events.ticket_types]]
id = "vip"
name = "VIP package"
price_cents = 19900
stock = 60

[[events.phases]]
id = "fanclub"
starts_at = "+0s"
ends_at = "+4s"
ticket_types = ["vip"]
channel = "fans"

[[events.phases]]
id = "general"
starts_at = "+4s"
ends_at = "+2h"
"#
        .to_owned(),
        ..StackOptions::default()
    })
    .await;
    let target = stack.url("");
    let (_, summary) = rush(
        &stack,
        "rush-presale",
        &target,
        &[
            "--users",
            "4000",
            "--concurrency",
            "48",
            "--guess-share",
            "0.2",
            "--shared-codes",
            "20",
            "--shared-uses",
            "2",
            "--ledger-wait",
            "60",
        ],
    )
    .await;
    let invariants = summary["invariants"].as_array().unwrap();
    assert!(invariants.iter().all(|c| c["ok"] == true), "{invariants:?}");
    let names: Vec<&str> = invariants
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    for expected in [
        "each ticket type's stock = remaining + reserved + paid",
        "no shared access code used more often than allowed",
        "every guessed access code was refused",
    ] {
        assert!(names.contains(&expected), "{names:?}");
    }
    let shared = invariants
        .iter()
        .find(|c| c["name"] == "no shared access code used more often than allowed")
        .expect("the shared codes were checked");
    let detail = shared["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("20 shared codes") && !detail.contains(", 0 used"),
        "some buyers used the shared codes: {detail}"
    );
    assert!(
        summary["outcomes"]["buy_guessing"]["bad_code"]
            .as_u64()
            .unwrap_or(0)
            > 0,
        "some buyers guessed in the presale: {}",
        summary["outcomes"]
    );
    assert_eq!(
        stack.seat_counter("t:vip:remaining").await,
        0,
        "every VIP package sold"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seated_rush_sells_the_hall_seat_by_seat() {
    let stack = Stack::start(crate::seats::seated("10m")).await;
    let target = stack.url("");
    let (said, summary) = rush(
        &stack,
        "rush-seated",
        &target,
        &[
            "--seated",
            "--users",
            "1500",
            "--concurrency",
            "48",
            "--ledger-wait",
            "60",
        ],
    )
    .await;
    let invariants = summary["invariants"].as_array().unwrap();
    assert!(invariants.iter().all(|c| c["ok"] == true), "{invariants:?}");
    assert!(
        invariants
            .iter()
            .any(|c| c["name"] == "the seat map shows exactly the seats sold"),
        "{invariants:?}"
    );
    let seats = &summary["seating"];
    assert_eq!(seats["seats"], 120);
    let picks = seats["picks"].as_object().expect("picks by outcome");
    assert!(
        picks
            .get("seat_taken")
            .and_then(|n| n.as_u64())
            .unwrap_or(0)
            > 0,
        "the front row was fought over: {picks:?}"
    );
    assert!(
        summary["outcomes"]["buy"]["201"].as_u64().unwrap_or(0) > 0,
        "best-available groups sold: {}",
        summary["outcomes"]
    );
    assert!(said.contains("free seats left stranded"), "{said}");
    // The report says how much of the machine the load generator itself took.
    let share = summary["generator_cpu_share"].as_f64().expect("a share");
    assert!(share > 0.0 && share <= 1.0, "{share}");
    assert!(said.contains("The load generator itself used"), "{said}");
    let report = stack.reconcile().await;
    assert!(report.is_clean(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invariant_checker_fails_on_a_broken_ledger() {
    let stack = Stack::start(StackOptions::default()).await;
    let client = reqwest::Client::new();
    let mut accepted = Vec::new();
    for i in 0..5 {
        let (status, body) =
            crate::harness::token_and_buy(&client, &stack, &format!("buyer-{i}")).await;
        assert_eq!(status, 201);
        accepted.push(body["order_id"].as_str().unwrap().to_owned());
    }
    stack.orders_reaching(5).await;
    let event = stack.config.event("demo").unwrap().clone();
    let check = |accepted: Vec<String>| {
        let (config, event) = (stack.config.clone(), event.clone());
        async move {
            flashgate::rush::invariants::check(
                &config,
                &event,
                &accepted,
                &[],
                std::time::Duration::from_secs(30),
            )
            .await
            .unwrap()
            .0
        }
    };
    assert!(
        check(accepted.clone()).await.iter().all(|c| c.ok),
        "a sound ledger passes"
    );
    let failed = |checks: Vec<flashgate::rush::invariants::Check>| -> Vec<&'static str> {
        checks.iter().filter(|c| !c.ok).map(|c| c.name).collect()
    };

    // A seat counter moved behind the script's back.
    let seats = sale::redis_keys::EventKeys::new(&event.id).seats;
    let redis = stack.redis().await;
    let moved = |by: i64| {
        let (mut redis, seats) = (redis.clone(), seats.clone());
        async move {
            let _: i64 = redis::AsyncCommands::hincr(&mut redis, &seats, "reserved", by)
                .await
                .unwrap();
        }
    };
    moved(1).await;
    assert_eq!(
        failed(check(accepted.clone()).await),
        ["sold never exceeds stock", "reconcile clean"]
    );
    moved(-1).await;

    // Redis holding more seats than the stock in force, the counters adding up among
    // themselves: the stock is the file's, never what Redis says of itself.
    let grown = |by: i64| {
        let (mut redis, seats) = (redis.clone(), seats.clone());
        async move {
            let _: () = redis::pipe()
                .hincr(&seats, "total", by)
                .hincr(&seats, "remaining", by)
                .query_async(&mut redis)
                .await
                .unwrap();
        }
    };
    grown(5).await;
    assert_eq!(failed(check(accepted.clone()).await), ["reconcile clean"]);
    grown(-5).await;

    // One buyer with a second live order, written straight into the database.
    let url = stack.config.origin.database_url.connect_url();
    sqlx::any::install_default_drivers();
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let forged = "demo.0000000000000000000000000000f0f0";
    sqlx::query(
        "INSERT INTO orders (order_id, event_id, user_id, quantity, status, pay_by_ms, version, \
         created_ms, updated_ms) VALUES ($1, 'demo', 'buyer-1', 1, 'reserved', 0, 1, 0, 0)",
    )
    .bind(forged)
    .execute(&mut db)
    .await
    .unwrap();
    assert_eq!(
        failed(check(accepted.clone()).await),
        [
            "no user holds more than the per-user limit",
            "reconcile clean"
        ]
    );
    sqlx::query("DELETE FROM orders WHERE order_id = $1")
        .bind(forged)
        .execute(&mut db)
        .await
        .unwrap();
    assert!(failed(check(accepted.clone()).await).is_empty(), "restored");

    // Delete one accepted order's row behind the ledger's back.
    sqlx::query("DELETE FROM orders WHERE order_id = $1")
        .bind(&accepted[0])
        .execute(&mut db)
        .await
        .unwrap();

    let checks = check(accepted.clone()).await;
    let failed: Vec<&str> = checks.iter().filter(|c| !c.ok).map(|c| c.name).collect();
    assert_eq!(
        failed,
        ["every 201 has exactly one order row", "reconcile clean"],
        "{checks:?}"
    );
    let broken = checks.iter().find(|c| c.name == "reconcile clean").unwrap();
    assert!(
        broken.detail.contains(&accepted[0]),
        "the report names the missing order: {}",
        broken.detail
    );
}
