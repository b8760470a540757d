//! Registry semantics: get-or-register, conflicts, the service label.

use asdlc_metrics::{
    CollectError, Collector, CollectorOutput, Counter, CounterVec, Error, Gauge, HistogramVec,
    MetricKind, Registry,
};

use crate::common::{init_global, scrape_of, standard_families_exported_at_start};

#[test]
fn registering_the_same_shape_twice_returns_the_existing_metric() {
    let r = Registry::with_service("t");
    let first = r
        .register(&CounterVec::new("asdlc_jobs_total", "Jobs.", &["kind"]).unwrap())
        .unwrap();
    let second = r
        .register(&CounterVec::new("asdlc_jobs_total", "Jobs.", &["kind"]).unwrap())
        .unwrap();
    first.with_label_values(&["a"]).inc();
    second.with_label_values(&["a"]).inc();
    let scrape = scrape_of(&r);
    assert_eq!(scrape.value("asdlc_jobs_total", &[("kind", "a")]), 2.0);
    assert_eq!(
        r.encode_to_string()
            .matches("# TYPE asdlc_jobs_total")
            .count(),
        1
    );
}

#[test]
fn a_conflicting_shape_is_an_error_and_the_loser_keeps_working() {
    let r = Registry::with_service("t");
    let winner = r
        .register(&CounterVec::new("asdlc_jobs_total", "Jobs.", &["kind"]).unwrap())
        .unwrap();

    // Other label names.
    let other_labels = CounterVec::new("asdlc_jobs_total", "Jobs.", &["queue"]).unwrap();
    let err = r.register(&other_labels).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { name, .. } if name == "asdlc_jobs_total"),
        "{err}"
    );
    assert!(
        err.to_string().contains("counter{kind}") && err.to_string().contains("counter{queue}"),
        "{err}"
    );
    other_labels.with_label_values(&["q"]).inc();
    assert_eq!(other_labels.with_label_values(&["q"]).get(), 1);

    // Other type under a name that passes both types' rules.
    r.register(&Gauge::new("asdlc_level", "Level.").unwrap())
        .unwrap();
    let as_histogram = HistogramVec::new("asdlc_level", "Level.", &[]).unwrap();
    assert!(matches!(
        r.register(&as_histogram),
        Err(Error::Conflict { .. })
    ));
    as_histogram.with_label_values(&[]).observe(1.0);

    // Same shape, other Rust type (prometheus crate vs ours).
    let foreign = prometheus::IntCounterVec::new(
        prometheus::Opts::new("asdlc_jobs_total", "Jobs."),
        &["kind"],
    )
    .unwrap();
    assert!(matches!(r.register(&foreign), Err(Error::Conflict { .. })));

    // The loser never shows up in the export; the winner does.
    winner.with_label_values(&["w"]).inc();
    let scrape = scrape_of(&r);
    assert_eq!(scrape.value("asdlc_jobs_total", &[("kind", "w")]), 1.0);
    assert_eq!(
        scrape.find("asdlc_jobs_total", &[("queue", "q")]).count(),
        0
    );
    assert_eq!(
        scrape.types.get("asdlc_level").map(String::as_str),
        Some("gauge")
    );
}

#[test]
fn invalid_names_are_errors_not_panics() {
    assert!(matches!(
        Counter::new("asdlc_jobs", "x"),
        Err(Error::InvalidName(_))
    ));
    assert!(matches!(
        CounterVec::new("asdlc_x_total", "x", &["le"]),
        Err(Error::InvalidLabel(_))
    ));
    assert!(matches!(
        CounterVec::new("asdlc_x_total", "x", &["a", "a"]),
        Err(Error::DuplicateLabel(_))
    ));
    assert!(matches!(
        Counter::new("asdlc_x_total", ""),
        Err(Error::MissingHelp(_))
    ));
    assert!(matches!(
        HistogramVec::with_buckets("asdlc_x_seconds", "x", &[], &[1.0, 0.5]),
        Err(Error::InvalidBuckets(_))
    ));
}

struct Pool;

impl Collector for Pool {
    fn name(&self) -> &str {
        "pool"
    }

    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        let mut f = out.family("asdlc_pool_size", "Pool size.", MetricKind::Gauge)?;
        f.sample("", &[("pool", "a")], 3.0);
        Ok(())
    }
}

#[test]
fn every_series_of_every_family_carries_the_service_label() {
    init_global();
    let r = asdlc_metrics::registry();
    let m = asdlc_metrics::standard();
    m.http_requests_total
        .with_label_values(&["GET", "/svc-label", "200"])
        .inc();
    m.http_request_duration_seconds
        .with_label_values(&["GET", "/svc-label"])
        .observe(0.01);
    m.events_processed_total
        .with_label_values(&["svc_label", "success"])
        .inc();
    m.redis_operation_duration_seconds
        .with_label_values(&["svc_label"])
        .observe(0.001);
    r.register_collector(Pool);
    let legacy = prometheus::IntCounterVec::new(
        prometheus::Opts::new("legacy_ops_total", "Old-style counter.")
            .const_label("service", "wrong"),
        &["op"],
    )
    .unwrap();
    legacy.with_label_values(&["x"]).inc();
    r.register_prometheus_collector("legacy", Box::new(legacy));

    let scrape = scrape_of(r);
    let families: std::collections::BTreeSet<&str> = scrape
        .samples
        .iter()
        .map(|s| scrape.family_of(&s.name))
        .collect();
    for name in standard_families_exported_at_start() {
        #[cfg(not(target_os = "linux"))]
        if name == "asdlc_process_memory_bytes" {
            continue;
        }
        assert!(families.contains(name), "{name} missing from {families:?}");
    }
    for family in [
        "asdlc_pool_size",
        "legacy_ops_total",
        "process_cpu_seconds_total",
    ] {
        assert!(families.contains(family), "{family} missing");
    }
    for sample in &scrape.samples {
        assert_eq!(sample.label("service"), Some("suite"), "{sample:?}");
    }
}
