//! A private `redis-server` for the stack: loopback only, its own data folder, no RDB snapshots,
//! and AOF with `appendfsync always`, so even a hard kill loses no reservation that was already
//! answered 201 (Redis batches the fsyncs of one event-loop pass, so the cost is per batch, not
//! per buy).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::process::Component;
use super::ready;

/// A running Redis owned by the stack.
#[derive(Debug)]
pub struct RedisServer {
    /// Where it listens.
    pub addr: SocketAddr,
    program: String,
    dir: PathBuf,
    /// Set for a member of a Redis Cluster: how long it may be unreachable before its replica
    /// takes over.
    cluster_node_timeout: Option<Duration>,
    process: Option<Component>,
}

/// Whether `program` can be run at all, for a clear message instead of a spawn error.
pub fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl RedisServer {
    /// Starts `program` on `addr` with data under `dir`, and waits until it answers.
    pub fn start(program: &str, addr: SocketAddr, dir: &Path) -> Result<Self, String> {
        Self::start_with(program, addr, dir, None)
    }

    /// Starts `program` as a Redis Cluster node (`--cluster-enabled yes`, its cluster state in
    /// `dir/nodes.conf`) that is declared failed after `node_timeout`.
    pub fn start_cluster_node(
        program: &str,
        addr: SocketAddr,
        dir: &Path,
        node_timeout: Duration,
    ) -> Result<Self, String> {
        Self::start_with(program, addr, dir, Some(node_timeout))
    }

    fn start_with(
        program: &str,
        addr: SocketAddr,
        dir: &Path,
        cluster_node_timeout: Option<Duration>,
    ) -> Result<Self, String> {
        if !installed(program) {
            return Err(format!(
                "{program} is not installed; run scripts/setup (or apt-get install redis-server)"
            ));
        }
        let mut server = Self {
            addr,
            program: program.to_owned(),
            dir: dir.to_owned(),
            cluster_node_timeout,
            process: None,
        };
        server.restart()?;
        Ok(server)
    }

    /// (Re)starts the server on the same address and data, waiting until it accepts connections.
    pub fn restart(&mut self) -> Result<(), String> {
        if let Some(mut old) = self.process.take() {
            old.stop();
        }
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
        let mut command = Command::new(&self.program);
        command
            .arg("--port")
            .arg(self.addr.port().to_string())
            .arg("--bind")
            .arg(self.addr.ip().to_string())
            .arg("--dir")
            .arg(&self.dir)
            .arg("--appendonly")
            .arg("yes")
            .arg("--appendfsync")
            .arg("always")
            .arg("--save")
            .arg("")
            .arg("--protected-mode")
            .arg("yes");
        if let Some(timeout) = self.cluster_node_timeout {
            command
                .args([
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                ])
                .arg("--cluster-node-timeout")
                .arg(timeout.as_millis().to_string())
                // The edges read their view from replicas (`redis.replica_reads`): a replica cut
                // off from its primary refuses those reads, and the edge reads the primary,
                // instead of serving counters that stopped moving.
                .args(["--replica-serve-stale-data", "no"]);
        }
        let log = self.dir.join("redis.log");
        let mut process = Component::spawn(format!("redis-server {}", self.addr), command, &log)
            .map_err(|e| e.to_string())?;
        let addr = self.addr;
        let waited = ready::wait_until(
            &format!("redis-server on {addr}"),
            Duration::from_secs(10),
            || process.exited().is_none() && ready::port_open(addr),
        );
        if let Some(status) = process.exited() {
            return Err(format!(
                "redis-server on {addr} exited at start ({status}); see {}",
                log.display()
            ));
        }
        waited?;
        self.process = Some(process);
        Ok(())
    }

    /// Kills the server without warning (it loses nothing acknowledged: AOF replays on restart).
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// The connection URL.
    pub fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    /// The underlying process, to watch for crashes.
    pub fn process_mut(&mut self) -> Option<&mut Component> {
        self.process.as_mut()
    }
}
