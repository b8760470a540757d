//! `#[derive(Metrics)]` and `#[derive(LabelValue)]` at run time.

use asdlc_metrics::{CounterVec, Error, Gauge, HistogramVec, LabelValue, Metrics, Registry};
use asdlc_testkit::exposition::Scrape;

#[derive(LabelValue, Clone, Copy, Debug)]
enum EventType {
    TaskCreated,
    TaskCompleted,
    #[label(rename = "retry")]
    TaskRetried,
    HTTPRequest,
}

#[derive(LabelValue, Clone, Copy, Debug)]
enum Status {
    Success,
    Failure,
}

/// Metrics of a worker pool.
#[derive(Metrics, Debug)]
#[metrics(prefix = "derive")]
struct PoolMetrics {
    /// Events handled, by type and outcome.
    #[metric(labels(event_type, status))]
    events_total: CounterVec<(EventType, Status)>,
    /// Workers currently busy.
    /// Counts only workers holding an event.
    busy_workers: Gauge,
    /// Time spent handling one event.
    #[metric(name = "derive_handle_duration_seconds", labels(event_type), buckets = [0.01, 0.1, 1.0])]
    handle: HistogramVec<(EventType,)>,
}

#[test]
fn label_values_are_snake_case_or_renamed() {
    assert_eq!(EventType::TaskCreated.label_value(), "task_created");
    assert_eq!(EventType::TaskCompleted.label_value(), "task_completed");
    assert_eq!(EventType::TaskRetried.label_value(), "retry");
    assert_eq!(EventType::HTTPRequest.label_value(), "http_request");
    assert_eq!(Status::LABEL_VALUES, ["success", "failure"]);
}

#[test]
fn a_derived_struct_registers_and_exports_help_from_docs() {
    let registry = Registry::with_service("derive");
    let m = PoolMetrics::register(&registry).unwrap();
    m.events_total
        .with(EventType::TaskCreated, Status::Success)
        .inc();
    m.events_total
        .with(EventType::TaskRetried, Status::Failure)
        .inc_by(2);
    m.busy_workers.set(3);
    m.handle.with(EventType::TaskCreated).observe(0.05);

    let text = registry.encode_to_string();
    let s = Scrape::parse(&text);
    assert_eq!(
        s.help["derive_events_total"],
        "Events handled, by type and outcome."
    );
    assert_eq!(
        s.help["derive_busy_workers"],
        "Workers currently busy. Counts only workers holding an event."
    );
    assert_eq!(
        s.help["derive_handle_duration_seconds"],
        "Time spent handling one event."
    );
    assert_eq!(s.types["derive_handle_duration_seconds"], "histogram");
    assert_eq!(
        s.value(
            "derive_events_total",
            &[("event_type", "task_created"), ("status", "success")]
        ),
        1.0
    );
    assert_eq!(
        s.value(
            "derive_events_total",
            &[("event_type", "retry"), ("status", "failure")]
        ),
        2.0
    );
    assert_eq!(s.value("derive_busy_workers", &[]), 3.0);
    let les: Vec<&str> = s
        .find(
            "derive_handle_duration_seconds_bucket",
            &[("event_type", "task_created")],
        )
        .map(|b| b.label("le").unwrap())
        .collect();
    assert_eq!(les, ["0.01", "0.1", "1", "+Inf"]);
    asdlc_testkit::promtool::check_metrics(text.as_bytes()).unwrap();

    // Registering again shares the same metrics.
    let again = PoolMetrics::register(&registry).unwrap();
    again.busy_workers.inc();
    assert_eq!(m.busy_workers.get(), 4);
}

#[test]
fn a_conflicting_registration_is_an_error_and_detached_metrics_still_work() {
    let registry = Registry::with_service("derive");
    registry
        .register(
            &CounterVec::new("derive_events_total", "Taken by someone else.", &["queue"]).unwrap(),
        )
        .unwrap();
    let err = PoolMetrics::register(&registry).unwrap_err();
    assert!(
        matches!(&err, Error::Conflict { name, .. } if name == "derive_events_total"),
        "{err}"
    );

    let detached = PoolMetrics::detached();
    detached
        .events_total
        .with(EventType::TaskCreated, Status::Success)
        .inc();
    assert_eq!(
        detached
            .events_total
            .with(EventType::TaskCreated, Status::Success)
            .get(),
        1
    );
}

#[test]
fn global_registers_once_in_the_global_registry() {
    let a = PoolMetrics::global();
    let b = PoolMetrics::global();
    assert!(std::ptr::eq(a, b));
    a.busy_workers.set(9);
    let s = crate::common::scrape();
    assert_eq!(s.value("derive_busy_workers", &[]), 9.0);
}
