//! The standard `asdlc_*` metric set every service exports.

use std::sync::LazyLock;

use crate::{CounterVec, Error, Gauge, GaugeVec, HistogramVec, Opts, Registry, ServiceInfo};

/// Buckets of `asdlc_redis_operation_duration_seconds` (seconds).
pub const REDIS_BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5];

/// The standard metric set (DESIGN.md), registered in the global registry.
///
/// Get it with [`standard()`](crate::standard). Most fields are fed by the
/// macros, the middleware and the collectors; they are public so services
/// can record what those do not see.
///
/// ```
/// let m = asdlc_metrics::standard();
/// m.events_processed_total.with_label_values(&["task_created", "success"]).inc();
/// m.active_tasks.inc();
/// let text = asdlc_metrics::registry().encode_to_string();
/// assert!(text.contains("# TYPE asdlc_events_processed_total counter"));
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct StandardMetrics {
    /// `asdlc_service_info{version} 1`.
    pub service_info: GaugeVec,
    /// `asdlc_http_requests_total{method, endpoint, status}`.
    pub http_requests_total: CounterVec,
    /// `asdlc_http_request_duration_seconds{method, endpoint}`.
    pub http_request_duration_seconds: HistogramVec,
    /// `asdlc_http_requests_in_flight{method, endpoint}` (beyond the table:
    /// fed by the HTTP middleware).
    pub http_requests_in_flight: GaugeVec,
    /// `asdlc_events_processed_total{event_type, status}`.
    pub events_processed_total: CounterVec,
    /// `asdlc_active_tasks`.
    pub active_tasks: Gauge,
    /// `asdlc_active_workers`.
    pub active_workers: Gauge,
    /// `asdlc_redis_connection_up` (1 up, 0 down).
    pub redis_connection_up: Gauge,
    /// `asdlc_redis_operation_duration_seconds{operation}`.
    pub redis_operation_duration_seconds: HistogramVec,
    /// `asdlc_redis_operation_errors_total{operation}` (beyond the table:
    /// fed by `#[redis_op]` and the instrumented connection).
    pub redis_operation_errors_total: CounterVec,
    /// `asdlc_process_memory_bytes{type}` (`rss`, `virtual`), refreshed at
    /// scrape time on Linux; absent elsewhere.
    pub process_memory_bytes: GaugeVec,
}

impl StandardMetrics {
    /// Builds the set and registers it in `registry`.
    ///
    /// # Errors
    /// [`Error::Conflict`] when one of the names is already registered with
    /// another shape.
    pub fn register(registry: &Registry) -> Result<Self, Error> {
        let m = Self::unregistered();
        Ok(StandardMetrics {
            service_info: registry.register(&m.service_info)?,
            http_requests_total: registry.register(&m.http_requests_total)?,
            http_request_duration_seconds: registry.register(&m.http_request_duration_seconds)?,
            http_requests_in_flight: registry.register(&m.http_requests_in_flight)?,
            events_processed_total: registry.register(&m.events_processed_total)?,
            active_tasks: registry.register(&m.active_tasks)?,
            active_workers: registry.register(&m.active_workers)?,
            redis_connection_up: registry.register(&m.redis_connection_up)?,
            redis_operation_duration_seconds: registry
                .register(&m.redis_operation_duration_seconds)?,
            redis_operation_errors_total: registry.register(&m.redis_operation_errors_total)?,
            process_memory_bytes: registry.register(&m.process_memory_bytes)?,
        })
    }

    fn unregistered() -> Self {
        use crate::__private::build_static as build;
        StandardMetrics {
            service_info: build(
                Opts::new("asdlc_service_info", "Service information.").labels(["version"]),
            ),
            http_requests_total: build(
                Opts::new("asdlc_http_requests_total", "Total HTTP requests.")
                    .labels(["method", "endpoint", "status"]),
            ),
            http_request_duration_seconds: build(
                Opts::new(
                    "asdlc_http_request_duration_seconds",
                    "HTTP request latency in seconds.",
                )
                .labels(["method", "endpoint"]),
            ),
            http_requests_in_flight: build(
                Opts::new(
                    "asdlc_http_requests_in_flight",
                    "HTTP requests being served.",
                )
                .labels(["method", "endpoint"]),
            ),
            events_processed_total: build(
                Opts::new("asdlc_events_processed_total", "Total events processed.")
                    .labels(["event_type", "status"]),
            ),
            active_tasks: build(Opts::new(
                "asdlc_active_tasks",
                "Number of currently active tasks.",
            )),
            active_workers: build(Opts::new(
                "asdlc_active_workers",
                "Number of active workers.",
            )),
            redis_connection_up: build(Opts::new(
                "asdlc_redis_connection_up",
                "Redis connection status (1=up, 0=down).",
            )),
            redis_operation_duration_seconds: build(
                Opts::new(
                    "asdlc_redis_operation_duration_seconds",
                    "Redis operation latency in seconds.",
                )
                .labels(["operation"])
                .buckets(REDIS_BUCKETS.iter().copied()),
            ),
            redis_operation_errors_total: build(
                Opts::new(
                    "asdlc_redis_operation_errors_total",
                    "Failed Redis operations.",
                )
                .labels(["operation"]),
            ),
            process_memory_bytes: build(
                Opts::new(
                    "asdlc_process_memory_bytes",
                    "Process memory usage in bytes.",
                )
                .labels(["type"]),
            ),
        }
    }

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
    let registry = Registry::new();
    let standard = StandardMetrics::register(&registry).unwrap_or_else(|err| {
        // Unreachable with a fresh registry; keep the service alive regardless.
        tracing::error!("asdlc_metrics: standard metrics not registered: {err}");
        StandardMetrics::unregistered()
    });
    standard.set_service_info(&crate::service_info());
    crate::collectors::register_defaults(&registry, &standard);
    Global { registry, standard }
});

pub(crate) fn global() -> &'static StandardMetrics {
    &GLOBAL.standard
}

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

impl StandardMetrics {
    /// The names of the nine standard families.
    ///
    /// ```
    /// assert_eq!(asdlc_metrics::StandardMetrics::NAMES.len(), 9);
    /// ```
    pub const NAMES: [&'static str; 9] = [
        "asdlc_service_info",
        "asdlc_http_requests_total",
        "asdlc_http_request_duration_seconds",
        "asdlc_events_processed_total",
        "asdlc_active_tasks",
        "asdlc_active_workers",
        "asdlc_redis_connection_up",
        "asdlc_redis_operation_duration_seconds",
        "asdlc_process_memory_bytes",
    ];
}
