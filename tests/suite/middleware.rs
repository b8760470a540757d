//! `MetricsLayer` on axum routers: template labels, bounded label values,
//! exclusions, panics, dropped requests, exact counts under load.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::future::{Future, pending};
use std::pin::pin;
use std::task::{Context, Waker};
use std::time::Duration;

use asdlc_metrics::Registry;
use asdlc_metrics::exposition::metrics_route;
use asdlc_metrics::middleware::MetricsLayer;
use asdlc_testkit::exposition::Scrape;
use asdlc_testkit::http;
use axum::Router;
use axum::body::Body;
use axum::extract::Path;
use axum::http::{Method, Request, Response, StatusCode};
use axum::routing::{any, get, post};
use tower::{Layer as _, ServiceExt as _};
use tower_http::catch_panic::CatchPanicLayer;

use crate::common::{init_global, scrape, scrape_of};

const REQUESTS: &str = "asdlc_http_requests_total";
const IN_FLIGHT: &str = "asdlc_http_requests_in_flight";
const DURATION_COUNT: &str = "asdlc_http_request_duration_seconds_count";

/// A registry of its own per test, so counts are exact.
fn fresh() -> (Registry, MetricsLayer) {
    let registry = Registry::with_service("mw");
    let layer = MetricsLayer::for_registry(&registry);
    (registry, layer)
}

fn request(method: &str, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .unwrap()
}

/// Sends one request through the router in-process.
async fn send(app: &Router, method: &str, uri: &str) -> StatusCode {
    app.clone()
        .oneshot(request(method, uri))
        .await
        .unwrap()
        .status()
}

/// The distinct values of `label` over the samples of `name`.
fn label_values(scrape: &Scrape, name: &str, label: &str) -> BTreeSet<String> {
    scrape
        .find(name, &[])
        .filter_map(|s| s.label(label).map(str::to_owned))
        .collect()
}

/// `asdlc_http_requests_total{method, endpoint, status}`.
fn requests(scrape: &Scrape, method: &str, endpoint: &str, status: &str) -> f64 {
    scrape.value(
        REQUESTS,
        &[
            ("method", method),
            ("endpoint", endpoint),
            ("status", status),
        ],
    )
}

/// The in-flight family is exported (requests were seen) and every one of
/// its gauges is back at zero.
fn assert_nothing_in_flight(scrape: &Scrape) {
    let gauges: Vec<_> = scrape.find(IN_FLIGHT, &[]).collect();
    assert!(!gauges.is_empty(), "no {IN_FLIGHT} series at all");
    for sample in gauges {
        assert_eq!(sample.value, 0.0, "{sample:?}");
    }
}

async fn task(Path(id): Path<u32>) -> String {
    format!("task {id}")
}

async fn boom() -> &'static str {
    panic!("handler panicked (expected by the test)")
}

#[tokio::test]
async fn routes_with_path_parameters_are_labelled_by_template() {
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/api/tasks/{id}", get(task).delete(task))
        .route(
            "/api/tasks",
            post(|| async { (StatusCode::CREATED, "created") }),
        )
        .route("/files/{*path}", get(|| async { "file" }))
        .layer(layer);

    for id in 0..5 {
        assert_eq!(send(&app, "GET", &format!("/api/tasks/{id}")).await, 200);
    }
    assert_eq!(send(&app, "DELETE", "/api/tasks/7").await, 200);
    assert_eq!(send(&app, "POST", "/api/tasks").await, 201);
    assert_eq!(send(&app, "PUT", "/api/tasks/7").await, 405);
    assert_eq!(send(&app, "GET", "/files/a/b/c.txt").await, 200);
    assert_eq!(send(&app, "HEAD", "/api/tasks/3").await, 200);

    let s = scrape_of(&registry);
    let t = "/api/tasks/{id}";
    assert_eq!(requests(&s, "GET", t, "200"), 5.0);
    assert_eq!(requests(&s, "DELETE", t, "200"), 1.0);
    assert_eq!(requests(&s, "HEAD", t, "200"), 1.0);
    assert_eq!(requests(&s, "PUT", t, "405"), 1.0);
    assert_eq!(requests(&s, "POST", "/api/tasks", "201"), 1.0);
    assert_eq!(s.value(REQUESTS, &[("endpoint", "/files/{*path}")]), 1.0);
    assert_eq!(
        s.value(DURATION_COUNT, &[("method", "GET"), ("endpoint", t)]),
        5.0
    );
    assert_eq!(
        label_values(&s, REQUESTS, "endpoint"),
        BTreeSet::from([
            "/api/tasks".into(),
            "/api/tasks/{id}".into(),
            "/files/{*path}".into()
        ])
    );
    assert_nothing_in_flight(&s);
    assert_eq!(
        s.find(IN_FLIGHT, &[]).count(),
        6,
        "one gauge per method and template"
    );
}

#[tokio::test]
async fn nested_routers_are_labelled_by_the_full_template() {
    let (registry, layer) = fresh();
    let v1 = Router::new().route("/tasks/{id}", get(task));
    let api = Router::new()
        .nest("/v1", v1)
        .route("/status", get(|| async { "ok" }));
    let app = Router::new()
        .nest("/api", api)
        .route("/", get(|| async { "root" }))
        .layer(layer);

    assert_eq!(send(&app, "GET", "/api/v1/tasks/1").await, 200);
    assert_eq!(send(&app, "GET", "/api/v1/tasks/2").await, 200);
    assert_eq!(send(&app, "GET", "/api/status").await, 200);
    assert_eq!(send(&app, "GET", "/").await, 200);
    assert_eq!(send(&app, "GET", "/api/v1/nothing").await, 404);

    let s = scrape_of(&registry);
    assert_eq!(
        s.value(REQUESTS, &[("endpoint", "/api/v1/tasks/{id}")]),
        2.0
    );
    assert_eq!(s.value(REQUESTS, &[("endpoint", "/api/status")]), 1.0);
    assert_eq!(s.value(REQUESTS, &[("endpoint", "/")]), 1.0);
    assert_eq!(
        s.value(REQUESTS, &[("endpoint", "unmatched"), ("status", "404")]),
        1.0
    );
}

#[tokio::test]
async fn services_mounted_with_nest_service_count_as_unmatched() {
    let (registry, layer) = fresh();
    // A plain tower service: axum gives it no route template.
    let service = tower::service_fn(|_: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(Body::from("static")))
    });
    let app = Router::new()
        .nest_service("/static", service)
        .route("/tasks/{id}", get(task))
        .layer(layer);

    assert_eq!(send(&app, "GET", "/static/a.css").await, 200);
    assert_eq!(send(&app, "GET", "/static/b/c.js").await, 200);
    assert_eq!(send(&app, "GET", "/tasks/1").await, 200);

    let s = scrape_of(&registry);
    assert_eq!(
        requests(&s, "GET", "unmatched", "200"),
        2.0,
        "both nested-service requests, under one value"
    );
    assert_eq!(requests(&s, "GET", "/tasks/{id}", "200"), 1.0);
    assert_eq!(
        label_values(&s, REQUESTS, "endpoint"),
        BTreeSet::from(["unmatched".to_owned(), "/tasks/{id}".to_owned()]),
        "no raw path of the nested service leaks into a label"
    );
}

#[tokio::test]
async fn a_layer_on_a_router_before_nesting_sees_the_full_template() {
    let (registry, layer) = fresh();
    let api = Router::new().route("/tasks/{id}", get(task)).layer(layer);
    let app = Router::new().nest("/api", api);

    assert_eq!(send(&app, "GET", "/api/tasks/9").await, 200);
    let s = scrape_of(&registry);
    assert_eq!(s.value(REQUESTS, &[("endpoint", "/api/tasks/{id}")]), 1.0);
}

/// A small deterministic generator, so the paths differ without a
/// dependency.
fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[tokio::test]
async fn ten_thousand_random_unmatched_paths_make_one_endpoint_value() {
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/api/tasks/{id}", get(task))
        .layer(layer);

    let mut state = 0x9e37_79b9_7f4a_7c15;
    let mut paths = BTreeSet::new();
    for _ in 0..10_000 {
        let a = xorshift(&mut state);
        let b = xorshift(&mut state);
        let path = format!("/random/{a:x}/{}", b % 1000);
        assert_eq!(send(&app, "GET", &path).await, 404);
        paths.insert(path);
    }
    assert!(paths.len() > 9_900, "the paths really differ");

    let s = scrape_of(&registry);
    assert_eq!(
        label_values(&s, REQUESTS, "endpoint"),
        BTreeSet::from(["unmatched".to_owned()])
    );
    assert_eq!(s.find(REQUESTS, &[]).count(), 1);
    assert_eq!(requests(&s, "GET", "unmatched", "404"), 10_000.0);
    assert_eq!(
        s.value(DURATION_COUNT, &[("endpoint", "unmatched")]),
        10_000.0
    );
    assert_eq!(s.find(IN_FLIGHT, &[]).count(), 1);
    assert_nothing_in_flight(&s);
}

#[tokio::test]
async fn unknown_methods_are_labelled_other() {
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/any", any(|| async { "any" }))
        .layer(layer);

    for method in ["PURGE", "PROPFIND", "BREW", "get"] {
        assert_eq!(send(&app, method, "/any").await, 200);
    }
    assert_eq!(send(&app, "PURGE", "/nowhere").await, 404);
    assert_eq!(send(&app, "GET", "/any").await, 200);
    assert_eq!(send(&app, "OPTIONS", "/any").await, 200);

    let s = scrape_of(&registry);
    assert_eq!(
        label_values(&s, REQUESTS, "method"),
        BTreeSet::from(["GET".into(), "OPTIONS".into(), "OTHER".into()])
    );
    assert_eq!(
        s.value(REQUESTS, &[("method", "OTHER"), ("endpoint", "/any")]),
        4.0
    );
    assert_eq!(
        s.value(REQUESTS, &[("method", "OTHER"), ("endpoint", "unmatched")]),
        1.0
    );
}

#[tokio::test]
async fn metrics_is_excluded_by_default() {
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/metrics", metrics_route(registry.clone()))
        .route("/ping", get(|| async { "pong" }))
        .layer(layer);

    for _ in 0..3 {
        assert_eq!(send(&app, "GET", "/metrics").await, 200);
    }
    assert_eq!(send(&app, "GET", "/ping").await, 200);

    let s = scrape_of(&registry);
    assert_eq!(
        label_values(&s, REQUESTS, "endpoint"),
        BTreeSet::from(["/ping".to_owned()])
    );
    assert_eq!(label_values(&s, IN_FLIGHT, "endpoint").len(), 1);
}

#[tokio::test]
async fn a_custom_exclude_list_matches_templates_and_raw_paths() {
    let registry = Registry::with_service("mw");
    let layer = MetricsLayer::for_registry(&registry).exclude(["/health", "/users/{id}"]);
    let app = Router::new()
        .route("/metrics", metrics_route(registry.clone()))
        .route("/health", get(|| async { "ok" }))
        .route("/users/{id}", get(|| async { "user" }))
        .route("/ping", get(|| async { "pong" }))
        .layer(layer);

    assert_eq!(send(&app, "GET", "/health").await, 200);
    assert_eq!(send(&app, "GET", "/users/1").await, 200);
    assert_eq!(send(&app, "GET", "/ping").await, 200);
    // "/metrics" is no longer in the list: recorded.
    assert_eq!(send(&app, "GET", "/metrics").await, 200);

    // A raw path is matched too, routed or not.
    let unrouted =
        Router::new().layer(MetricsLayer::for_registry(&registry).exclude(["/robots.txt"]));
    assert_eq!(send(&unrouted, "GET", "/robots.txt").await, 404);

    let s = scrape_of(&registry);
    assert_eq!(
        label_values(&s, REQUESTS, "endpoint"),
        BTreeSet::from(["/metrics".into(), "/ping".into()])
    );
}

#[tokio::test]
async fn a_panicking_handler_is_a_500_with_catch_panic_inside_or_outside() {
    let (registry, layer) = fresh();
    // CatchPanicLayer between the handler and the metrics: it answers 500.
    let inside = Router::new()
        .route("/inside", get(boom))
        .layer(CatchPanicLayer::new())
        .layer(layer.clone());
    // CatchPanicLayer above the metrics: the panic unwinds through them.
    let outside = Router::new()
        .route("/outside", get(boom))
        .layer(layer)
        .layer(CatchPanicLayer::new());

    assert_eq!(send(&inside, "GET", "/inside").await, 500);
    assert_eq!(send(&outside, "GET", "/outside").await, 500);

    let s = scrape_of(&registry);
    for endpoint in ["/inside", "/outside"] {
        let e = ("endpoint", endpoint);
        assert_eq!(
            s.value(REQUESTS, &[e, ("status", "500")]),
            1.0,
            "{endpoint}"
        );
        assert_eq!(s.value(DURATION_COUNT, &[e]), 1.0, "{endpoint}");
        assert_eq!(s.value(IN_FLIGHT, &[e]), 0.0, "{endpoint}");
    }
}

#[tokio::test]
async fn a_panicking_handler_without_catch_panic_is_a_500_and_the_panic_propagates() {
    let (registry, layer) = fresh();
    let app = Router::new().route("/boom", get(boom)).layer(layer.clone());

    // tokio drops a task's future while the panic unwinds...
    let outcome = tokio::spawn(app.clone().oneshot(request("GET", "/boom"))).await;
    assert!(
        outcome.unwrap_err().is_panic(),
        "the panic reaches the runtime"
    );

    // ...a caller that catches the panic may drop it only afterwards.
    let mut future = Box::pin(app.oneshot(request("GET", "/boom")));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        future
            .as_mut()
            .poll(&mut Context::from_waker(Waker::noop()))
    }));
    assert!(caught.is_err(), "the panic propagates");
    drop(future);

    // A service that panics in `call` itself, before any future exists.
    let panics_in_call = layer.layer(tower::service_fn(
        |_: Request<Body>| -> std::future::Ready<Result<Response<Body>, Infallible>> {
            panic!("call panicked (expected by the test)")
        },
    ));
    let outcome =
        tokio::spawn(async move { panics_in_call.oneshot(request("POST", "/x")).await }).await;
    assert!(outcome.unwrap_err().is_panic());

    let s = scrape_of(&registry);
    assert_eq!(
        s.value(REQUESTS, &[("endpoint", "/boom"), ("status", "500")]),
        2.0
    );
    assert_eq!(requests(&s, "POST", "unmatched", "500"), 1.0);
    assert_eq!(s.find(REQUESTS, &[]).count(), 2);
    assert_nothing_in_flight(&s);
}

#[tokio::test]
async fn a_dropped_request_is_a_499_and_leaves_nothing_in_flight() {
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/slow/{id}", get(pending::<&'static str>))
        .layer(layer);
    let slow = [("endpoint", "/slow/{id}")];

    // Poll once by hand: the request is in flight; drop it: it is not.
    {
        let mut future = pin!(app.clone().oneshot(request("GET", "/slow/1")));
        let mut cx = Context::from_waker(Waker::noop());
        assert!(future.as_mut().poll(&mut cx).is_pending());
        assert_eq!(scrape_of(&registry).value(IN_FLIGHT, &slow), 1.0);
        assert_eq!(scrape_of(&registry).find(REQUESTS, &[]).count(), 0);
    }
    let s = scrape_of(&registry);
    assert_eq!(s.value(IN_FLIGHT, &slow), 0.0);
    assert_eq!(s.value(REQUESTS, &[slow[0], ("status", "499")]), 1.0);
    assert_eq!(s.value(DURATION_COUNT, &slow), 1.0);

    // The same when a timeout above gives up on it.
    let timed_out = tokio::time::timeout(
        Duration::from_millis(20),
        app.clone().oneshot(request("GET", "/slow/2")),
    )
    .await;
    assert!(timed_out.is_err());
    let s = scrape_of(&registry);
    assert_eq!(s.value(IN_FLIGHT, &slow), 0.0);
    assert_eq!(s.value(REQUESTS, &[slow[0], ("status", "499")]), 2.0);
}

#[tokio::test]
async fn route_layer_does_not_see_unmatched_requests() {
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/ping", get(|| async { "pong" }))
        .route_layer(layer);

    assert_eq!(send(&app, "GET", "/ping").await, 200);
    assert_eq!(send(&app, "GET", "/missing").await, 404);

    let s = scrape_of(&registry);
    assert_eq!(
        label_values(&s, REQUESTS, "endpoint"),
        BTreeSet::from(["/ping".to_owned()])
    );
}

#[tokio::test]
async fn any_response_body_type_is_accepted() {
    let (registry, layer) = fresh();
    let service = layer.layer(tower::service_fn(|_: Request<()>| async {
        Ok::<_, Infallible>(
            Response::builder()
                .status(StatusCode::ACCEPTED)
                .body(String::from("plain string body"))
                .unwrap(),
        )
    }));
    let request = Request::builder()
        .method(Method::PATCH)
        .uri("/")
        .body(())
        .unwrap();
    let response = service.oneshot(request).await.unwrap();
    assert_eq!(response.into_body(), "plain string body");
    let s = scrape_of(&registry);
    assert_eq!(
        s.value(REQUESTS, &[("method", "PATCH"), ("status", "202")]),
        1.0
    );
}

#[tokio::test]
async fn new_records_into_the_global_standard_set() {
    init_global();
    let app = Router::new()
        .route("/suite-middleware-global/{id}", get(task))
        .layer(asdlc_metrics::MetricsLayer::new());
    assert_eq!(send(&app, "GET", "/suite-middleware-global/1").await, 200);
    let s = scrape();
    assert_eq!(
        s.value(
            REQUESTS,
            &[
                ("service", "suite"),
                ("endpoint", "/suite-middleware-global/{id}")
            ]
        ),
        1.0
    );
}

#[test]
fn the_layer_and_service_are_clone_send_sync() {
    fn check<T: Clone + Send + Sync + 'static>() {}
    check::<MetricsLayer>();
    check::<asdlc_metrics::middleware::MetricsService<axum::routing::Route>>();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn counts_are_exact_under_concurrent_load_over_http() {
    const TASKS: u32 = 50;
    const PER_TASK: u32 = 200;
    let (registry, layer) = fresh();
    let app = Router::new()
        .route("/api/tasks/{id}", get(task))
        .route(
            "/api/tasks",
            post(|| async { (StatusCode::CREATED, "created") }),
        )
        .route("/metrics", metrics_route(registry.clone()))
        .layer(layer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = http::client();
    let mut tasks = Vec::new();
    for t in 0..TASKS {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..PER_TASK {
                let response = if i % 4 == 0 {
                    client.post(format!("{base}/api/tasks")).send().await
                } else if i % 10 == 1 {
                    client.get(format!("{base}/nope/{t}/{i}")).send().await
                } else {
                    client
                        .get(format!("{base}/api/tasks/{}", t * 1000 + i))
                        .send()
                        .await
                };
                let status = response.unwrap().status().as_u16();
                assert!(matches!(status, 200 | 201 | 404), "{status}");
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    // Per task: 50 POSTs (i % 4 == 0), 20 unmatched (i % 10 == 1, never a
    // multiple of 4), 130 GETs.
    let s = Scrape::parse(
        &client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let tasks = f64::from(TASKS);
    assert_eq!(requests(&s, "POST", "/api/tasks", "201"), 50.0 * tasks);
    assert_eq!(
        s.value(REQUESTS, &[("endpoint", "unmatched"), ("status", "404")]),
        20.0 * tasks
    );
    assert_eq!(requests(&s, "GET", "/api/tasks/{id}", "200"), 130.0 * tasks);
    assert_eq!(s.sum(REQUESTS, &[]), f64::from(TASKS * PER_TASK));
    assert_eq!(s.sum(DURATION_COUNT, &[]), f64::from(TASKS * PER_TASK));
    assert_nothing_in_flight(&s);
    server.abort();
}
