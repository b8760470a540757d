//! Exemplars end to end: a real Prometheus (`--enable-feature=exemplar-storage`)
//! scrapes services of this test in OpenMetrics every second and must hand
//! back, through `/api/v1/query_exemplars`, the trace ids the requests and
//! calls ran in; its strict OpenMetrics parser is the format check.

use std::net::SocketAddr;
use std::time::Duration;

use asdlc_metrics::exemplar::TraceIdLayer;
use asdlc_metrics::{GaugeVec, MetricsLayer, Registry, timed};
use asdlc_testkit::prometheus::{Job, Prometheus};
use asdlc_testkit::{http, promtool};
use axum::Router;
use axum::http::HeaderMap;
use axum::routing::get;
use proptest::strategy::{Strategy as _, ValueTree as _};
use proptest::test_runner::TestRunner;
use tracing_subscriber::layer::SubscriberExt as _;

use crate::common::init_global;

/// How long a test waits for Prometheus to have scraped what it needs
/// (scrapes come every second): a hang guard.
const SCRAPED: Duration = Duration::from_secs(40);

const REQUEST_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_FIELD_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

/// Serves `app` on a free loopback port for the rest of the test process.
async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// The trace ids Prometheus holds as exemplars of the series `selector`
/// selects; `Err` (to retry) until `trace_id` is among them.
async fn exemplar_with(
    prometheus: &Prometheus,
    selector: &str,
    trace_id: &str,
) -> Result<serde_json::Value, String> {
    let series = prometheus.query_exemplars(selector).await?;
    series
        .iter()
        .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
        .find(|e| e["labels"]["trace_id"] == trace_id)
        .ok_or_else(|| format!("no exemplar with trace_id {trace_id} on {selector}: {series:?}"))
}

/// Every target of `job` is up with an empty `lastError`, and Prometheus
/// rejected no exemplar (a scrape repeating an exemplar with a moved
/// timestamp is logged as out of order).
async fn healthy(prometheus: &Prometheus, job: &str) -> Result<(), String> {
    let log = prometheus.log_tail();
    if log.contains("exemplar") {
        return Err(format!("prometheus logged about exemplars:\n{log}"));
    }
    let targets = prometheus.targets().await?;
    let mine: Vec<_> = targets
        .iter()
        .filter(|t| t["labels"]["job"] == job)
        .collect();
    if mine.is_empty() {
        return Err(format!("no target of job {job}: {targets:?}"));
    }
    for t in mine {
        if t["health"] != "up" || t["lastError"] != "" {
            return Err(format!("target of job {job} not healthy: {t}"));
        }
    }
    let up = prometheus.query(&format!("up{{job=\"{job}\"}}")).await?;
    match up.first().and_then(|s| s["value"][1].as_str()) {
        Some("1") => Ok(()),
        other => Err(format!("up{{job=\"{job}\"}} is {other:?}")),
    }
}

#[timed]
fn traced_by_span_field() -> u32 {
    7
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_gets_trace_ids_from_traceparent_and_span_fields() {
    init_global();
    let app = Router::new()
        .route("/exemplars/{id}", get(|| async { "ok" }))
        .route("/metrics", get(asdlc_metrics::exposition::metrics_handler))
        .layer(MetricsLayer::new());
    let addr = serve(app).await;
    let prometheus = Prometheus::start(&[Job::new("exemplars", addr)])
        .await
        .unwrap();

    let client = http::client();
    let traceparent = format!("00-{REQUEST_TRACE}-00f067aa0ba902b7-01");
    for id in 0..3 {
        let answer = client
            .get(format!("http://{addr}/exemplars/{id}"))
            .header("traceparent", &traceparent)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    // A malformed header is ignored: recorded, no exemplar, no error.
    let answer = client
        .get(format!("http://{addr}/exemplars/9"))
        .header("traceparent", "00-zz-00f067aa0ba902b7-01")
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);

    let subscriber = tracing_subscriber::registry().with(TraceIdLayer::new());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("job", trace_id = SPAN_FIELD_TRACE).in_scope(traced_by_span_field);
    });

    let from_request = prometheus
        .wait_for(SCRAPED, || {
            exemplar_with(
                &prometheus,
                r#"asdlc_http_request_duration_seconds_bucket{job="exemplars",endpoint="/exemplars/{id}"}"#,
                REQUEST_TRACE,
            )
        })
        .await
        .unwrap();
    assert_eq!(from_request["labels"]["span_id"], "00f067aa0ba902b7");
    prometheus
        .wait_for(SCRAPED, || {
            exemplar_with(
                &prometheus,
                r#"asdlc_http_requests_total{job="exemplars",endpoint="/exemplars/{id}",status="200"}"#,
                REQUEST_TRACE,
            )
        })
        .await
        .unwrap();
    let from_span = prometheus
        .wait_for(SCRAPED, || {
            exemplar_with(
                &prometheus,
                r#"asdlc_function_duration_seconds_bucket{job="exemplars",function="traced_by_span_field"}"#,
                SPAN_FIELD_TRACE,
            )
        })
        .await
        .unwrap();
    assert!(from_span["labels"].get("span_id").is_none(), "{from_span}");

    // Prometheus' OpenMetrics parser is strict: the target is up with no
    // error, and the exemplars above prove it was read as OpenMetrics.
    prometheus
        .wait_for(SCRAPED, || healthy(&prometheus, "exemplars"))
        .await
        .unwrap();

    // A client that does not ask for OpenMetrics still gets text 0.0.4,
    // exemplar-free, with no promtool findings.
    let text = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        text.headers()["content-type"],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let text = text.bytes().await.unwrap();
    assert!(!String::from_utf8_lossy(&text).contains("trace_id"));
    promtool::check_metrics(&text).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn label_values_read_back_the_same_through_both_formats() {
    // Values with quotes, backslashes, newlines, tabs and non-ASCII, drawn
    // afresh on every run (printed on failure).
    let strategy = proptest::collection::vec("[\"\\\\\n\t a-zA-Z0-9_.:/{}=,#é€日本😀]{1,16}", 48);
    let mut runner = TestRunner::default();
    let values = strategy.new_tree(&mut runner).unwrap().current();

    let registry = Registry::with_service("roundtrip");
    let family = registry
        .register(
            &GaugeVec::new(
                "asdlc_roundtrip_value",
                "Generated label values.",
                &["case", "value"],
            )
            .unwrap(),
        )
        .unwrap();
    for (case, value) in values.iter().enumerate() {
        family
            .with_label_values(&[&case.to_string(), value])
            .set(i64::try_from(case).unwrap());
    }
    let negotiated = registry.clone();
    let app = Router::new()
        .route(
            "/metrics",
            asdlc_metrics::exposition::metrics_route(negotiated),
        )
        // The same registry in text 0.0.4 whatever the client asks for.
        .route(
            "/text",
            get(move || {
                let registry = registry.clone();
                async move { asdlc_metrics::exposition::respond(&registry, &HeaderMap::new()) }
            }),
        );
    let addr = serve(app).await;
    let prometheus = Prometheus::start(&[
        Job::new("openmetrics", addr),
        Job::new("text", addr).path("/text"),
    ])
    .await
    .unwrap();

    for job in ["openmetrics", "text"] {
        let series = prometheus
            .wait_for(SCRAPED, || async {
                let series = prometheus
                    .query(&format!("asdlc_roundtrip_value{{job=\"{job}\"}}"))
                    .await?;
                if series.len() == values.len() {
                    Ok(series)
                } else {
                    Err(format!(
                        "{} of {} series so far",
                        series.len(),
                        values.len()
                    ))
                }
            })
            .await
            .unwrap();
        for s in &series {
            let case: usize = s["metric"]["case"].as_str().unwrap().parse().unwrap();
            assert_eq!(
                s["metric"]["value"].as_str().unwrap(),
                values[case],
                "job {job}, case {case}; all values: {values:?}"
            );
            assert_eq!(s["value"][1], case.to_string());
            assert_eq!(s["metric"]["service"], "roundtrip");
        }
        prometheus
            .wait_for(SCRAPED, || healthy(&prometheus, job))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orchestrator_attaches_the_traceparent_of_a_request() {
    let redis = asdlc_testkit::redis_server::RedisServer::start().unwrap();
    let (_orchestrator, addr) = crate::common::start_orchestrator(&redis.url(), &[]);
    let prometheus = Prometheus::start(&[Job::new("orchestrator", addr)])
        .await
        .unwrap();
    let trace = "6e0c63257de34c926f9efcd03899a4f0";
    let client = http::client();
    let created = client
        .post(format!("http://{addr}/api/tasks"))
        .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
        .json(&serde_json::json!({"title": "traced"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    // The request's bucket, the #[timed] handler it ran, and the Redis
    // commands that handler sent all point to the request's trace.
    for selector in [
        r#"asdlc_http_request_duration_seconds_bucket{job="orchestrator",endpoint="/api/tasks"}"#,
        r#"asdlc_function_duration_seconds_bucket{job="orchestrator",function="create_task"}"#,
        r#"asdlc_redis_operation_duration_seconds_bucket{job="orchestrator",operation="incrby"}"#,
    ] {
        prometheus
            .wait_for(SCRAPED, || exemplar_with(&prometheus, selector, trace))
            .await
            .unwrap();
    }
    prometheus
        .wait_for(SCRAPED, || healthy(&prometheus, "orchestrator"))
        .await
        .unwrap();
}
