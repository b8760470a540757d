//! The quickstart example, run as the README tells a newcomer to: it serves
//! /metrics that promtool accepts, with every standard family, and the handler's
//! failures counted by reason.

use std::process::Command;
use std::time::{Duration, Instant};

use asdlc_testkit::exposition::Scrape;
use asdlc_testkit::http;
use asdlc_testkit::net::free_port;
use asdlc_testkit::process::{Process, example_binary};
use asdlc_testkit::promtool;

use crate::common::{gunzip, standard_families_exported_at_start};

/// A hang guard for the simulated traffic to reach every family; never a
/// speed assertion.
const PATIENCE: Duration = Duration::from_secs(60);

/// Scrapes `url` with gzip until every standard family has a sample, the
/// macros have recorded several calls, and `#[in_flight]` has been seen
/// holding a task; returns the last body (decompressed).
async fn scrape_until_every_family_has_a_sample(url: &str) -> (Vec<u8>, Scrape) {
    let deadline = Instant::now() + PATIENCE;
    let mut saw_a_task_in_flight = false;
    loop {
        let response = http::client()
            .get(url)
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-encoding"], "gzip");
        let body = gunzip(&response.bytes().await.unwrap());
        let scrape = Scrape::parse(std::str::from_utf8(&body).unwrap());
        saw_a_task_in_flight |= scrape.value("asdlc_active_tasks", &[]) > 0.0;
        let missing: Vec<&str> = standard_families_exported_at_start()
            .filter(|name| {
                !scrape
                    .samples
                    .iter()
                    .any(|s| scrape.family_of(&s.name) == *name)
            })
            .collect();
        let calls = scrape.sum(
            "asdlc_function_calls_total",
            &[("function", "handle_request")],
        );
        // Every 17th request times out: a failure with a reason.
        let timeouts = scrape.sum(
            "asdlc_function_errors_total",
            &[("function", "handle_request"), ("reason", "timeout")],
        );
        if missing.is_empty() && calls >= 5.0 && timeouts >= 1.0 && saw_a_task_in_flight {
            return (body, scrape);
        }
        assert!(
            Instant::now() < deadline,
            "after {PATIENCE:?}: families without a sample {missing:?}, \
             {calls} handle_request calls ({timeouts} timeouts), \
             a task seen in flight: {saw_a_task_in_flight}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every histogram series: buckets never decrease and `+Inf` equals `_count`.
fn assert_histograms_consistent(scrape: &Scrape) {
    for (family, kind) in &scrape.types {
        if kind != "histogram" {
            continue;
        }
        let bucket_name = format!("{family}_bucket");
        for count in scrape.find(&format!("{family}_count"), &[]) {
            let buckets: Vec<f64> = scrape
                .samples
                .iter()
                .filter(|s| {
                    let mut labels = s.labels.clone();
                    labels.remove("le");
                    s.name == bucket_name && labels == count.labels
                })
                .map(|s| s.value)
                .collect();
            assert!(buckets.len() > 1, "{count:?}: buckets {buckets:?}");
            assert!(
                buckets.windows(2).all(|w| w[0] <= w[1]),
                "{count:?}: {buckets:?}"
            );
            assert_eq!(
                buckets.last(),
                Some(&count.value),
                "{count:?}: +Inf != _count"
            );
        }
    }
}

#[tokio::test]
async fn quickstart_serves_every_standard_family_clean_under_promtool() {
    // Started as the README says, the address from $ASDLC_METRICS_ADDR.
    let port = free_port();
    let mut command = Command::new(example_binary("quickstart").unwrap());
    command
        .env("ASDLC_METRICS_ADDR", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "warn");
    let mut process = Process::spawn(command).unwrap();
    let url = process
        .wait_for_line("metrics: ", Duration::from_secs(30))
        .unwrap();
    assert_eq!(url, format!("http://127.0.0.1:{port}/metrics"));

    let (body, scrape) = scrape_until_every_family_has_a_sample(&url).await;
    promtool::check_metrics(&body).unwrap();

    assert!(
        scrape
            .samples
            .iter()
            .all(|s| s.label("service") == Some("quickstart"))
    );
    let info = scrape.value(
        "asdlc_service_info",
        &[("version", env!("CARGO_PKG_VERSION"))],
    );
    assert_eq!(info, 1.0);
    assert_eq!(scrape.value("asdlc_active_workers", &[]), 4.0);
    // The simulated `#[redis_op]` write succeeds, which marks Redis up.
    assert_eq!(scrape.value("asdlc_redis_connection_up", &[]), 1.0);
    assert!(
        scrape.value(
            "asdlc_redis_operation_duration_seconds_count",
            &[("operation", "xadd")]
        ) >= 1.0
    );
    assert!(scrape.value("asdlc_process_memory_bytes", &[("type", "rss")]) > 0.0);
    // Failures by reason: the timeouts are errors with a reason; the
    // expected `NotFound` (every 5th request) is ok and has no series.
    let reasons: Vec<&str> = scrape
        .find(
            "asdlc_function_errors_total",
            &[("function", "handle_request")],
        )
        .filter_map(|s| s.label("reason"))
        .collect();
    assert_eq!(reasons, ["timeout"]);

    for sample in scrape.find("asdlc_events_processed_total", &[]) {
        let event_type = sample.label("event_type").unwrap();
        assert!(
            ["task_created", "task_completed"].contains(&event_type),
            "{sample:?}"
        );
    }
    assert!(scrape.sum("asdlc_events_processed_total", &[("status", "success")]) >= 1.0);
    for endpoint in ["/api/tasks/{id}", "/api/tasks", "/health"] {
        assert!(
            scrape.sum("asdlc_http_requests_total", &[("endpoint", endpoint)]) >= 1.0,
            "{endpoint}"
        );
    }
    assert!(
        scrape.value(
            "asdlc_function_duration_seconds_count",
            &[("function", "process_task"), ("result", "ok")]
        ) >= 1.0,
        "#[in_flight] #[timed] process_task"
    );
    assert_histograms_consistent(&scrape);
}
