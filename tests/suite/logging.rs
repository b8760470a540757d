//! The reference services' logs: written to a file (or pipe), they carry
//! no ANSI colour codes.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use asdlc_testkit::net::free_port;
use asdlc_testkit::process::example_binary;

/// A hang guard, never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(30);

/// Kills the child on drop, so a failing assertion leaves nothing running.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn logs_into_a_file_have_no_colour_codes() {
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(example_binary("orchestrator").unwrap());
    command
        .env("PORT", free_port().to_string())
        .env("HOST", "127.0.0.1")
        .env("REDIS_URL", format!("redis://127.0.0.1:{}", free_port()))
        .env("RUST_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(log.reopen().unwrap());
    let mut child = KillOnDrop(command.spawn().unwrap());

    // Started (it prints this line once it listens; end of file if it died).
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.starts_with("listening: "), "{line:?}");
    // SIGTERM makes it log twice at INFO on its way out.
    let pid = libc::pid_t::try_from(child.0.id()).unwrap();
    // SAFETY: kill(2) on the child we spawned.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
    let deadline = Instant::now() + PATIENCE;
    while child.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "no exit after SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }

    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(text.contains("INFO"), "{text}");
    assert!(text.contains("orchestrator stopped"), "{text}");
    assert!(
        !text.contains('\u{1b}'),
        "escape codes in the log: {text:?}"
    );
}
