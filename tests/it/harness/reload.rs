//! Changing a running stack's config and reloading its components the way operators do.

use std::net::SocketAddr;
use std::time::Duration;

use super::{Stack, StackOptions, config_text, eventually};

impl Stack {
    /// Rewrites the config file with `change` applied to the stack's options (same ports,
    /// Redis and database), for reload tests; a valid file also becomes the stack's `config`
    /// (what its checks, such as reconcile, compare against).
    pub fn rewrite_config(&mut self, change: impl FnOnce(&mut StackOptions)) {
        change(&mut self.options);
        let weights = self.options.weights.iter().copied();
        let origins: Vec<(SocketAddr, u32)> =
            self.origin_addrs.iter().copied().zip(weights).collect();
        let redis = self.redis.lock().expect("redis handle").config_line();
        let text = config_text(
            &redis,
            self.edge_addr,
            self.admin_addr,
            &self.database_url,
            &origins,
            self.tls_addr,
            &self.options,
        );
        std::fs::write(&self.config_path, text).expect("config written");
        let env = sale::config::Environment {
            epoch: Some(self.epoch),
            ..sale::config::Environment::default()
        };
        if let Ok(config) = sale::Config::load(&self.config_path, &env) {
            self.config = config;
        }
    }

    /// Runs `flashgate check-config` on the stack's file: whether it passed, and all it said.
    pub fn check_config(&self) -> (bool, String) {
        let check = std::process::Command::new(env!("CARGO_BIN_EXE_flashgate"))
            .arg("check-config")
            .arg(&self.config_path)
            .output()
            .expect("check-config runs");
        let said = String::from_utf8_lossy(&check.stdout).to_string()
            + &String::from_utf8_lossy(&check.stderr);
        (check.status.success(), said)
    }

    /// Writes `text` as the config file, valid or not.
    pub fn write_config_text(&self, text: &str) {
        std::fs::write(&self.config_path, text).expect("config written");
    }

    /// Sends SIGHUP to the edge.
    pub fn hangup_edge(&self) {
        self.edge
            .as_ref()
            .expect("edge running")
            .signal(nix::sys::signal::Signal::SIGHUP)
            .expect("signal delivered");
    }

    /// The config version origin `i` reports on `/healthz` (1 until it reloads).
    pub fn origin_config_version(&self, i: usize) -> Option<u64> {
        flashgate::stack::origin_health::config_version(&self.config.origins[i])
    }

    /// Reloads every component the way `flashgate up` does on SIGHUP: each origin, waiting
    /// until it reports the new file in force, then the edge, waiting for its new version.
    pub async fn reload_everything(&self) {
        for (i, origin) in self.origins.iter().enumerate() {
            let Some(origin) = origin else { continue };
            let before = self.origin_config_version(i);
            origin
                .signal(nix::sys::signal::Signal::SIGHUP)
                .expect("signal delivered");
            eventually(
                &format!("origin {i} reloading"),
                Duration::from_secs(10),
                || async { self.origin_config_version(i) > before },
            )
            .await;
        }
        let (_, status) = self.admin(reqwest::Method::GET, "/admin/status").await;
        let version = status["config_version"].as_u64().expect("a config version");
        self.hangup_edge();
        self.wait_for_config_version(version + 1).await;
    }

    /// Sends SIGHUP to origin `i`.
    /// Sends SIGHUP to origin `i`, which must refuse the file in force, and waits until its log
    /// says so, naming `field`.
    pub async fn origin_refuses_reload(&self, i: usize, field: &str) {
        self.hangup_origin(i);
        eventually(
            &format!("origin {i} refusing the file for {field}"),
            Duration::from_secs(10),
            || async {
                let log = self.origin_log(i);
                log.contains("reload refused") && log.contains(field)
            },
        )
        .await;
    }

    /// Sends SIGHUP to origin `i`.
    pub fn hangup_origin(&self, i: usize) {
        self.signal_origin(i, nix::sys::signal::Signal::SIGHUP);
    }

    /// Sends `signal` to origin `i` (SIGSTOP freezes it with requests in flight; SIGKILL, a
    /// crash, then cuts them).
    pub fn signal_origin(&self, i: usize, signal: nix::sys::signal::Signal) {
        if signal != nix::sys::signal::Signal::SIGHUP {
            self.fault();
        }
        self.origins[i]
            .as_ref()
            .expect("origin running")
            .signal(signal)
            .expect("signal delivered");
    }
}
