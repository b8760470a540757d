//! The exposition lines of each standard metric: names, TYPE, HELP, labels,
//! buckets with `+Inf`, `_sum` and `_count`.

use asdlc_metrics_workspace::exposition::Scrape;

use crate::common::init_global;

const REQUEST_BUCKETS: [&str; 12] = [
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf",
];
const REDIS_BUCKETS: [&str; 9] = [
    "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "+Inf",
];

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
    Scrape::parse(&asdlc_metrics::registry().encode_to_string())
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

#[test]
fn http_histogram_has_every_bucket_plus_inf_sum_and_count() {
    let s = standard_scrape();
    let labels = [("method", "POST"), ("endpoint", "/api/tasks")];
    let buckets: Vec<_> = s
        .find("asdlc_http_request_duration_seconds_bucket", &labels)
        .collect();
    let les: Vec<&str> = buckets.iter().map(|b| b.label("le").unwrap()).collect();
    assert_eq!(les, REQUEST_BUCKETS);
    // 0.007 lands in le=0.01 and above; 3.0 in le=5 and above.
    let count_at = |le: &str| {
        buckets
            .iter()
            .find(|b| b.label("le") == Some(le))
            .unwrap()
            .value
    };
    assert_eq!(count_at("0.005"), 0.0);
    assert!(count_at("0.01") >= 1.0);
    assert!(count_at("+Inf") >= 2.0);
    assert_eq!(
        s.value("asdlc_http_request_duration_seconds_count", &labels),
        count_at("+Inf")
    );
    assert!(s.value("asdlc_http_request_duration_seconds_sum", &labels) >= 3.007 - 1e-9);
    for b in &buckets {
        assert_eq!(
            b.labels.keys().collect::<Vec<_>>(),
            ["endpoint", "le", "method", "service"]
        );
    }
}

#[test]
fn redis_histogram_uses_the_redis_buckets() {
    asdlc_metrics::standard()
        .redis_operation_duration_seconds
        .with_label_values(&["exposition_xadd"])
        .observe(0.002);
    let s = standard_scrape();
    let labels = [("operation", "exposition_xadd")];
    let les: Vec<&str> = s
        .find("asdlc_redis_operation_duration_seconds_bucket", &labels)
        .map(|b| b.label("le").unwrap())
        .collect();
    assert_eq!(les, REDIS_BUCKETS);
    assert_eq!(
        s.value("asdlc_redis_operation_duration_seconds_count", &labels),
        1.0
    );
    assert!((s.value("asdlc_redis_operation_duration_seconds_sum", &labels) - 0.002).abs() < 1e-12);
}

#[test]
fn counters_carry_their_labels() {
    let s = standard_scrape();
    assert!(
        s.value(
            "asdlc_http_requests_total",
            &[
                ("method", "POST"),
                ("endpoint", "/api/tasks"),
                ("status", "201")
            ]
        ) >= 3.0
    );
    assert_eq!(
        s.value(
            "asdlc_events_processed_total",
            &[("event_type", "exposition_test"), ("status", "success")]
        ),
        2.0
    );
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
