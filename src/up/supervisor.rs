//! Keeping `up`'s stack running: its children stopped in dependency order when it ends, a Redis
//! process that dies started again on its data (a cluster node rejoins as a replica of the node
//! that took over), an edge or origin that dies stopping the stack, and SIGHUP forwarded as a
//! reload to the origins first, then the edges.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use sale::config::OriginNode;
use tokio::time::Instant;

use crate::stack::{Component, RedisCluster, RedisServer, origin_health, ready};

/// How long `up` waits before it tries again to start a Redis process that would not start.
const REVIVE_BACKOFF: Duration = Duration::from_secs(2);

/// How long `up` waits for every origin to put a reloaded file in force before it reloads the
/// edge.
const RELOAD_TIMEOUT: Duration = Duration::from_secs(10);

/// The stack's Redis: one server or a cluster.
pub(super) enum StackRedis {
    Node(RedisServer),
    Cluster(RedisCluster),
}

impl StackRedis {
    fn servers(&mut self) -> Vec<&mut RedisServer> {
        match self {
            Self::Node(server) => vec![server],
            Self::Cluster(cluster) => cluster.nodes.iter_mut().collect(),
        }
    }

    /// Starts every Redis process that has died again, on its data (a cluster node rejoins the
    /// cluster, as a replica once its replica has taken over). One that cannot be started yet
    /// (its AOF still loading past the start timeout, its port held) is tried again after
    /// [`REVIVE_BACKOFF`], never stopping the stack: the rest of the cluster goes on meanwhile.
    fn revive(&mut self, not_before: &mut HashMap<SocketAddr, Instant>) {
        let now = Instant::now();
        for server in self.servers() {
            let addr = server.addr;
            let died = match server.process_mut() {
                Some(process) => process.exited().map(|status| status.to_string()),
                None => Some("not running".to_owned()),
            };
            let Some(died) = died else { continue };
            if not_before.get(&addr).is_some_and(|at| now < *at) {
                continue;
            }
            eprintln!("redis {addr} exited ({died}); starting it again on its data");
            match server.restart() {
                Ok(()) => {
                    not_before.remove(&addr);
                    eprintln!("redis {addr} is back");
                }
                Err(e) => {
                    not_before.insert(addr, now + REVIVE_BACKOFF);
                    eprintln!(
                        "redis {addr} cannot be started again yet ({e}); trying again in {}s",
                        REVIVE_BACKOFF.as_secs()
                    );
                }
            }
        }
    }
}

/// The running stack, stopped in dependency order when dropped.
pub(super) struct Stack {
    /// What `up` leaves for the tools run beside it (the cluster's seeds, the rehearsal's
    /// stock), removed when it stops.
    pub(super) left_for_tools: Vec<PathBuf>,
    pub(super) edges: Vec<Component>,
    pub(super) origins: Vec<Component>,
    pub(super) redis: Option<StackRedis>,
}

impl Drop for Stack {
    fn drop(&mut self) {
        for mut edge in self.edges.drain(..) {
            edge.stop();
        }
        for file in &self.left_for_tools {
            let _ = std::fs::remove_file(file);
        }
        for mut origin in self.origins.drain(..) {
            origin.stop();
        }
        self.redis.take();
    }
}

impl Stack {
    /// The first edge or origin that has exited, with its status.
    fn crashed(&mut self) -> Option<String> {
        let children = self.edges.iter_mut().chain(self.origins.iter_mut());
        for child in children {
            if let Some(status) = child.exited() {
                return Some(format!("{} exited ({status})", child.name));
            }
        }
        None
    }

    /// Forwards a reload to every component: the origins one at a time, each once the one
    /// before has put the new file in force, and the edges only after every origin, so an event
    /// or key an edge starts using is already known behind it. At the first origin that refuses
    /// the file (its log says why) the reload stops: the rest keep the running file.
    fn reload(&self, origins: &[OriginNode]) {
        println!("reloading the config: origins one at a time, then the edges");
        for (child, origin) in self.origins.iter().zip(origins) {
            let before = origin_health::config_version(origin);
            if let Err(e) = child.signal(nix::sys::signal::Signal::SIGHUP) {
                eprintln!("cannot signal {}: {e}", child.name);
                return;
            }
            let what = format!("origin {}'s reload", origin.listen);
            let landed = ready::wait_until(&what, RELOAD_TIMEOUT, || {
                origin_health::config_version(origin) > before
            });
            if let Err(e) = landed {
                eprintln!(
                    "{e}: it refused the file or is down (see its log); the origins after it \
                     and the edges keep their config"
                );
                return;
            }
        }
        for edge in &self.edges {
            if let Err(e) = edge.signal(nix::sys::signal::Signal::SIGHUP) {
                eprintln!("cannot signal {}: {e}", edge.name);
            }
        }
    }
}

/// Watches the stack until Ctrl-C or SIGTERM (Ok) or an edge or origin exits (an error).
pub(super) fn supervise(stack: &mut Stack, origins: &[OriginNode]) -> Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the signal handler")?;
    runtime.block_on(async {
        let mut not_before = HashMap::new();
        use tokio::signal::unix::{SignalKind, signal};
        let stop = crate::signals::stop_requested();
        tokio::pin!(stop);
        let mut hup = signal(SignalKind::hangup()).context("cannot watch SIGHUP")?;
        let mut tick = tokio::time::interval(Duration::from_millis(200));
        loop {
            tokio::select! {
                () = &mut stop => break,
                _ = hup.recv() => stack.reload(origins),
                _ = tick.tick() => {
                    if let Some(redis) = stack.redis.as_mut() {
                        redis.revive(&mut not_before);
                    }
                    if let Some(crash) = stack.crashed() {
                        bail!("{crash}; stopping the stack (logs are in var/log)");
                    }
                }
            }
        }
        println!("stopping: edges, origins, redis");
        Ok(())
    })
}
