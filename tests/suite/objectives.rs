//! Objectives declared in code: the labels they put on the series of
//! `#[timed]`, `#[counted]` and `MetricsLayer`, and the targets exported
//! beside them, which the rules in deploy/rules/asdlc-objectives.yml read.

use asdlc_metrics::middleware::MetricsLayer;
use asdlc_metrics::{Objective, Registry, counted, timed};
use asdlc_testkit::promtool;
use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::get;
use tower::ServiceExt as _;

use crate::common::scrape;

const MODULE: &str = "suite::objectives";

/// 99.5% of checkouts succeed; 95% finish within 100 ms.
const CHECKOUT: Objective = Objective::new("checkout")
    .success_rate(99.5)
    .latency(0.1, 95.0);

#[timed(objective = CHECKOUT)]
#[counted(objective = CHECKOUT)]
fn checkout(ok: bool) -> Result<(), String> {
    if ok { Ok(()) } else { Err("declined".into()) }
}

/// Custom buckets: the threshold is one of them.
#[timed(buckets = [0.05, 0.3, 1], objective = SEARCH)]
fn search() {}

const SEARCH: Objective = Objective::new("search").latency(0.3, 90.0);

#[test]
fn annotated_functions_carry_their_objective_and_export_its_targets() {
    checkout(true).unwrap();
    checkout(true).unwrap();
    let _ = checkout(false);
    search();
    let s = scrape();

    let objective = [
        ("module", MODULE),
        ("function", "checkout"),
        ("objective_name", "checkout"),
    ];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut labels = objective.to_vec();
        labels.extend_from_slice(extra);
        labels
    };
    // Counters carry the success target; histograms the latency target.
    assert_eq!(
        s.value(
            "asdlc_function_calls_total",
            &with(&[("result", "ok"), ("objective_percentile", "99.5")])
        ),
        2.0
    );
    assert_eq!(
        s.value(
            "asdlc_function_calls_total",
            &with(&[("result", "error"), ("objective_percentile", "99.5")])
        ),
        1.0
    );
    assert_eq!(
        s.value(
            "asdlc_function_duration_seconds_count",
            &with(&[
                ("result", "ok"),
                ("objective_percentile", "95"),
                ("objective_latency_threshold", "0.1"),
            ])
        ),
        2.0
    );
    assert_eq!(
        s.value(
            "asdlc_function_duration_seconds_count",
            &[
                ("function", "search"),
                ("objective_name", "search"),
                ("objective_latency_threshold", "0.3"),
            ]
        ),
        1.0
    );

    // The targets, as ratios, for the rules' budget arithmetic.
    assert_eq!(
        s.value(
            "asdlc_objective_success_ratio",
            &[
                ("objective_name", "checkout"),
                ("objective_percentile", "99.5")
            ]
        ),
        0.995
    );
    assert_eq!(
        s.value(
            "asdlc_objective_latency_ratio",
            &[
                ("objective_name", "checkout"),
                ("objective_percentile", "95"),
                ("objective_latency_threshold", "0.1"),
            ]
        ),
        0.95
    );
    assert_eq!(
        s.value(
            "asdlc_objective_latency_ratio",
            &[
                ("objective_name", "search"),
                ("objective_latency_threshold", "0.3")
            ]
        ),
        0.9
    );
    promtool::check_metrics(asdlc_metrics::registry().encode_to_string().as_bytes()).unwrap();
}

#[tokio::test]
async fn a_route_given_an_objective_carries_it_on_its_request_series() {
    const ROUTE: Objective = Objective::new("route_api")
        .success_rate(99.0)
        .latency(0.25, 99.0);
    let registry = Registry::with_service("slo");
    let layer = MetricsLayer::for_registry(&registry)
        .objective("/api/things/{id}", ROUTE)
        .unwrap();
    let app = Router::new()
        .route("/api/things/{id}", get(|| async { "thing" }))
        .route("/other", get(|| async { "other" }))
        .layer(layer);
    for uri in ["/api/things/1", "/api/things/2", "/other"] {
        let response = app
            .clone()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }
    let s = asdlc_testkit::exposition::Scrape::parse(&registry.encode_to_string());
    assert_eq!(
        s.value(
            "asdlc_http_requests_total",
            &[
                ("endpoint", "/api/things/{id}"),
                ("status", "200"),
                ("objective_name", "route_api"),
                ("objective_percentile", "99"),
            ]
        ),
        2.0
    );
    assert_eq!(
        s.value(
            "asdlc_http_request_duration_seconds_count",
            &[
                ("endpoint", "/api/things/{id}"),
                ("objective_name", "route_api"),
                ("objective_latency_threshold", "0.25"),
            ]
        ),
        2.0
    );
    // Routes without an objective have no objective labels.
    let other: Vec<_> = s
        .find("asdlc_http_requests_total", &[("endpoint", "/other")])
        .collect();
    assert_eq!(other.len(), 1);
    assert!(other[0].label("objective_name").is_none());
    promtool::check_metrics(registry.encode_to_string().as_bytes()).unwrap();
}

#[test]
fn a_route_objective_whose_threshold_is_not_a_bucket_bound_is_refused_with_the_bounds() {
    let err = MetricsLayer::for_registry(&Registry::with_service("slo"))
        .objective("/", Objective::new("odd").latency(0.3, 99.0))
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("objective `odd`"), "{text}");
    assert!(
        text.contains("0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10"),
        "{text}"
    );
}
