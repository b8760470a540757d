//! Failing collectors: the scrape still answers, only their families go.

use asdlc_metrics::{
    CollectError, Collector, CollectorOutput, CounterVec, MetricKind, Registry, serve_registry,
};
use asdlc_testkit::http;
use asdlc_testkit::{exposition::Scrape, promtool};

struct Panicking;

impl Collector for Panicking {
    fn name(&self) -> &str {
        "panicking"
    }

    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        out.family(
            "asdlc_half_written",
            "Written, then the collector panics.",
            MetricKind::Gauge,
        )?
        .sample("", &[], 1.0);
        panic!("collector exploded");
    }
}

struct Failing;

impl Collector for Failing {
    fn name(&self) -> &str {
        "failing"
    }

    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        out.family(
            "asdlc_partial",
            "Written, then the collector fails.",
            MetricKind::Gauge,
        )?
        .sample("", &[], 1.0);
        Err("backend unreachable".into())
    }
}

struct Healthy;

impl Collector for Healthy {
    fn name(&self) -> &str {
        "healthy"
    }

    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        out.family("asdlc_queue_depth", "Items waiting.", MetricKind::Gauge)?
            .sample("", &[("queue", "main")], 4.0);
        Ok(())
    }
}

#[tokio::test]
async fn failing_collectors_drop_only_their_families_and_are_counted() {
    let r = Registry::with_service("collectors");
    r.register_collector(Panicking);
    r.register_collector(Healthy);
    r.register_collector(Failing);
    let jobs = r
        .register(&CounterVec::new("asdlc_jobs_total", "Jobs.", &["kind"]).unwrap())
        .unwrap();
    jobs.with_label_values(&["a"]).inc();

    let server = serve_registry("127.0.0.1:0", r).await.unwrap();
    let url = format!("http://{}/metrics", server.local_addr());
    let client = http::client();
    let mut last = String::new();
    for _ in 0..3 {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200);
        last = response.text().await.unwrap();
    }
    promtool::check_metrics(last.as_bytes()).unwrap();
    let s = Scrape::parse(&last);
    assert_eq!(s.value("asdlc_jobs_total", &[("kind", "a")]), 1.0);
    assert_eq!(s.value("asdlc_queue_depth", &[("queue", "main")]), 4.0);
    assert!(!s.types.contains_key("asdlc_half_written"), "{last}");
    assert!(!s.types.contains_key("asdlc_partial"), "{last}");
    assert_eq!(
        s.value(
            "asdlc_collector_errors_total",
            &[("collector", "panicking")]
        ),
        3.0
    );
    assert_eq!(
        s.value("asdlc_collector_errors_total", &[("collector", "failing")]),
        3.0
    );
    assert_eq!(
        s.find("asdlc_collector_errors_total", &[("collector", "healthy")])
            .count(),
        0
    );
    server.shutdown().await.unwrap();
}

/// Log lines captured from a `tracing` subscriber installed for one thread.
#[derive(Clone, Default)]
struct CapturedLogs(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for CapturedLogs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CapturedLogs {
    fn lines_containing(&self, needle: &str) -> usize {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().filter(|l| l.contains(needle)).count()
    }
}

#[test]
fn a_collector_failing_on_every_scrape_logs_once_and_counts_every_time() {
    let logs = CapturedLogs::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let r = Registry::with_service("logs");
    r.register_collector(Failing);
    // Scrapes run on this thread, where the subscriber is installed.
    let last = tracing::subscriber::with_default(subscriber, || {
        r.encode_to_string();
        r.encode_to_string()
    });
    let s = Scrape::parse(&last);
    assert_eq!(
        s.value("asdlc_collector_errors_total", &[("collector", "failing")]),
        2.0,
        "each failing scrape is counted"
    );
    assert_eq!(
        logs.lines_containing("backend unreachable"),
        1,
        "two failures within a minute log once"
    );
}

/// An error whose message cannot be written: formatting it panics.
#[derive(Debug)]
struct Unprintable;

impl std::fmt::Display for Unprintable {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        panic!("this error cannot be displayed (expected by the test)")
    }
}

impl std::error::Error for Unprintable {}

/// Fails with [`Unprintable`]: reporting the failure runs the collector's
/// code once more.
struct Unreportable;

impl Collector for Unreportable {
    fn name(&self) -> &str {
        "unreportable"
    }

    fn collect(&self, _: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        Err(Box::new(Unprintable))
    }
}

#[test]
fn a_collector_error_whose_message_panics_fails_only_that_collector() {
    let r = Registry::with_service("unprintable");
    r.register_collector(Unreportable);
    let c = asdlc_metrics::Counter::new("asdlc_still_here_total", "Still exported.").unwrap();
    r.register(&c).unwrap();
    c.inc();
    let text = r.encode_to_string();
    let s = Scrape::parse(&text);
    assert_eq!(s.value("asdlc_still_here_total", &[]), 1.0, "{text}");
    assert_eq!(
        s.value(
            "asdlc_collector_errors_total",
            &[("collector", "unreportable")]
        ),
        1.0,
        "{text}"
    );
}

/// Fails, and panics when the registry asks its name to report that: the
/// one piece of a collector's code the registry runs outside its guard,
/// and so the way to make a whole encoding fail.
struct Nameless;

impl Collector for Nameless {
    fn name(&self) -> &str {
        panic!("this collector cannot be named (expected by the test)")
    }

    fn collect(&self, _: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        Err("failed".into())
    }
}

#[tokio::test]
async fn an_encoding_failure_is_a_500_with_a_plain_text_message() {
    let r = Registry::with_service("broken");
    r.register_collector(Nameless);
    let server = serve_registry("127.0.0.1:0", r).await.unwrap();
    let client = http::client();
    let response = client
        .get(format!("http://{}/metrics", server.local_addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    let body = response.text().await.unwrap();
    assert!(body.starts_with("failed to encode metrics: "), "{body}");
    assert!(!body.contains("# TYPE"), "no partial exposition: {body}");
    // The server outlives the failure.
    let health = client
        .get(format!("http://{}/health", server.local_addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    server.shutdown().await.unwrap();
}
