//! A real Prometheus server for tests: `prometheus
//! --enable-feature=exemplar-storage` on a free loopback port, with its
//! config and data in a temporary directory, scraping the given targets
//! every second, killed when dropped.
//!
//! Prometheus asks its targets for OpenMetrics first, and its OpenMetrics
//! parser is strict: a target it scrapes with `up` 1 and an empty
//! `lastError` served valid OpenMetrics (or valid text, when the target
//! answered text).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::daemon::{Daemon, workdir};
use crate::scrape;
use crate::tools::PROMETHEUS;

pub use crate::scrape::Job;

/// A running Prometheus; dropping it kills the process and removes its
/// data.
#[derive(Debug)]
pub struct Prometheus {
    daemon: Daemon,
    client: reqwest::Client,
    // Dropped after `daemon` (fields drop in declaration order), so the
    // data directory outlives the server.
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts one scraping `jobs` every second, and waits (at most 30 s)
    /// until it is ready.
    ///
    /// # Errors
    /// When the binary is missing (the message says how to install it),
    /// cannot be started, exits, or is not ready in time (the message quotes
    /// the end of its log).
    pub async fn start(jobs: &[Job]) -> Result<Self, String> {
        let (dir, config) = workdir(
            "prometheus-",
            "prometheus.yml",
            &scrape::config(Duration::from_secs(1), jobs),
        )?;
        let data = dir.path().join("data");
        let args = |addr: SocketAddr| {
            vec![
                format!("--config.file={}", config.display()),
                format!("--storage.tsdb.path={}", data.display()),
                format!("--web.listen-address={addr}"),
                "--enable-feature=exemplar-storage".to_owned(),
                "--log.level=warn".to_owned(),
            ]
        };
        let daemon = Daemon::start_ready(PROMETHEUS, dir.path(), "/-/ready", args).await?;
        Ok(Prometheus {
            daemon,
            client: crate::http::client(),
            _dir: dir,
        })
    }

    /// The last lines of its log.
    pub fn log_tail(&self) -> String {
        self.daemon.log_tail()
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        self.daemon.url()
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<serde_json::Value, String> {
        let url = format!("{}{path}", self.url());
        let answer = self
            .client
            .get(&url)
            .query(query)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        let status = answer.status();
        let text = answer.text().await.map_err(|e| format!("GET {url}: {e}"))?;
        if !status.is_success() {
            return Err(format!("GET {url} {query:?}: {status} {text}"));
        }
        let body: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("GET {url}: {e}: {text}"))?;
        Ok(body["data"].clone())
    }

    /// `data.result` of an instant PromQL query.
    ///
    /// # Errors
    /// When the call fails or Prometheus answers an error.
    pub async fn query(&self, query: &str) -> Result<Vec<serde_json::Value>, String> {
        let data = self.get("/api/v1/query", &[("query", query)]).await?;
        Ok(data["result"].as_array().cloned().unwrap_or_default())
    }

    /// `GET /api/v1/query_exemplars` over the last hour: one entry per
    /// series, each with `seriesLabels` and `exemplars` (`labels`, `value`,
    /// `timestamp`).
    ///
    /// # Errors
    /// When the call fails or Prometheus answers an error.
    pub async fn query_exemplars(&self, query: &str) -> Result<Vec<serde_json::Value>, String> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_err(|e| e.to_string())?
            .as_secs();
        let (start, end) = ((now - 3600).to_string(), (now + 60).to_string());
        let data = self
            .get(
                "/api/v1/query_exemplars",
                &[("query", query), ("start", &start), ("end", &end)],
            )
            .await?;
        Ok(data.as_array().cloned().unwrap_or_default())
    }

    /// The active targets (`/api/v1/targets`): `labels`, `health`,
    /// `lastError`, `lastScrape`, … per target.
    ///
    /// # Errors
    /// When the call fails.
    pub async fn targets(&self) -> Result<Vec<serde_json::Value>, String> {
        let data = self.get("/api/v1/targets", &[("state", "active")]).await?;
        Ok(data["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default())
    }

    /// Polls `check` every 250 ms until it returns `Some`, for at most
    /// `limit` (a hang guard: scrapes come every second).
    ///
    /// # Errors
    /// When `limit` passes; the message carries the last `Err` of `check`
    /// and the end of Prometheus' log.
    pub async fn wait_for<T, F, Fut>(&self, limit: Duration, mut check: F) -> Result<T, String>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            let last = match check().await {
                Ok(found) => return Ok(found),
                Err(e) => e,
            };
            if Instant::now() >= deadline {
                return Err(format!(
                    "not within {limit:?}: {last}\nprometheus log:\n{}",
                    self.log_tail()
                ));
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
}
