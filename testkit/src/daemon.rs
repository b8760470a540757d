//! A server the tests start (`victoria-metrics`, `vmagent`, `vmauth`,
//! `prometheus`): started with its log in a file, on a loopback address,
//! and ready once its readiness path (`/health` for the VictoriaMetrics
//! family) answers. What [`crate::victoria`], [`crate::vmagent`],
//! [`crate::vmauth`] and [`crate::prometheus`] share.

use std::fs::{File, OpenOptions};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::{free_port, loopback};
use crate::process::Process;
use crate::tools::Tool;

/// How long a start waits for `/health`.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a start is tried on a fresh port when the one picked was taken
/// in the meantime.
const START_ATTEMPTS: usize = 3;

/// How long [`Daemon::stop`] waits for a graceful exit before it kills.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);

/// A temporary directory named `<prefix>…` holding `file` with `contents`
/// (the config a daemon is started with); the directory and the file's
/// path.
///
/// # Errors
/// When the directory or the file cannot be made.
pub fn workdir(
    prefix: &str,
    file: &str,
    contents: &str,
) -> Result<(tempfile::TempDir, PathBuf), String> {
    let dir = tempfile::Builder::new()
        .prefix(prefix)
        .tempdir()
        .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
    let path = dir.path().join(file);
    std::fs::write(&path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok((dir, path))
}

/// A running server; dropping it kills the process.
#[derive(Debug)]
pub struct Daemon {
    process: Process,
    addr: SocketAddr,
    log: PathBuf,
    binary: &'static str,
    /// The path that answers 2xx once it is ready.
    ready: &'static str,
}

impl Daemon {
    /// Starts `tool` with `args(addr)` (which must make it listen on
    /// `addr`) on a free loopback port, its log appended to
    /// `<dir>/<binary>.log`, and waits until `/health` answers; a port taken
    /// in the meantime is retried on another.
    ///
    /// # Errors
    /// When the binary is missing (the message says how to install it),
    /// cannot be started, exits, or does not answer in time (the message
    /// quotes the end of its log).
    pub async fn start(
        tool: Tool,
        dir: &Path,
        args: impl Fn(SocketAddr) -> Vec<String>,
    ) -> Result<Daemon, String> {
        Self::start_ready(tool, dir, "/health", args).await
    }

    /// [`Daemon::start`] for a server whose readiness path is `ready`
    /// (Prometheus: `/-/ready`).
    ///
    /// # Errors
    /// As [`Daemon::start`].
    pub async fn start_ready(
        tool: Tool,
        dir: &Path,
        ready: &'static str,
        args: impl Fn(SocketAddr) -> Vec<String>,
    ) -> Result<Daemon, String> {
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let addr = loopback(free_port());
            match Self::launch(tool, dir, addr, ready, &args(addr)).await {
                Ok(daemon) => return Ok(daemon),
                // Another process took the port between picking and binding.
                Err(e) if e.contains("address already in use") => last_error = e,
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    /// Starts `tool` with `args`, listening on `addr` (a restart on the
    /// address it had), and waits until `/health` answers.
    ///
    /// # Errors
    /// As [`Daemon::start`].
    pub async fn start_on(
        tool: Tool,
        dir: &Path,
        addr: SocketAddr,
        args: &[String],
    ) -> Result<Daemon, String> {
        Self::launch(tool, dir, addr, "/health", args).await
    }

    async fn launch(
        tool: Tool,
        dir: &Path,
        addr: SocketAddr,
        ready: &'static str,
        args: &[String],
    ) -> Result<Daemon, String> {
        let binary = tool.path()?;
        let log = dir.join(format!("{}.log", tool.binary));
        // Appended: a restart keeps the earlier run's lines.
        let out: File = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("cannot open {}: {e}", log.display()))?;
        let err = out
            .try_clone()
            .map_err(|e| format!("cannot share the log: {e}"))?;
        let mut command = Command::new(&binary);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err);
        let mut daemon = Daemon {
            process: Process::start(command)?,
            addr,
            log,
            binary: tool.binary,
            ready,
        };
        daemon.wait_ready().await?;
        Ok(daemon)
    }

    async fn wait_ready(&mut self) -> Result<(), String> {
        let client = crate::http::client();
        let deadline = Instant::now() + START_TIMEOUT;
        let health = format!("{}{}", self.url(), self.ready);
        loop {
            if let Some(status) = self.process.wait_timeout(Duration::ZERO) {
                return Err(format!(
                    "{} exited ({status}) before answering {}; its log:\n{}",
                    self.binary,
                    self.ready,
                    self.log_tail()
                ));
            }
            let answer = client
                .get(&health)
                .timeout(Duration::from_secs(1))
                .send()
                .await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{} did not answer {health} within {START_TIMEOUT:?}; its log:\n{}",
                    self.binary,
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The last 20 lines of its log.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it gracefully (SIGTERM: VictoriaMetrics flushes its data,
    /// vmagent its queue) and waits for the exit; kills it after 30 s.
    pub fn stop(&mut self) {
        self.process.signal(libc::SIGTERM);
        if self.process.wait_timeout(STOP_TIMEOUT).is_none() {
            self.process.kill();
        }
    }

    /// The underlying process (to pause, resume or kill it).
    pub fn process(&mut self) -> &mut Process {
        &mut self.process
    }
}
