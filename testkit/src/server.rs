//! What the servers the kit starts (`victoria-metrics`, `prometheus`) share:
//! a process logging to a file in its temporary directory, and a wait
//! until an HTTP endpoint of it answers.

use std::fs::File;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::{free_port, loopback};
use crate::process::Process;

/// How long [`LoggedServer::start`] waits for the server to answer.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a start is tried on a fresh port when the one picked was taken
/// in the meantime.
const START_ATTEMPTS: usize = 3;

/// A server process on a free loopback port, its data and log in a
/// temporary directory; killed (and the directory removed) when dropped.
#[derive(Debug)]
pub(crate) struct LoggedServer {
    process: Process,
    pub(crate) addr: SocketAddr,
    log: PathBuf,
    // Dropped after `process` (fields drop in declaration order), so the
    // data directory outlives the server.
    _dir: tempfile::TempDir,
}

impl LoggedServer {
    /// Starts `binary` named `name` with the arguments `args` makes for an
    /// address and a directory, and waits (at most 30 s) until `ready_path`
    /// answers 2xx; tries another port when the one picked was taken.
    ///
    /// # Errors
    /// When the process cannot be started, exits, or does not answer in
    /// time (the message quotes the end of its log).
    pub(crate) async fn start(
        binary: &Path,
        name: &str,
        ready_path: &str,
        client: &reqwest::Client,
        args: impl Fn(SocketAddr, &Path) -> Result<Vec<String>, String>,
    ) -> Result<Self, String> {
        let mut last_error = String::new();
        for _ in 0..START_ATTEMPTS {
            let dir = tempfile::Builder::new()
                .prefix(&format!("{name}-"))
                .tempdir()
                .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
            let addr = loopback(free_port());
            let args = args(addr, dir.path())?;
            let log = dir.path().join(format!("{name}.log"));
            let mut server = LoggedServer {
                process: spawn_logged(binary, &args, &log)?,
                addr,
                log,
                _dir: dir,
            };
            let url = format!("{}{ready_path}", server.url());
            match wait_answering(
                &mut server.process,
                client,
                name,
                &url,
                START_TIMEOUT,
                &server.log,
            )
            .await
            {
                Ok(()) => return Ok(server),
                // Another process took the port between picking and binding.
                Err(e) if e.contains("address already in use") => last_error = e,
                Err(e) => return Err(e),
            }
        }
        Err(last_error)
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The last 20 lines of its log.
    pub(crate) fn log_tail(&self) -> String {
        log_tail(&self.log)
    }
}

/// Starts `binary` with `args`, stdout and stderr to the file `log`.
///
/// # Errors
/// When the log cannot be created or the process not started.
fn spawn_logged(binary: &Path, args: &[String], log: &Path) -> Result<Process, String> {
    let out = File::create(log).map_err(|e| format!("cannot create the log: {e}"))?;
    let err = out
        .try_clone()
        .map_err(|e| format!("cannot share the log: {e}"))?;
    let mut command = Command::new(binary);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    Process::start(command)
}

/// The last 20 lines of `log`.
fn log_tail(log: &PathBuf) -> String {
    let log = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Polls `url` until it answers 2xx, for at most `limit`.
///
/// # Errors
/// When `process` exits first or `limit` passes; the message names `name`
/// and quotes the end of `log` (where "address already in use" tells the
/// caller to retry on another port).
async fn wait_answering(
    process: &mut Process,
    client: &reqwest::Client,
    name: &str,
    url: &str,
    limit: Duration,
    log: &PathBuf,
) -> Result<(), String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = process.wait_timeout(Duration::ZERO) {
            return Err(format!(
                "{name} exited ({status}) before answering {url}; its log:\n{}",
                log_tail(log)
            ));
        }
        let answer = client.get(url).timeout(Duration::from_secs(1)).send().await;
        if answer.is_ok_and(|a| a.status().is_success()) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{name} did not answer {url} within {limit:?}; its log:\n{}",
                log_tail(log)
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
