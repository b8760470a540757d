//! A real `victoria-metrics` for tests and benchmarks: started on a free
//! loopback port with its data in a temporary directory, optionally
//! scraping targets, and killed when dropped.
//!
//! Two flags make it fit for tests:
//!
//! * `-search.latencyOffset=1s` ([`Options::latency_offset`]).
//!   VictoriaMetrics hides samples newer than this offset from queries at
//!   "now" (30 s by default), so freshly scraped data would stay invisible
//!   for half a minute. One second keeps the tests quick; `nocache=1` would
//!   not help, since it only bypasses the response cache.
//! * `-retentionPeriod=100y`, so tests can import data at fixed past dates
//!   (and write RFC 3339 times as literals) without it falling outside the
//!   default one-month retention.
//!
//! Data imported with explicit past timestamps is queryable as soon as
//! [`VictoriaMetrics::import_prometheus`] returns (it forces a flush).

use std::net::SocketAddr;
use std::time::Duration;

use crate::daemon::Daemon;
use crate::scrape::{self, Job};
use crate::tools::VICTORIA_METRICS;

/// How a [`VictoriaMetrics`] is started.
#[derive(Debug, Clone)]
pub struct Options {
    latency_offset: Duration,
    scrape: Option<(Job, Duration)>,
    scrape_config: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            latency_offset: Duration::from_secs(1),
            scrape: None,
            scrape_config: None,
        }
    }
}

impl Options {
    /// `-search.latencyOffset` (default 1 s; VictoriaMetrics' own default
    /// is 30 s).
    pub fn latency_offset(mut self, offset: Duration) -> Self {
        self.latency_offset = offset;
        self
    }

    /// Scrape `targets` (`/metrics` over HTTP) every `interval`, as job
    /// `job`, through a generated `-promscrape.config` file.
    pub fn scrape(mut self, job: &str, targets: &[SocketAddr], interval: Duration) -> Self {
        self.scrape = Some((Job::with_targets(job, targets), interval));
        self
    }

    /// Use `yaml` as the `-promscrape.config` file as it is (for configs
    /// derived from the ones in `deploy/`); replaces [`Options::scrape`].
    pub fn scrape_config(mut self, yaml: impl Into<String>) -> Self {
        self.scrape_config = Some(yaml.into());
        self
    }
}

/// A running `victoria-metrics`; dropping it kills the process and removes
/// its data.
#[derive(Debug)]
pub struct VictoriaMetrics {
    daemon: Daemon,
    /// Its command line, for [`VictoriaMetrics::restart`].
    args: Vec<String>,
    client: reqwest::Client,
    // Dropped after `daemon` (fields drop in declaration order), so the
    // data directory outlives the server.
    dir: tempfile::TempDir,
}

impl VictoriaMetrics {
    /// Starts one with the default [`Options`].
    ///
    /// # Errors
    /// As [`VictoriaMetrics::start_with`].
    pub async fn start() -> Result<Self, String> {
        Self::start_with(Options::default()).await
    }

    /// Starts one and waits (at most 30 s) until its `/health` answers.
    ///
    /// # Errors
    /// When the binary is missing (the message says how to install it),
    /// cannot be started, exits, or does not answer in time (the message
    /// quotes the end of its log).
    pub async fn start_with(options: Options) -> Result<Self, String> {
        let dir = tempfile::Builder::new()
            .prefix("victoria-metrics-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let mut common = vec![
            format!("-storageDataPath={}", dir.path().join("data").display()),
            format!(
                "-search.latencyOffset={}ms",
                options.latency_offset.as_millis()
            ),
            "-retentionPeriod=100y".to_owned(),
            "-loggerLevel=WARN".to_owned(),
        ];
        let config = match (&options.scrape_config, &options.scrape) {
            (Some(yaml), _) => Some(yaml.clone()),
            (None, Some((job, interval))) => {
                Some(scrape::config(*interval, std::slice::from_ref(job)))
            }
            (None, None) => None,
        };
        if let Some(config) = config {
            let path = dir.path().join("scrape.yml");
            std::fs::write(&path, config)
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            common.push(format!("-promscrape.config={}", path.display()));
        }
        let args = |addr: SocketAddr| {
            let mut args = common.clone();
            args.push(format!("-httpListenAddr={addr}"));
            args
        };
        let daemon = Daemon::start(VICTORIA_METRICS, dir.path(), &args).await?;
        Ok(VictoriaMetrics {
            args: args(daemon.addr()),
            daemon,
            client: crate::http::client(),
            dir,
        })
    }

    /// Stops it gracefully (SIGTERM: it writes what it holds in memory to
    /// disk) and waits for the exit; the data directory stays. Queries
    /// fail until [`VictoriaMetrics::restart`].
    pub fn stop(&mut self) {
        self.daemon.stop();
    }

    /// Starts it again on the same address with the same data directory
    /// and flags (after [`VictoriaMetrics::stop`], or after a crash), and
    /// waits until `/health` answers.
    ///
    /// # Errors
    /// As [`VictoriaMetrics::start_with`]; also when the address was taken
    /// while it was down.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.daemon.stop();
        self.daemon =
            Daemon::start_on(VICTORIA_METRICS, self.dir.path(), self.addr(), &self.args).await?;
        Ok(())
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.daemon.addr()
    }

    /// `http://127.0.0.1:<port>`, no trailing slash.
    pub fn url(&self) -> String {
        self.daemon.url()
    }

    /// Feeds Prometheus text-format lines (`name{labels} value [ms]`)
    /// through `/api/v1/import/prometheus`, then forces a flush so the
    /// samples are searchable at once (at or before now minus the latency
    /// offset).
    ///
    /// # Errors
    /// When either call fails or answers an error status.
    pub async fn import_prometheus(&self, text: &str) -> Result<(), String> {
        let url = format!("{}/api/v1/import/prometheus", self.url());
        let answer = self
            .client
            .post(&url)
            .body(text.to_owned())
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!(
                "POST {url}: {} {}",
                answer.status(),
                answer.text().await.unwrap_or_default()
            ));
        }
        self.force_flush().await
    }

    /// The value of the first series an instant PromQL `query` returns
    /// (`None` when it returns nothing or the call fails).
    pub async fn query_value(&self, query: &str) -> Option<f64> {
        let body: serde_json::Value = self
            .client
            .get(format!("{}/api/v1/query", self.url()))
            .query(&[("query", query)])
            .send()
            .await
            .ok()?
            .text()
            .await
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())?;
        body["data"]["result"].get(0)?["value"][1]
            .as_str()?
            .parse()
            .ok()
    }

    /// `/internal/force_flush`: makes recently added data searchable.
    ///
    /// # Errors
    /// When the call fails or answers an error status.
    pub async fn force_flush(&self) -> Result<(), String> {
        let url = format!("{}/internal/force_flush", self.url());
        let answer = self
            .client
            .get(&url)
            .send()
            .await
            .map_err(|e| format!("GET {url}: {e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            Err(format!("GET {url}: {}", answer.status()))
        }
    }
}
