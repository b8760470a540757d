//! `promtool check metrics`: the exposition-format and lint check Prometheus
//! ships.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::tools::PROMTOOL;

/// Pipes `exposition` through `promtool check metrics`. `Ok` only when it
/// exits 0 and reports nothing (no format errors, no lint problems).
pub fn check_metrics(exposition: &[u8]) -> Result<(), String> {
    let promtool = PROMTOOL.path()?;
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start promtool: {e}"))?;
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(exposition)
        .map_err(|e| format!("writing to promtool: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for promtool: {e}"))?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && report.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("promtool check metrics ({}): {report}", out.status))
    }
}
