//! A real `vmagent`: scrapes targets with a given `-promscrape.config` and
//! remote-writes what it scraped to a VictoriaMetrics, buffering on disk
//! (`-remoteWrite.tmpDataPath`, in its temporary directory) while that one
//! is down. Killed when dropped.

use std::time::Duration;

use crate::daemon::{Daemon, workdir};
use crate::tools::VMAGENT;

/// A running `vmagent`; dropping it kills the process and removes its
/// buffer.
#[derive(Debug)]
pub struct VmAgent {
    daemon: Daemon,
    // Dropped after `daemon`: the buffer outlives the process.
    _dir: tempfile::TempDir,
}

impl VmAgent {
    /// Starts one scraping with `scrape_config` (YAML, as in `deploy/`) and
    /// remote-writing to `remote_write_url` (`…/api/v1/write`), flushing
    /// every `flush`, and waits until its `/health` answers.
    ///
    /// # Errors
    /// When the config cannot be written, or as [`Daemon::start`].
    pub async fn start(
        scrape_config: &str,
        remote_write_url: &str,
        flush: Duration,
    ) -> Result<VmAgent, String> {
        let (dir, config) = workdir("vmagent-", "scrape.yml", scrape_config)?;
        let buffer = dir.path().join("remote-write-buffer");
        let daemon = Daemon::start(VMAGENT, dir.path(), |addr| {
            vec![
                format!("-httpListenAddr={addr}"),
                format!("-promscrape.config={}", config.display()),
                format!("-remoteWrite.url={remote_write_url}"),
                format!("-remoteWrite.tmpDataPath={}", buffer.display()),
                format!("-remoteWrite.flushInterval={}ms", flush.as_millis()),
                "-loggerLevel=WARN".to_owned(),
            ]
        })
        .await?;
        Ok(VmAgent { daemon, _dir: dir })
    }

    /// `http://127.0.0.1:<port>` (its own `/metrics`, `/targets`).
    pub fn url(&self) -> String {
        self.daemon.url()
    }

    /// The last lines of its log, for a failing test's message.
    pub fn log_tail(&self) -> String {
        self.daemon.log_tail()
    }
}
