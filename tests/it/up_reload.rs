//! `kill -HUP <up pid>` reloads every component `flashgate up` runs (the real command, not the
//! harness): the origins first, then the edge once each origin has put the new file in force,
//! including origins that speak only TLS (`up` asks them over TLS, verified against their CA).
//! The tools run beside it see the rehearsal's stock (`up --stock`).

use std::process::Command;
use std::time::Duration;

use flashgate::stack::{Component, origin_health, ready};
use nix::sys::signal::Signal;

use crate::harness::{ADMIN_TOKEN, StackOptions, config_text, eventually, free_addr};

/// The event's name as the edge at `edge` serves its document.
async fn event_name(edge: std::net::SocketAddr) -> Option<String> {
    let document: serde_json::Value = reqwest::get(format!("http://{edge}/api/events/demo"))
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    document["name"].as_str().map(str::to_owned)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hup_to_up_reloads_its_tls_origins_and_then_its_edge() {
    let dir = tempfile::tempdir().unwrap();
    let (redis, edge, admin) = (free_addr(), free_addr(), free_addr());
    let origins = [(free_addr(), 1), (free_addr(), 1)];
    crate::harness::issue_certificates(dir.path(), &[], true);
    let options = StackOptions {
        origin_tls: true,
        ..StackOptions::default()
    };
    let text = config_text(
        &format!("url = \"redis://{redis}\""),
        edge,
        admin,
        "sqlite://orders.db",
        &origins,
        None,
        &options,
    );
    let config_path = dir.path().join("flashgate.toml");
    std::fs::write(&config_path, &text).unwrap();

    let up_log = dir.path().join("up.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_flashgate"));
    command
        .args(["up", "--config", config_path.to_str().unwrap()])
        .args(["--fresh", "--stock", "40"])
        .current_dir(dir.path())
        .env("RUST_LOG", "warn");
    let mut up = Component::spawn("flashgate up", command, &up_log).unwrap();
    let started = tokio::task::block_in_place(|| {
        ready::wait_until("the stack", Duration::from_secs(60), || {
            up.exited().is_none()
                && ready::http_body(admin, "/admin/status", ADMIN_TOKEN)
                    .is_some_and(|body| body.contains("\"stale\":false"))
        })
    });
    let log = || std::fs::read_to_string(&up_log).unwrap_or_default();
    if let Err(e) = started {
        panic!("{e}; up's log:\n{}", log());
    }
    assert_eq!(event_name(edge).await.as_deref(), Some("Test event"));
    // The tools run beside `up` (rush, reconcile) see the stack's rehearsal stock, not the
    // file's; any start will do here for the file's relative times.
    let mut env = flashgate::stack::running::environment(&config_path);
    env.epoch = Some(sale::time::now_millis());
    let config = sale::Config::load(&config_path, &env).unwrap();
    assert_eq!(config.event("demo").map(|e| e.stock), Some(40));
    for origin in &config.origins {
        assert_eq!(
            origin_health::config_version(origin),
            Some(1),
            "origin {} answers over verified TLS",
            origin.listen
        );
    }

    std::fs::write(
        &config_path,
        text.replacen("name = \"Test event\"", "name = \"Renamed event\"", 1),
    )
    .unwrap();
    up.signal(Signal::SIGHUP).unwrap();
    eventually(
        "the edge serving the reloaded file",
        Duration::from_secs(30),
        || async { event_name(edge).await.as_deref() == Some("Renamed event") },
    )
    .await;
    for origin in &config.origins {
        assert_eq!(
            origin_health::config_version(origin),
            Some(2),
            "origin {} reloaded before the edge; up's log:\n{}",
            origin.listen,
            log()
        );
    }
    assert!(up.exited().is_none(), "up still runs; its log:\n{}", log());
}
