//! The standard `asdlc_*` metric set every service exports.

use std::sync::LazyLock;

use crate::{CounterVec, Gauge, GaugeVec, HistogramVec, Registry, ServiceInfo};

/// The standard metric set, registered in the global registry and declared
/// with `#[derive(Metrics)]` like any user's set: each field's doc comment
/// is its HELP text, and the derive lists the family names in
/// [`StandardMetrics::NAMES`].
///
/// | field | family | labels (besides `service`) |
/// |---|---|---|
/// | `service_info` | `asdlc_service_info` (always 1) | version |
/// | `http_requests_total` | `asdlc_http_requests_total` | method, endpoint, status |
/// | `http_request_duration_seconds` | `asdlc_http_request_duration_seconds` | method, endpoint |
/// | `http_requests_in_flight` | `asdlc_http_requests_in_flight` | method, endpoint |
/// | `events_processed_total` | `asdlc_events_processed_total` | event_type, status |
/// | `function_errors_total` | `asdlc_function_errors_total` (failures of instrumented functions whose error type names a reason) | function, module, reason |
/// | `active_tasks` | `asdlc_active_tasks` | — |
/// | `active_workers` | `asdlc_active_workers` | — |
/// | `redis_connection_up` | `asdlc_redis_connection_up` (1 up, 0 down) | — |
/// | `redis_operation_duration_seconds` | `asdlc_redis_operation_duration_seconds` | operation |
/// | `redis_operation_errors_total` | `asdlc_redis_operation_errors_total` | operation |
/// | `process_memory_bytes` | `asdlc_process_memory_bytes`, refreshed at scrape time (Linux; absent elsewhere) | type (`rss`, `virtual`) |
///
/// Get it with [`standard()`](crate::standard). Most fields are fed by the
/// macros, the middleware and the collectors; they are public so services
/// can record what those do not see.
///
/// ```
/// assert_eq!(asdlc_metrics::StandardMetrics::NAMES.len(), 12);
/// assert_eq!(asdlc_metrics::StandardMetrics::NAMES[0], "asdlc_service_info");
/// let m = asdlc_metrics::standard();
/// m.events_processed_total.with_label_values(&["task_created", "success"]).inc();
/// m.active_tasks.inc();
/// let text = asdlc_metrics::registry().encode_to_string();
/// assert!(text.contains("# TYPE asdlc_events_processed_total counter"));
/// ```
#[derive(Debug, Clone, crate::Metrics)]
#[metrics(prefix = "asdlc")]
#[non_exhaustive]
pub struct StandardMetrics {
    /// Service information.
    #[metric(labels(version))]
    pub service_info: GaugeVec,
    /// Total HTTP requests.
    #[metric(labels(method, endpoint, status))]
    pub http_requests_total: CounterVec,
    /// HTTP request latency in seconds.
    #[metric(labels(method, endpoint))]
    pub http_request_duration_seconds: HistogramVec,
    /// HTTP requests being served.
    #[metric(labels(method, endpoint))]
    pub http_requests_in_flight: GaugeVec,
    /// Total events processed.
    #[metric(labels(event_type, status))]
    pub events_processed_total: CounterVec,
    /// Failed calls to instrumented functions, by reason.
    #[metric(labels(function, module, reason))]
    pub function_errors_total: CounterVec,
    /// Number of currently active tasks.
    pub active_tasks: Gauge,
    /// Number of active workers.
    pub active_workers: Gauge,
    /// Redis connection status (1=up, 0=down).
    pub redis_connection_up: Gauge,
    /// Redis operation latency in seconds.
    #[metric(labels(operation), buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5])]
    pub redis_operation_duration_seconds: HistogramVec,
    /// Failed Redis operations.
    #[metric(labels(operation))]
    pub redis_operation_errors_total: CounterVec,
    /// Process memory usage in bytes.
    #[metric(labels(type))]
    pub process_memory_bytes: GaugeVec,
}

impl StandardMetrics {
    /// Exports `asdlc_service_info{version="<version>"} 1` for `service`,
    /// replacing any earlier version.
    pub(crate) fn set_service_info(&self, service: &ServiceInfo) {
        self.service_info.reset();
        self.service_info
            .with_label_values(&[service.version_str()])
            .set(1);
    }
}

/// The global registry together with the standard set registered in it.
struct Global {
    registry: Registry,
    standard: StandardMetrics,
}

static GLOBAL: LazyLock<Global> = LazyLock::new(|| {
    crate::clock::warm_up();
    let registry = Registry::new();
    let standard = StandardMetrics::register(&registry).unwrap_or_else(|err| {
        // Unreachable with a fresh registry; keep the service alive regardless.
        tracing::error!("asdlc_metrics: standard metrics not registered: {err}");
        StandardMetrics::detached()
    });
    standard.set_service_info(&crate::service_info());
    crate::collectors::register_defaults(&registry, &standard);
    Global { registry, standard }
});

/// The global registry: the standard `asdlc_*` metrics, the process
/// collectors, and whatever the macros and your code register. This is what
/// [`serve_metrics`](crate::serve_metrics) and the `/metrics` handler export.
///
/// ```
/// let text = asdlc_metrics::registry().encode_to_string();
/// assert!(text.contains("asdlc_service_info{"));
/// ```
pub fn registry() -> &'static Registry {
    &GLOBAL.registry
}

/// The standard metric set in the global registry.
pub fn standard() -> &'static StandardMetrics {
    &GLOBAL.standard
}
