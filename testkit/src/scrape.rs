//! Scrape configurations in the Prometheus format, which both Prometheus
//! and VictoriaMetrics (`-promscrape.config`) read: the test kit's servers
//! scrape what a test serves through one writer.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::time::Duration;

/// One scrape job: `targets` at `path`.
#[derive(Debug, Clone)]
pub struct Job {
    /// The `job` label.
    pub name: String,
    /// `host:port` of each target.
    pub targets: Vec<SocketAddr>,
    /// The metrics path (`/metrics`).
    pub path: String,
}

impl Job {
    /// A job scraping `target` at `/metrics`.
    pub fn new(name: &str, target: SocketAddr) -> Self {
        Job::with_targets(name, &[target])
    }

    /// A job scraping every one of `targets` at `/metrics`.
    pub fn with_targets(name: &str, targets: &[SocketAddr]) -> Self {
        Job {
            name: name.to_owned(),
            targets: targets.to_vec(),
            path: "/metrics".to_owned(),
        }
    }

    /// The same job at another metrics path.
    pub fn path(mut self, path: &str) -> Self {
        self.path = path.to_owned();
        self
    }
}

/// The config scraping every job every `interval`, with a timeout of the
/// same length (both servers refuse a timeout longer than the interval).
pub fn config(interval: Duration, jobs: &[Job]) -> String {
    let ms = interval.as_millis();
    let mut yaml =
        format!("global:\n  scrape_interval: {ms}ms\n  scrape_timeout: {ms}ms\nscrape_configs:\n");
    for job in jobs {
        let _ = write!(
            yaml,
            "  - job_name: {:?}\n    metrics_path: {:?}\n    static_configs:\n      - targets:\n",
            job.name, job.path
        );
        for target in &job.targets {
            let _ = writeln!(yaml, "          - \"{target}\"");
        }
    }
    yaml
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::loopback;

    #[test]
    fn writes_a_scrape_config() {
        let jobs = [
            Job::with_targets("om", &[loopback(9898), loopback(9899)]),
            Job::new("text", loopback(9898)).path("/text"),
        ];
        assert_eq!(
            config(Duration::from_millis(500), &jobs),
            "global:\n  scrape_interval: 500ms\n  scrape_timeout: 500ms\nscrape_configs:\n  \
             - job_name: \"om\"\n    metrics_path: \"/metrics\"\n    static_configs:\n      - targets:\n          \
             - \"127.0.0.1:9898\"\n          - \"127.0.0.1:9899\"\n  \
             - job_name: \"text\"\n    metrics_path: \"/text\"\n    static_configs:\n      - targets:\n          - \"127.0.0.1:9898\"\n"
        );
    }
}
