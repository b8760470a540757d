//! Failing collectors: the scrape still answers, only their families go.

use asdlc_metrics::{
    CollectError, Collector, CollectorOutput, CounterVec, MetricKind, Registry, serve_registry,
};
use asdlc_metrics_workspace::{exposition::Scrape, promtool};

use crate::common::raw_client;

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
    let client = raw_client();
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
