//! `flashgate up --redis-cluster` as an operator runs it (the real command, not the test harness)
//! survives the death of the primary that holds the sale, in the middle of a rush: the node is
//! started again and rejoins as a replica, the stack goes on, every buyer ends with an order or a
//! clean refusal, and reconcile is clean. The buyers come over https, trusting the development CA
//! `up` made for the stack on its first start.

use std::process::Command;
use std::time::Duration;

use flashgate::stack::{Component, ready};
use sale::config::RedisTarget;
use sale::redis_link::{LinkOptions, RedisLink};
use sale::secret_url::SecretUrl;

use crate::harness::{StackOptions, config_text};
use crate::harness::{eventually, free_addr, free_cluster_ports};

fn flashgate(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flashgate"));
    command.args(args).current_dir(dir).env("RUST_LOG", "warn");
    command
}

/// The process id of the cluster primary that holds `key` now.
async fn owner_pid(seeds: &[String], key: &str) -> u32 {
    let target = RedisTarget::Cluster(seeds.iter().map(|s| SecretUrl::new(s.as_str())).collect());
    let options = LinkOptions {
        response_timeout: Some(Duration::from_secs(2)),
        connection_timeout: Duration::from_secs(1),
        retries: 2,
        read_from_replicas: false,
    };
    let mut link = RedisLink::open(&target, options).await.unwrap();
    let slot = link.slot_of(key).await.unwrap();
    let owner = link
        .nodes()
        .await
        .unwrap()
        .into_iter()
        .find(|n| n.role == "primary" && n.serves(slot))
        .expect("the slot has a primary");
    let mut node = redis::Client::open(format!("redis://{}", owner.address))
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let info: String = redis::cmd("INFO")
        .arg("server")
        .query_async(&mut node)
        .await
        .unwrap();
    info.lines()
        .find_map(|l| l.trim().strip_prefix("process_id:"))
        .and_then(|pid| pid.parse().ok())
        .expect("INFO names the process")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_on_a_redis_cluster_survives_the_owning_primary_killed_mid_rush() {
    let dir = tempfile::tempdir().unwrap();
    let first_port = free_cluster_ports(6);
    let (edge, admin, tls) = (free_addr(), free_addr(), free_addr());
    let origins = [(free_addr(), 1), (free_addr(), 1)];
    let options = StackOptions {
        stock: 1_500,
        // The test watches the sale over plain HTTP while the buyers come over https.
        tls_options: "plain = \"serve\"",
        ..StackOptions::default()
    };
    let text = config_text(
        "url = \"redis://127.0.0.1:1\"",
        edge,
        admin,
        "sqlite://orders.db",
        &origins,
        Some(tls),
        &options,
    );
    // `[up]` is the file's last table: the cluster plan joins it.
    let text = text.replacen(
        "[up]\nvar_dir = \"var\"\n",
        &format!(
            "[up]\nvar_dir = \"var\"\nredis_cluster = {{ primaries = 3, replicas = 1, first_port = {first_port} }}\n"
        ),
        1,
    );
    assert!(
        text.contains("redis_cluster = {"),
        "the plan is in the file"
    );
    let config = dir.path().join("flashgate.toml");
    std::fs::write(&config, text).unwrap();
    let config_arg = config.to_str().unwrap().to_owned();

    let up_log = dir.path().join("up.log");
    let mut up = Component::spawn(
        "flashgate up",
        flashgate(
            dir.path(),
            &["up", "--config", &config_arg, "--redis-cluster", "--fresh"],
        ),
        &up_log,
    )
    .unwrap();
    let started = tokio::task::block_in_place(|| {
        ready::wait_until("the stack on its cluster", Duration::from_secs(120), || {
            up.exited().is_none()
                && ready::http_body(admin, "/admin/status", crate::harness::ADMIN_TOKEN)
                    .is_some_and(|body| body.contains("\"stale\":false"))
        })
    });
    if let Err(e) = started {
        panic!(
            "{e}; up's log:\n{}",
            std::fs::read_to_string(&up_log).unwrap_or_default()
        );
    }
    let seeds: Vec<String> = (first_port..first_port + 6)
        .map(|port| format!("redis://127.0.0.1:{port}"))
        .collect();

    let out = dir.path().join("rush-report");
    let rush = tokio::task::spawn_blocking({
        let (dir, config_arg, out) = (dir.path().to_owned(), config_arg.clone(), out.clone());
        move || {
            flashgate(
                &dir,
                &[
                    "rush",
                    "--users",
                    "3000",
                    "--concurrency",
                    "32",
                    "--ledger-wait",
                    "90",
                ],
            )
            // Over https, trusting the development CA `up` made for this stack.
            .args(["--config", &config_arg, "--edge", &format!("https://{tls}")])
            .arg("--ca")
            .arg(dir.join("var/tls/ca.pem"))
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
        }
    });
    // A fifth of the seats gone, the primary holding the sale dies without warning.
    let client = reqwest::Client::new();
    eventually(
        "a fifth of the seats sold",
        Duration::from_secs(120),
        || async {
            let doc: serde_json::Value = match client
                .get(format!("http://{edge}/api/events/demo"))
                .send()
                .await
            {
                Ok(response) => response.json().await.unwrap_or_default(),
                Err(_) => return false,
            };
            doc["remaining"].as_u64().is_some_and(|r| r <= 1_200)
        },
    )
    .await;
    let pid = owner_pid(&seeds, "{ev:demo}").await;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap()),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();

    let run = rush.await.unwrap();
    let report = format!(
        "{}\n{}\nup's log:\n{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        std::fs::read_to_string(&up_log).unwrap_or_default()
    );
    assert!(
        run.status.success(),
        "the rush's invariants broke:\n{report}"
    );
    assert!(
        up.exited().is_none(),
        "up kept the stack running:\n{report}"
    );
    let log = std::fs::read_to_string(&up_log).unwrap();
    assert!(
        log.contains("starting it again") && log.contains("is back"),
        "up restarted the node:\n{log}"
    );

    // Every buyer ended with an order or a clean refusal: a contract code, never a dropped
    // connection or an internal error.
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let known: Vec<&str> = sale::Refusal::ALL.iter().map(|r| r.code()).collect();
    for (step, codes) in summary["outcomes"].as_object().unwrap() {
        for outcome in codes.as_object().unwrap().keys() {
            // Settling steps are named `pay:CODE` / `cancel:CODE`.
            let code = outcome.rsplit(':').next().unwrap_or(outcome);
            let clean = code.starts_with('2') || (known.contains(&code) && code != "internal");
            assert!(
                clean,
                "{step} ended with {outcome}: {}",
                summary["outcomes"]
            );
        }
    }
    assert!(summary["orders"].as_u64().unwrap() > 0);
    let reconcile = tokio::task::spawn_blocking({
        let (dir, config_arg) = (dir.path().to_owned(), config_arg.clone());
        move || {
            flashgate(
                &dir,
                &["reconcile", "--config", &config_arg, "--event", "demo"],
            )
            .output()
            .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(
        reconcile.status.success(),
        "reconcile:\n{}{}",
        String::from_utf8_lossy(&reconcile.stdout),
        String::from_utf8_lossy(&reconcile.stderr)
    );
    up.stop();
}
