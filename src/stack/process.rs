//! A child process of the stack, stopped politely (SIGTERM, then SIGKILL after a grace period)
//! when dropped, so no test failure or Ctrl-C leaves a server behind.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// How long a component gets to stop after SIGTERM before it is killed.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running child with a human name for messages.
#[derive(Debug)]
pub struct Component {
    /// E.g. `origin 127.0.0.1:8181`.
    pub name: String,
    child: Child,
}

impl Component {
    /// Starts `command`, sending its output to `log` (appended).
    pub fn spawn(
        name: impl Into<String>,
        mut command: Command,
        log: &Path,
    ) -> std::io::Result<Self> {
        let name = name.into();
        if let Some(dir) = log.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)?;
        let child = command
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .map_err(|e| std::io::Error::new(e.kind(), format!("cannot start {name}: {e}")))?;
        Ok(Self { name, child })
    }

    /// The OS process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, if it has exited.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// Sends a signal (e.g. SIGHUP to reload the edge).
    pub fn signal(&self, signal: Signal) -> nix::Result<()> {
        kill(
            Pid::from_raw(i32::try_from(self.pid()).unwrap_or(i32::MAX)),
            signal,
        )
    }

    /// SIGTERM, then SIGKILL if it has not exited within the grace period. Returns its status.
    pub fn stop(&mut self) -> Option<ExitStatus> {
        if let Some(status) = self.exited() {
            return Some(status);
        }
        let _ = self.signal(Signal::SIGTERM);
        let mut status = None;
        let name = self.name.clone();
        let exited = super::ready::wait_until(&name, STOP_GRACE, || {
            status = self.exited();
            status.is_some()
        });
        if exited.is_ok() {
            return status;
        }
        let _ = self.child.kill();
        self.child.wait().ok()
    }

    /// SIGKILL at once: a crash, as far as the rest of the stack can tell.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Component {
    fn drop(&mut self) {
        self.stop();
    }
}
