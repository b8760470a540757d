//! Per-request cost of the HTTP middleware, in-process: one router with a
//! path-parameter route, plain, with `asdlc_metrics::MetricsLayer`, and with
//! axum-prometheus' layer; plus the router with a layer that does nothing
//! (`identity_layer`), which separates what axum charges for any
//! `Router::layer` from what a middleware does itself.
//!
//! `asdlc_metrics+traceparent` sends the same requests with a W3C
//! `traceparent` header: the layer then keeps an exemplar per request.
//!
//! `cargo bench -p asdlc-benches --bench middleware`
//!
//! Each iteration sends `GET /api/tasks/{n}` through `oneshot` on a clone of
//! the router (what hyper does per request), on a current-thread tokio
//! runtime, inside one `block_on` per batch so the runtime's own cost stays
//! out. The routers are converted with `with_state(())` once, as
//! `axum::serve` does per connection. The difference to `plain` is what the
//! middleware adds per request.

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Request, Uri};
use axum::routing::{get, post};
use criterion::{Criterion, criterion_group, criterion_main};
use tokio::runtime::Runtime;
use tower::ServiceExt as _;

async fn task(Path(id): Path<u32>) -> &'static str {
    black_box(id);
    "task"
}

/// The same routes for every variant; the benchmark hits the first one.
fn routes() -> Router {
    Router::new()
        .route("/api/tasks/{id}", get(task).delete(task))
        .route("/api/tasks", post(|| async { "created" }))
        .route("/api/workers/{id}/events", get(|| async { "events" }))
        .route("/health", get(|| async { "ok" }))
}

/// A W3C trace context header, sent by the `+traceparent` variant.
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Sends `iters` requests through `app` (with a `traceparent` header when
/// `traced`) and returns the time they took.
fn run(rt: &Runtime, app: &Router, uris: &[Uri], iters: u64, traced: bool) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for uri in uris.iter().cycle().take(usize::try_from(iters).unwrap()) {
            let mut request = Request::get(uri.clone());
            if traced {
                request = request.header("traceparent", TRACEPARENT);
            }
            let request = request.body(Body::empty()).unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            assert!(response.status().is_success());
            black_box(response);
        }
        start.elapsed()
    })
}

fn middleware(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();

    let plain = routes().with_state::<()>(());
    // A layer that does nothing: what axum charges for any `Router::layer`
    // (the route is boxed once more, its future too).
    let identity = routes()
        .layer(tower::layer::util::Identity::new())
        .with_state::<()>(());
    let asdlc = routes()
        .layer(asdlc_metrics::MetricsLayer::new())
        .with_state::<()>(());
    // Installs the global `metrics` recorder and spawns its upkeep task, so
    // it needs the runtime.
    let (prometheus_layer, _handle) =
        rt.block_on(async { axum_prometheus::PrometheusMetricLayer::pair() });
    let prometheus = routes().layer(prometheus_layer).with_state::<()>(());

    // Parsed once: cloning a `Uri` does not allocate.
    let uris: Vec<Uri> = (0..1000)
        .map(|i| format!("/api/tasks/{i}").parse().unwrap())
        .collect();

    let mut group = c.benchmark_group("middleware");
    for (name, app, traced) in [
        ("plain", &plain, false),
        ("plain+traceparent", &plain, true),
        ("identity_layer", &identity, false),
        ("asdlc_metrics", &asdlc, false),
        ("asdlc_metrics+traceparent", &asdlc, true),
        ("axum_prometheus", &prometheus, false),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| run(&rt, app, &uris, iters, traced))
        });
    }
    group.finish();

    // The recording really happened (and is not optimised away).
    let text = asdlc_metrics::registry().encode_to_string();
    assert!(text.contains(r#"endpoint="/api/tasks/{id}",status="200"}"#));
}

criterion_group!(benches, middleware);
criterion_main!(benches);
