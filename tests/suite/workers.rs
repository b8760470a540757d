//! The worker pool collector and event counting.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use asdlc_metrics::collectors::{WorkerPoolCollector, WorkerPoolSnapshot, WorkerPoolStats};
use asdlc_metrics::events::{self, EventStatus};
use asdlc_metrics::{CounterVec, Gauge, LabelValue, Registry};

use crate::common::scrape_of;

/// A pool that tracks its running workers in an atomic, as a real one would.
#[derive(Default)]
struct Pool {
    running: AtomicU64,
}

impl WorkerPoolStats for Pool {
    fn snapshot(&self) -> WorkerPoolSnapshot {
        WorkerPoolSnapshot::new(self.running.load(Ordering::Relaxed))
    }
}

#[test]
fn the_collector_refreshes_active_workers_at_each_scrape() {
    let registry = Registry::with_service("pool");
    let gauge = registry
        .register(&Gauge::new("asdlc_active_workers", "Number of active workers.").unwrap())
        .unwrap();
    let pool = Arc::new(Pool::default());
    registry.register_collector(WorkerPoolCollector::with_gauge(Arc::clone(&pool), gauge));

    let value = || scrape_of(&registry).value("asdlc_active_workers", &[]);
    assert_eq!(value(), 0.0);
    pool.running.store(4, Ordering::Relaxed);
    assert_eq!(value(), 4.0);
    pool.running.store(1, Ordering::Relaxed);
    assert_eq!(value(), 1.0);
    let text = registry.encode_to_string();
    assert_eq!(
        text.matches("# TYPE asdlc_active_workers").count(),
        1,
        "exported once"
    );
}

#[derive(LabelValue, Clone, Copy)]
enum EventType {
    TaskCreated,
    TaskCancelled,
}

#[test]
fn event_guards_count_success_and_everything_else_as_failure() {
    let registry = Registry::with_service("events");
    let family = registry
        .register(
            &CounterVec::new(
                "asdlc_events_processed_total",
                "Total events processed.",
                &["event_type", "status"],
            )
            .unwrap(),
        )
        .unwrap();

    events::track_in(&family, EventType::TaskCreated).success();
    events::track_in(&family, EventType::TaskCreated).success();
    let ok: Result<u8, String> = events::track_in(&family, EventType::TaskCreated).finish(Ok(1));
    assert_eq!(ok, Ok(1));
    let err: Result<u8, String> =
        events::track_in(&family, EventType::TaskCancelled).finish(Err("x".into()));
    assert!(err.is_err());
    events::track_in(&family, EventType::TaskCancelled).failure();
    drop(events::track_in(&family, EventType::TaskCancelled)); // never marked
    let panicked = std::panic::catch_unwind(|| {
        let _event = events::track_in(&family, EventType::TaskCancelled);
        panic!("handler failed");
    });
    assert!(panicked.is_err());

    let s = scrape_of(&registry);
    let count = |t: &str, status: EventStatus| {
        s.value(
            "asdlc_events_processed_total",
            &[("event_type", t), ("status", status.label_value())],
        )
    };
    assert_eq!(count("task_created", EventStatus::Success), 3.0);
    assert_eq!(count("task_created", EventStatus::Failed), 0.0);
    assert_eq!(count("task_cancelled", EventStatus::Failed), 4.0);
    assert_eq!(count("task_cancelled", EventStatus::Success), 0.0);
    // The seed design's values, which dashboards and alerts are written against.
    assert_eq!(EventStatus::LABEL_VALUES, ["success", "failed"]);
    assert_eq!(
        s.value(
            "asdlc_events_processed_total",
            &[("event_type", "task_cancelled"), ("status", "failed")]
        ),
        4.0
    );
}

#[test]
fn track_counts_into_the_standard_family() {
    #[derive(LabelValue, Clone, Copy)]
    enum Only {
        WorkersSuiteEvent,
    }
    events::track(Only::WorkersSuiteEvent).success();
    let s = crate::common::scrape();
    assert_eq!(
        s.value(
            "asdlc_events_processed_total",
            &[("event_type", "workers_suite_event"), ("status", "success")]
        ),
        1.0
    );
}
