//! Exemplars: the trace of one request next to the bucket (or counter) it
//! was counted in, so that a slow bucket leads to a slow request's trace.
//!
//! Histogram buckets and counters created by this crate keep the last
//! exemplar recorded into each bucket, with its timestamp. They are written
//! only in the OpenMetrics format (`# {trace_id="…",span_id="…"} value
//! timestamp`), which [`exposition`](crate::exposition) serves to clients
//! that ask for it — Prometheus does — and text 0.0.4 stays as it was.
//!
//! `#[timed]`, `#[counted]`, `#[redis_op]`, [`MetricsLayer`](crate::MetricsLayer)
//! and [`events::track`](crate::events::track) attach one whenever the call
//! runs in a trace, found in this order:
//!
//! 1. the current OpenTelemetry span context (cargo feature
//!    `opentelemetry`);
//! 2. for `MetricsLayer`, the request's W3C `traceparent` header (malformed
//!    or all-zero ids are ignored); the handler runs with it as the current
//!    context, so functions it calls attach it too;
//! 3. a `trace_id` field on the current `tracing` span, read by
//!    [`TraceIdLayer`].
//!
//! Without any of them a call costs one thread-local read more than before.
//! The typed API takes a context explicitly:
//!
//! ```
//! use asdlc_metrics::exemplar::TraceContext;
//! use asdlc_metrics::{Counter, Histogram, Registry};
//! use asdlc_metrics::encoding::Format;
//!
//! let registry = Registry::with_service("demo");
//! let latency = registry.register(&Histogram::with_buckets("asdlc_demo_duration_seconds", "Demo.", &[0.1, 1.0])?)?;
//! let trace = TraceContext::from_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
//! latency.observe_with_exemplar(0.3, trace);
//!
//! let text = String::from_utf8(registry.encode_format(Format::OpenMetrics)).unwrap();
//! assert!(text.contains(
//!     r#"asdlc_demo_duration_seconds_bucket{service="demo",le="1"} 1 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 0.3 "#
//! ));
//! assert!(!registry.encode_to_string().contains("trace_id"), "never in text 0.0.4");
//! # Ok::<(), asdlc_metrics::Error>(())
//! ```

pub(crate) mod current;
mod hex;
mod layer;
#[cfg(feature = "opentelemetry")]
mod otel;
mod trace_context;

pub use layer::TraceIdLayer;
pub(crate) use trace_context::ID_WORDS;
pub use trace_context::TraceContext;
