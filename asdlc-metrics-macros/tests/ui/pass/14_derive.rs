use asdlc_metrics::{CounterVec, Gauge, HistogramVec, LabelValue, Metrics, Registry};

#[derive(LabelValue, Clone, Copy)]
enum EventType {
    TaskCreated,
    #[label(rename = "done")]
    TaskCompleted,
}

#[derive(LabelValue, Clone, Copy)]
enum Status {
    Success,
    Failure,
}

/// Worker metrics.
#[derive(Metrics)]
#[metrics(prefix = "app")]
struct WorkerMetrics {
    /// Events processed, by type and outcome.
    #[metric(labels(event_type, status))]
    events_processed_total: CounterVec<(EventType, Status)>,
    /// Workers busy right now.
    busy_workers: Gauge,
    /// Time to handle one event.
    #[metric(name = "app_handle_duration_seconds", labels(event_type), buckets = [0.01, 0.1, 1])]
    handle: HistogramVec,
    /// A prometheus crate counter works too.
    legacy_total: prometheus::IntCounter,
    /// And a labelled one.
    #[metric(labels(kind))]
    legacy_by_kind_total: prometheus::IntCounterVec,
}

fn main() {
    let registry = Registry::with_service("ui");
    let m = WorkerMetrics::register(&registry).unwrap();
    m.events_processed_total.with(EventType::TaskCreated, Status::Success).inc();
    m.busy_workers.set(2);
    m.handle.with_label_values(&["x"]).observe(0.2);
    m.legacy_total.inc();
    m.legacy_by_kind_total.with_label_values(&["a"]).inc();
    let _global: &'static WorkerMetrics = WorkerMetrics::global();
    let _detached = WorkerMetrics::detached();
    assert_eq!(EventType::TaskCompleted.label_value(), "done");
    assert_eq!(EventType::LABEL_VALUES, ["task_created", "done"]);
    assert_eq!(Status::Failure.label_value(), "failure");
    let text = registry.encode_to_string();
    assert!(text.contains("# HELP app_events_processed_total Events processed, by type and outcome."));
    assert!(text.contains("app_events_processed_total{service=\"ui\",event_type=\"task_created\",status=\"success\"} 1"));
}
