//! Prometheus metrics for tokio/axum/Redis services with almost no code.
//!
//! ```no_run
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     asdlc_metrics::init("workers"); // service="workers" on every series
//!     let server = asdlc_metrics::serve_metrics("0.0.0.0:8081").await?; // /metrics + /health
//!     asdlc_metrics::standard().active_tasks.inc();
//!     # server.shutdown().await?;
//!     Ok(())
//! }
//! ```
//!
//! * `#[timed]`, `#[counted]`, `#[in_flight]` and `#[redis_op]` instrument
//!   functions at compile time; `#[derive(Metrics)]` declares metric structs
//!   and `#[derive(LabelValue)]` bounds label values by an enum (and, on
//!   an error enum, names the failure reasons: [`ErrorReason`]).
//! * [`init`] names the service; [`registry()`] is the global registry and
//!   [`standard()`] the standard `asdlc_*` metric set in it.
//! * [`Counter`], [`Gauge`], [`Histogram`] and their labelled families
//!   ([`CounterVec`], …) are this crate's own metric types, cheap on the hot
//!   path; metrics of the `prometheus` crate can be registered as well.
//! * [`metric`] holds the types behind them (families, series, cells,
//!   [`Desc`](metric::Desc)) and [`encoding`] the text format writers, for
//!   code that implements [`Metric`] or [`Collector`].
//! * [`Collector`]s run at scrape time; a failing one is logged and counted
//!   in `asdlc_collector_errors_total`, never fatal.
//! * [`exemplar`]: the trace of a request next to the bucket it was counted
//!   in (OpenMetrics exemplars), from OpenTelemetry (feature
//!   `opentelemetry`), a `traceparent` header or a `trace_id` span field.
//! * [`collectors`]: worker pool and process memory; [`events`]: counting
//!   processed events with a guard.
//! * With the `axum` feature (default): [`exposition`] (the `/metrics`
//!   handler), [`serve_metrics`], [`MetricsLayer`] (per-route HTTP
//!   metrics) and [`server`]: [`serve_app`], a server for any router with
//!   header, body and shutdown timeouts, and JSON error answers.
//! * With `redis` (default): [`redis_metrics`] — an instrumented connection
//!   with bounded commands, a reconnect policy for `ConnectionManager`, and
//!   a background health check feeding `asdlc_redis_connection_up`.
//! * With `proxy` (default): [`proxy`] — `/api/metrics/*` forwarding PromQL
//!   to VictoriaMetrics.
//!
//! Every series carries `service="<name>"`, exported once with one type.
#![deny(missing_docs)]
#![forbid(unsafe_code)]

// Lets the derive macros' `::asdlc_metrics::…` paths resolve inside this
// crate too (the standard metric set is declared with `#[derive(Metrics)]`).
extern crate self as asdlc_metrics;

mod clock;
pub mod collectors;
pub mod encoding;
mod error;
mod error_reason;
pub mod events;
pub mod exemplar;
mod identity;
mod instrument;
mod log;
pub mod metric;
mod objective;
#[cfg(feature = "redis")]
pub mod redis_metrics;
mod registry;
mod standard;

#[cfg(feature = "axum")]
pub mod exposition;
#[cfg(feature = "axum")]
pub mod middleware;
#[cfg(feature = "proxy")]
pub mod proxy;
#[cfg(feature = "axum")]
pub mod server;

#[doc(hidden)]
pub use instrument::__private;

pub use collectors::{CollectError, Collector, CollectorOutput};
pub use error::Error;
pub use error_reason::ErrorReason;
pub use identity::{ServiceInfo, init, service_info, service_name};
pub use metric::{
    Counter, CounterVec, Gauge, GaugeVec, Histogram, HistogramVec, LabelValue, Metric, MetricKind,
    Opts,
};
#[cfg(feature = "axum")]
pub use middleware::MetricsLayer;
pub use objective::Objective;
pub use registry::Registry;
#[cfg(feature = "axum")]
pub use server::{
    MetricsServer, ServeError, ServerConfig, metrics_app, serve_app, serve_metrics, serve_registry,
};
pub use standard::{StandardMetrics, registry, standard};

pub(crate) use log::log_limited;

// The macros, re-exported so users depend on this crate only; their
// documentation lives here, where users read it.
#[doc = include_str!("../docs/macros/label_value.md")]
pub use asdlc_metrics_macros::LabelValue;
#[doc = include_str!("../docs/macros/metrics.md")]
pub use asdlc_metrics_macros::Metrics;
#[doc = include_str!("../docs/macros/counted.md")]
pub use asdlc_metrics_macros::counted;
#[doc = include_str!("../docs/macros/in_flight.md")]
pub use asdlc_metrics_macros::in_flight;
#[doc = include_str!("../docs/macros/redis_op.md")]
pub use asdlc_metrics_macros::redis_op;
#[doc = include_str!("../docs/macros/timed.md")]
pub use asdlc_metrics_macros::timed;
