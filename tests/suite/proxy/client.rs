//! The shared HTTP client (one pooled connection) and merging the proxy
//! router into an app with state.

use asdlc_metrics::proxy::{ProxyConfig, router};
use asdlc_testkit::upstream::{FakeUpstream, Reply};
use axum::Router;
use axum::extract::State;

use super::call;

#[tokio::test]
async fn one_pooled_connection_serves_many_requests() {
    let stub = FakeUpstream::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    for _ in 0..10 {
        assert_eq!(call(&app, "/api/metrics/query?query=up").await.status, 200);
    }
    assert_eq!(stub.requests().len(), 10);
    assert_eq!(stub.connections(), 1);
}

#[tokio::test]
async fn the_router_merges_into_an_app_with_state() {
    #[derive(Clone)]
    struct AppState {
        name: &'static str,
    }
    let stub = FakeUpstream::start(Reply::empty_matrix()).await;
    let app: Router = Router::new()
        .route(
            "/name",
            axum::routing::get(|State(state): State<AppState>| async move { state.name }),
        )
        .merge(router(ProxyConfig::new(&stub.url()).unwrap()))
        .with_state(AppState {
            name: "orchestrator",
        });
    assert_eq!(call(&app, "/name").await.text(), "orchestrator");
    assert_eq!(call(&app, "/api/metrics/query?query=up").await.status, 200);
    call(&app, "/api/metrics/query")
        .await
        .error(400, "bad_data");
}
