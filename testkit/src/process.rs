//! Child processes: the repository's example binaries and the servers the
//! kit starts, all through [`Process`].

use std::io::{BufRead as _, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The path of example `name`, built by `cargo test` (which builds every
/// example) next to the test binaries: `target/<profile>/examples/<name>`.
///
/// # Errors
/// When the binary is not there (tests not run through cargo).
pub fn example_binary(name: &str) -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    // target/<profile>/deps/<test binary> → target/<profile>/examples/<name>
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .ok_or_else(|| format!("unexpected test binary location {}", exe.display()))?;
    let path = profile_dir.join("examples").join(name);
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "example binary {} not found; run the tests with `cargo test` (it builds the examples) or ./scripts/test",
            path.display()
        ))
    }
}

/// A child process the tests started: the one way the kit starts, signals
/// and kills processes (examples, `redis-server`, `victoria-metrics`). It is
/// killed (SIGKILL) and reaped on drop.
#[derive(Debug)]
pub struct Process {
    child: Child,
    /// Stdout lines, read in the background, when [`Process::spawn`]
    /// captured them.
    lines: Option<mpsc::Receiver<String>>,
}

impl Process {
    /// Starts `command` with stdout piped and read line by line (see
    /// [`Process::wait_for_line`]); stderr inherited, so its logs show in a
    /// failing test's output.
    ///
    /// # Errors
    /// When the process cannot be started.
    pub fn spawn(command: Command) -> Result<Process, String> {
        Self::spawn_with_stderr(command, Stdio::inherit())
    }

    /// [`Process::spawn`] with stderr going to `stderr` (a log file a test
    /// reads afterwards).
    ///
    /// # Errors
    /// When the process cannot be started.
    pub fn spawn_with_stderr(
        mut command: Command,
        stderr: impl Into<Stdio>,
    ) -> Result<Process, String> {
        command.stdout(Stdio::piped()).stderr(stderr);
        let mut process = Process::start(command)?;
        let stdout: ChildStdout = process.child.stdout.take().ok_or("no stdout")?;
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        process.lines = Some(lines);
        Ok(process)
    }

    /// Starts `command` with its standard streams as the caller set them
    /// (a log file, `Stdio::null()`, …).
    ///
    /// # Errors
    /// When the process cannot be started.
    pub fn start(mut command: Command) -> Result<Process, String> {
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {command:?}: {e}"))?;
        Ok(Process { child, lines: None })
    }

    /// The first stdout line starting with `prefix` (the rest of it), within
    /// `limit`.
    ///
    /// # Errors
    /// When the process ends or `limit` passes first, or when stdout was not
    /// captured ([`Process::start`]).
    pub fn wait_for_line(&mut self, prefix: &str, limit: Duration) -> Result<String, String> {
        let lines = self
            .lines
            .as_ref()
            .ok_or("stdout is not captured; start the process with Process::spawn")?;
        let deadline = Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return Ok(rest.trim().to_owned());
                    }
                }
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    return Err(format!(
                        "no line starting with {prefix:?} within {limit:?} (exit status: {status:?})"
                    ));
                }
            }
        }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` (e.g. `libc::SIGTERM`) while the process runs; once it
    /// has exited and been reaped its pid may belong to another process, so
    /// nothing is sent.
    pub fn signal(&mut self, signal: libc::c_int) {
        if !self.is_running() {
            return;
        }
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: kill(2) on a pid we spawned and have not reaped; no memory
        // is involved.
        unsafe {
            libc::kill(pid, signal);
        }
    }

    /// Freezes the process (SIGSTOP): its sockets stay open but nothing
    /// answers — a hang, not a refusal.
    pub fn pause(&mut self) {
        self.signal(libc::SIGSTOP);
    }

    /// Resumes a paused process (SIGCONT).
    pub fn resume(&mut self) {
        self.signal(libc::SIGCONT);
    }

    /// Waits up to `limit` for the process to exit; its status, or `None`.
    /// The process is looked at at least once, so `Duration::ZERO` means
    /// "has it exited already?".
    pub fn wait_timeout(&mut self, limit: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still running (it has not exited).
    pub fn is_running(&mut self) -> bool {
        self.wait_timeout(Duration::ZERO).is_none()
    }

    /// Kills the process (SIGKILL) and reaps it.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        // Continue a paused process first, so a stopped child cannot delay
        // its own reaping.
        self.resume();
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_wait_looks_at_the_child() {
        let mut exited = Process::spawn(Command::new("true")).unwrap();
        // Reaped within the hang guard; then a zero wait must report it.
        assert!(exited.wait_timeout(Duration::from_secs(30)).is_some());
        assert!(exited.wait_timeout(Duration::ZERO).is_some());
        assert!(!exited.is_running());

        let mut sleeping = Process::spawn({
            let mut c = Command::new("sleep");
            c.arg("30");
            c
        })
        .unwrap();
        assert!(sleeping.is_running());
        assert!(sleeping.wait_timeout(Duration::ZERO).is_none());
        sleeping.kill();
        assert!(!sleeping.is_running());
    }
}
