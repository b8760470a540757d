//! A real `redis-server`, started on a free loopback port in a temporary
//! directory, for tests that need Redis (including fault injection).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::free_port;
use crate::process::Process;
use crate::tools::REDIS_SERVER;

/// A running `redis-server`, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    /// `None` while stopped. Declared before `dir`, so the server is killed
    /// before its directory goes.
    process: Option<Process>,
    dir: tempfile::TempDir,
}

impl RedisServer {
    /// Starts a server on a free port and waits until it answers PING.
    ///
    /// # Errors
    /// When `redis-server` is not installed (with an install hint) or does
    /// not come up within 10 s.
    pub fn start() -> Result<RedisServer, String> {
        let mut server = Self::stopped()?;
        server.spawn()?;
        Ok(server)
    }

    /// A server with its port chosen but not started yet (for services
    /// that must start while Redis is down); start it with
    /// [`RedisServer::restart`].
    ///
    /// # Errors
    /// When `redis-server` is not installed (with an install hint).
    pub fn stopped() -> Result<RedisServer, String> {
        Ok(RedisServer {
            binary: REDIS_SERVER.path()?,
            port: free_port(),
            process: None,
            dir: tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?,
        })
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut command = Command::new(&self.binary);
        command
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        self.process = Some(Process::start(command)?);
        self.wait_until_ready(Duration::from_secs(10))
    }

    fn wait_until_ready(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.ping(Duration::from_millis(200)) {
                return Ok(());
            }
            if let Some(status) = self
                .process
                .as_mut()
                .and_then(|p| p.wait_timeout(Duration::ZERO))
            {
                return Err(format!("redis-server exited at start-up: {status}"));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!(
            "redis-server on port {} did not answer PING within {limit:?}",
            self.port
        ))
    }

    /// Whether the server answers PING within `timeout` (raw RESP over TCP).
    pub fn ping(&self, timeout: Duration) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&crate::net::loopback(self.port), timeout)
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(timeout));
        let _ = stream.set_write_timeout(Some(timeout));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server (SIGKILL) and waits for it to exit: connections are
    /// refused until [`RedisServer::restart`].
    pub fn kill(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill();
        }
    }

    /// Starts the server again on the same port (after [`RedisServer::kill`]).
    ///
    /// # Errors
    /// As [`RedisServer::start`].
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the kernel
    /// but nothing answers — a hang, not a refusal.
    pub fn pause(&mut self) {
        if let Some(process) = &mut self.process {
            process.pause();
        }
    }

    /// Resumes a paused server (SIGCONT).
    pub fn resume(&mut self) {
        if let Some(process) = &mut self.process {
            process.resume();
        }
    }
}
