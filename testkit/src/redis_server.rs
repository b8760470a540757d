//! A real `redis-server`, started on a free loopback port in a temporary
//! directory, for tests that need Redis (including fault injection).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::net::free_port;
use crate::tools::REDIS_SERVER;

/// A running `redis-server`, killed on drop.
#[derive(Debug)]
pub struct RedisServer {
    binary: PathBuf,
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
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
            dir: tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?,
            child: None,
        })
    }

    fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new(&self.binary)
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
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start redis-server: {e}"))?;
        self.child = Some(child);
        self.wait_until_ready(Duration::from_secs(10))
    }

    fn wait_until_ready(&mut self, limit: Duration) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if self.ping(Duration::from_millis(200)) {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
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

    fn signal(&self, signal: libc::c_int) {
        if let Some(child) = &self.child {
            let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
            // SAFETY: kill(2) with a pid we spawned; no memory is involved.
            unsafe {
                libc::kill(pid, signal);
            }
        }
    }

    /// Kills the server (SIGKILL) and waits for it to exit: connections are
    /// refused until [`RedisServer::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
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
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP);
    }

    /// Resumes a paused server (SIGCONT).
    pub fn resume(&self) {
        self.signal(libc::SIGCONT);
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // A stopped process does not act on SIGKILL until continued on some
        // systems' accounting; continue it first so `wait` cannot hang.
        self.resume();
        self.kill();
    }
}
