//! The proxy's own front door: a required bearer token, the limit on
//! queries in flight, and `asdlc_proxy_rejected_total{reason}` counting
//! both.

use std::sync::Arc;
use std::time::{Duration, Instant};

use asdlc_metrics::Registry;
use asdlc_metrics::proxy::{FALLBACK_HEADER, ProxyConfig, router};
use asdlc_testkit::upstream::{FakeUpstream, Reply};
use axum::body::Body;
use axum::http::{Request, header};
use serde_json::json;
use tokio::sync::Semaphore;

use super::{Answer, HANG_GUARD, call, send};

const EMPTY_VECTOR: &str = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;

/// One GET through `app` with `Authorization: <authorization>`.
async fn call_with(app: &axum::Router, uri: &str, authorization: &str) -> Answer {
    let request = Request::get(uri)
        .header(header::AUTHORIZATION, authorization)
        .body(Body::empty())
        .expect("request");
    send(app, request).await
}

/// `asdlc_proxy_rejected_total{reason}` in `registry`'s exposition.
fn rejected(registry: &Registry, reason: &str) -> String {
    let text = registry.encode_to_string();
    let prefix = format!("asdlc_proxy_rejected_total{{service=\"t\",reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .unwrap_or("absent")
        .to_owned()
}

#[tokio::test]
async fn a_required_token_admits_its_holder_and_answers_401_to_anyone_else() {
    let stub = FakeUpstream::start(Reply::json(200, EMPTY_VECTOR)).await;
    let registry = Registry::with_service("t");
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .require_bearer_token("dash-token")
            .registry(&registry),
    );

    let missing = call(&app, "/api/metrics/query?query=up").await;
    let message = missing.error(401, "unauthorized");
    assert!(message.contains("Bearer"), "{message}");
    assert_eq!(missing.headers[header::WWW_AUTHENTICATE], "Bearer");
    for wrong in [
        "Bearer dash-toke",
        "Bearer dash-token2",
        "Basic dash-token",
        "dash-token",
    ] {
        call_with(&app, "/api/metrics/query?query=up", wrong)
            .await
            .error(401, "unauthorized");
    }
    // Every route is behind the door, health included.
    call(&app, "/api/metrics/health")
        .await
        .error(401, "unauthorized");
    // Nothing refused reached the upstream.
    assert!(stub.requests().is_empty(), "{:?}", stub.requests());
    assert_eq!(rejected(&registry, "unauthorized"), "6");

    let admitted = call_with(&app, "/api/metrics/query?query=up", "Bearer dash-token").await;
    assert_eq!(admitted.status, 200, "{}", admitted.text());
    assert_eq!(admitted.body, EMPTY_VECTOR.as_bytes());
    let lower_case_scheme = call_with(&app, "/api/metrics/services", "bearer dash-token").await;
    assert_eq!(lower_case_scheme.json(), json!([]));
    assert_eq!(stub.requests().len(), 2);
    assert_eq!(rejected(&registry, "unauthorized"), "6");
}

#[tokio::test]
async fn queries_past_the_limit_are_503_with_retry_after_and_counted() {
    // The upstream holds every query until released: two fill the limit.
    let gate = Arc::new(Semaphore::new(0));
    let stub = FakeUpstream::start(Reply::Gated(Arc::clone(&gate), EMPTY_VECTOR)).await;
    let registry = Registry::with_service("t");
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_concurrent_queries(2)
            .registry(&registry),
    );
    let held: Vec<_> = (0..2)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { call(&app, "/api/metrics/query?query=up").await })
        })
        .collect();
    let deadline = Instant::now() + HANG_GUARD;
    while stub.requests().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "the queries never reached the upstream"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    let refused = call(&app, "/api/metrics/query_range?query=up&start=0&end=60").await;
    let message = refused.error(503, "unavailable");
    assert!(message.contains("2 queries in flight"), "{message}");
    assert_eq!(refused.headers[header::RETRY_AFTER], "1");
    // /services answers its fallback list instead; health is not limited.
    let services = call(&app, "/api/metrics/services").await;
    assert_eq!(services.headers[FALLBACK_HEADER], "true");
    assert_eq!(services.json(), json!(["orchestrator", "workers"]));
    assert_eq!(rejected(&registry, "concurrency"), "2");
    assert_eq!(stub.requests().len(), 2, "a refused query was forwarded");

    gate.add_permits(2);
    for handle in held {
        assert_eq!(handle.await.unwrap().status, 200);
    }
    // The slots are free again.
    gate.add_permits(1);
    assert_eq!(call(&app, "/api/metrics/query?query=up").await.status, 200);
    assert_eq!(rejected(&registry, "concurrency"), "2");
}
