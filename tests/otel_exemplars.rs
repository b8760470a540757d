//! The OpenTelemetry source of exemplars (feature `opentelemetry`), end to
//! end: a `#[timed]` function called inside an OpenTelemetry span context
//! is read back from a real Prometheus with that trace id.
//!
//! `cargo test -p asdlc-metrics-workspace --test otel_exemplars`: the root
//! package's dev-dependencies build the runtime crate with the feature.

use std::time::Duration;

use asdlc_metrics::timed;
use asdlc_testkit::prometheus::{Job, Prometheus};
use axum::Router;
use axum::routing::get;
use opentelemetry::trace::{
    SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
};

const TRACE: [u8; 16] = [
    0x5b, 0x8e, 0xfb, 0xf3, 0x11, 0x42, 0x4a, 0x8d, 0x9c, 0x2e, 0x61, 0x0d, 0x7f, 0x33, 0x01, 0x9a,
];
const SPAN: [u8; 8] = [0x0d, 0x1e, 0x2f, 0x30, 0x41, 0x52, 0x63, 0x74];

#[timed]
async fn traced_by_opentelemetry() -> Result<u32, String> {
    tokio::task::yield_now().await;
    Ok(1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_gets_the_opentelemetry_trace_id_of_a_timed_call() {
    asdlc_metrics::init("otel");
    let app = Router::new().route("/metrics", get(asdlc_metrics::exposition::metrics_handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    let prometheus = Prometheus::start(&[Job::new("otel", addr)]).await.unwrap();

    let context = opentelemetry::Context::current().with_remote_span_context(SpanContext::new(
        TraceId::from_bytes(TRACE),
        SpanId::from_bytes(SPAN),
        TraceFlags::SAMPLED,
        true,
        TraceState::default(),
    ));
    // The context is current while the call is polled (and so when its
    // guard records at completion).
    let result =
        opentelemetry::trace::FutureExt::with_context(traced_by_opentelemetry(), context).await;
    assert_eq!(result, Ok(1));

    let trace_id: String = TRACE.iter().map(|b| format!("{b:02x}")).collect();
    let span_id: String = SPAN.iter().map(|b| format!("{b:02x}")).collect();
    let selector =
        r#"asdlc_function_duration_seconds_bucket{job="otel",function="traced_by_opentelemetry"}"#;
    let exemplar = prometheus
        .wait_for(Duration::from_secs(40), || async {
            let series = prometheus.query_exemplars(selector).await?;
            series
                .iter()
                .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
                .find(|e| e["labels"]["trace_id"] == trace_id.as_str())
                .ok_or_else(|| format!("no exemplar {trace_id} yet: {series:?}"))
        })
        .await
        .unwrap();
    assert_eq!(exemplar["labels"]["span_id"], span_id.as_str());
    let value: f64 = exemplar["value"].as_str().unwrap().parse().unwrap();
    assert!(value >= 0.0, "{exemplar}");
}
