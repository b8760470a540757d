//! The exposition lines of each standard metric: names, TYPE, HELP, labels,
//! buckets with `+Inf`, `_sum` and `_count`.

use asdlc_metrics::{Registry, StandardMetrics};
use asdlc_testkit::exposition::Scrape;

use crate::common::{init_global, scrape_of};

const REQUEST_BUCKETS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];
const REDIS_BUCKETS: [&str; 9] = [
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "+Inf",
];

/// The global registry after one series in each labelled standard family
/// (a labelled family without series is not exported). Other tests share
/// it, so only shapes are asserted on this scrape, never counts.
fn standard_scrape() -> Scrape {
    init_global();
    let m = asdlc_metrics::standard();
    m.http_requests_total
        .with_label_values(&["POST", "/api/tasks", "201"])
        .inc_by(3);
    m.http_request_duration_seconds
        .with_label_values(&["POST", "/api/tasks"])
        .observe(0.007);
    m.http_request_duration_seconds
        .with_label_values(&["POST", "/api/tasks"])
        .observe(3.0);
    m.events_processed_total
        .with_label_values(&["exposition_test", "success"])
        .inc_by(2);
    m.redis_operation_duration_seconds
        .with_label_values(&["exposition_xadd"])
        .observe(0.002);
    crate::common::scrape()
}

#[test]
fn types_and_help_of_the_standard_set() {
    let s = standard_scrape();
    let expected = [
        ("asdlc_service_info", "gauge", "Service information."),
        (
            "asdlc_http_requests_total",
            "counter",
            "Total HTTP requests.",
        ),
        (
            "asdlc_http_request_duration_seconds",
            "histogram",
            "HTTP request latency in seconds.",
        ),
        (
            "asdlc_events_processed_total",
            "counter",
            "Total events processed.",
        ),
        (
            "asdlc_active_tasks",
            "gauge",
            "Number of currently active tasks.",
        ),
        ("asdlc_active_workers", "gauge", "Number of active workers."),
        (
            "asdlc_redis_connection_up",
            "gauge",
            "Redis connection status (1=up, 0=down).",
        ),
        (
            "asdlc_redis_operation_duration_seconds",
            "histogram",
            "Redis operation latency in seconds.",
        ),
    ];
    for (name, kind, help) in expected {
        assert_eq!(s.types.get(name).map(String::as_str), Some(kind), "{name}");
        assert_eq!(s.help.get(name).map(String::as_str), Some(help), "{name}");
    }
    #[cfg(target_os = "linux")]
    {
        assert_eq!(s.types["asdlc_process_memory_bytes"], "gauge");
        assert_eq!(
            s.help["asdlc_process_memory_bytes"],
            "Process memory usage in bytes."
        );
    }
}

#[test]
fn service_info_is_one_with_service_and_version() {
    let s = standard_scrape();
    let info: Vec<_> = s.find("asdlc_service_info", &[]).collect();
    assert_eq!(info.len(), 1, "{info:?}");
    assert_eq!(info[0].value, 1.0);
    assert_eq!(info[0].label("service"), Some("suite"));
    assert_eq!(info[0].label("version"), Some("9.9.9"));
    assert_eq!(info[0].labels.len(), 2);
}

#[test]
fn unlabelled_gauges_have_only_the_service_label() {
    let s = standard_scrape();
    for name in [
        "asdlc_active_tasks",
        "asdlc_active_workers",
        "asdlc_redis_connection_up",
    ] {
        let found: Vec<_> = s.find(name, &[]).collect();
        assert_eq!(found.len(), 1, "{name}");
        assert_eq!(
            found[0].labels.keys().collect::<Vec<_>>(),
            ["service"],
            "{name}"
        );
    }
}

/// The standard set in a registry of its own, so counts are exact.
fn private_standard() -> (Registry, StandardMetrics) {
    let registry = Registry::with_service("exposition");
    let metrics = StandardMetrics::register(&registry).unwrap();
    (registry, metrics)
}

/// `(le, cumulative count)` of each bucket of the series matching `labels`.
fn buckets(s: &Scrape, family: &str, labels: &[(&str, &str)]) -> Vec<(String, f64)> {
    s.find(&format!("{family}_bucket"), labels)
        .map(|b| (b.label("le").unwrap().to_owned(), b.value))
        .collect()
}

#[test]
fn http_histogram_has_every_bucket_plus_inf_sum_and_count() {
    let (registry, m) = private_standard();
    let labels = [("method", "POST"), ("endpoint", "/api/tasks")];
    let series = m
        .http_request_duration_seconds
        .with_label_values(&["POST", "/api/tasks"]);
    series.observe(0.007);
    series.observe(3.0);
    let s = scrape_of(&registry);

    // 0.007 lands in le=0.01 and above; 3.0 in le=5 and above.
    let expected: Vec<(String, f64)> = REQUEST_BUCKETS
        .iter()
        .map(|le| {
            let count = match *le {
                "0.005" => 0.0,
                "5" | "10" | "+Inf" => 2.0,
                _ => 1.0,
            };
            ((*le).to_owned(), count)
        })
        .collect();
    let family = "asdlc_http_request_duration_seconds";
    assert_eq!(buckets(&s, family, &labels), expected);
    assert_eq!(s.value(&format!("{family}_count"), &labels), 2.0);
    assert!((s.value(&format!("{family}_sum"), &labels) - 3.007).abs() < 1e-9);
    for b in s.find(&format!("{family}_bucket"), &labels) {
        assert_eq!(
            b.labels.keys().collect::<Vec<_>>(),
            ["endpoint", "le", "method", "service"]
        );
    }
}

#[test]
fn redis_histogram_uses_the_redis_buckets() {
    let (registry, m) = private_standard();
    m.redis_operation_duration_seconds
        .with_label_values(&["xadd"])
        .observe(0.002);
    let s = scrape_of(&registry);
    let labels = [("operation", "xadd")];
    let family = "asdlc_redis_operation_duration_seconds";
    let expected: Vec<(String, f64)> = REDIS_BUCKETS
        .iter()
        .map(|le| ((*le).to_owned(), if *le == "0.001" { 0.0 } else { 1.0 }))
        .collect();
    assert_eq!(buckets(&s, family, &labels), expected);
    assert_eq!(s.value(&format!("{family}_count"), &labels), 1.0);
    assert!((s.value(&format!("{family}_sum"), &labels) - 0.002).abs() < 1e-12);
}

#[test]
fn counters_carry_their_labels() {
    let (registry, m) = private_standard();
    m.http_requests_total
        .with_label_values(&["POST", "/api/tasks", "201"])
        .inc_by(3);
    m.events_processed_total
        .with_label_values(&["task_created", "success"])
        .inc_by(2);
    let s = scrape_of(&registry);
    let request = s
        .find("asdlc_http_requests_total", &[])
        .next()
        .expect("one request series");
    assert_eq!(request.value, 3.0);
    assert_eq!(
        request
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect::<Vec<_>>(),
        [
            ("endpoint", "/api/tasks"),
            ("method", "POST"),
            ("service", "exposition"),
            ("status", "201")
        ]
    );
    assert_eq!(
        s.value(
            "asdlc_events_processed_total",
            &[("event_type", "task_created"), ("status", "success")]
        ),
        2.0
    );
    assert_eq!(s.find("asdlc_http_requests_total", &[]).count(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn process_memory_is_read_at_scrape_time() {
    let s = standard_scrape();
    let rss = s.value("asdlc_process_memory_bytes", &[("type", "rss")]);
    let virt = s.value("asdlc_process_memory_bytes", &[("type", "virtual")]);
    assert!(rss > 1024.0 * 1024.0, "rss {rss}");
    assert!(virt >= rss, "virtual {virt} < rss {rss}");
    assert!(s.value("process_resident_memory_bytes", &[]) > 0.0);
}

/// The body of a plain `/metrics` answer for `registry`, as the server
/// sends it.
async fn served(registry: &Registry) -> axum::body::Bytes {
    let response = asdlc_metrics::exposition::respond(registry, &axum::http::HeaderMap::new());
    axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap()
}

/// A scrape writes into the buffer of the previous one once its body was
/// sent (issue 14: no fresh 120 MB per scrape of a million series), and the
/// bytes stay exactly those of a fresh buffer, also after the registry
/// shrank (nothing of the longer previous scrape is left at the end).
#[tokio::test]
async fn a_recycled_scrape_buffer_gives_the_same_bytes() {
    let registry = Registry::with_service("recycle");
    let family = registry
        .register(
            &asdlc_metrics::CounterVec::new("asdlc_recycle_total", "Recycled.", &["k"]).unwrap(),
        )
        .unwrap();
    for i in 0..500u64 {
        family.with_label_values(&[&i.to_string()]).inc_by(i);
    }
    let first = served(&registry).await;
    let mut fresh = Vec::new();
    registry.encode(&mut fresh);
    assert_eq!(first, fresh);
    let memory = first.as_ptr();
    drop(first);

    for i in 0..400u64 {
        assert!(family.remove_label_values(&[&i.to_string()]));
    }
    let second = served(&registry).await;
    assert_eq!(
        second.as_ptr(),
        memory,
        "the first scrape's buffer was reused"
    );
    let mut fresh = Vec::new();
    registry.encode(&mut fresh);
    assert_eq!(second, fresh);
    assert!(!String::from_utf8_lossy(&second).contains("k=\"399\""));
}
