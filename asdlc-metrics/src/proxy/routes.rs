//! The `/api/metrics/*` routes and their handlers.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use reqwest::Url;
use serde::Deserialize;

use super::config::ProxyConfig;
use super::errors::{ApiError, prometheus_errors};
use super::front_door::{FrontDoor, require_token};
use super::upstream::{Answer, Health, Upstream};
use super::validate::{InstantParams, InstantQuery, Params, RangeParams, RangeQuery};

/// The header that marks a `/services` answer as the configured fallback
/// list rather than what VictoriaMetrics knows.
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::FALLBACK_HEADER, "x-asdlc-fallback");
/// ```
pub const FALLBACK_HEADER: &str = "x-asdlc-fallback";

/// The PromQL `/services` asks: one series per service that exports the
/// standard `asdlc_service_info`.
///
/// ```
/// assert_eq!(
///     asdlc_metrics::proxy::SERVICES_QUERY,
///     "group by (service) (asdlc_service_info)"
/// );
/// ```
pub const SERVICES_QUERY: &str = "group by (service) (asdlc_service_info)";

/// What every handler shares: the upstream (with the one client), the
/// per-endpoint settings, the front door and the service scope.
#[derive(Debug)]
struct Proxy {
    upstream: Upstream,
    range_timeout: Duration,
    instant_timeout: Duration,
    services_timeout: Duration,
    health_timeout: Duration,
    fallback_services: Vec<String>,
    door: Arc<FrontDoor>,
    /// `extra_filters[]` sent with every query; empty when unscoped.
    scope: Vec<(&'static str, String)>,
}

/// The query proxy's routes, under `/api/metrics`: `GET /query_range`,
/// `GET /query`, `GET /services` and `GET /health`, forwarding to the
/// VictoriaMetrics of `config` with `config`'s one HTTP client (and
/// credentials), behind `config`'s front door: the token it requires, its
/// limit on queries in flight, its service scope.
///
/// The router carries its own state and fits any app's state type `S`:
/// `.merge()` it into your app.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use asdlc_metrics::proxy::{ProxyConfig, router};
///
/// let app: axum::Router = axum::Router::new()
///     .route("/", axum::routing::get(|| async { "orchestrator" }))
///     .merge(router(ProxyConfig::new("http://127.0.0.1:8428")?));
///
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// tokio::spawn(async move { axum::serve(listener, app).await });
///
/// // Invalid parameters are answered here, never forwarded.
/// let answer = reqwest::get(format!("http://{addr}/api/metrics/query?query=")).await?;
/// assert_eq!(answer.status(), 400);
/// assert_eq!(
///     answer.text().await?,
///     r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": it is empty"}"#
/// );
/// # Ok(())
/// # }
/// ```
pub fn router<S>(config: ProxyConfig) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let door = Arc::new(FrontDoor::new(&config));
    let upstream = Upstream::new(&config);
    // A scoped proxy knows at most its own services, also when it falls
    // back.
    let fallback_services = if config.scope.is_empty() {
        config.fallback_services
    } else {
        config.scope.clone()
    };
    let proxy = Arc::new(Proxy {
        upstream,
        range_timeout: config.range_timeout,
        instant_timeout: config.instant_timeout,
        services_timeout: config.services_timeout,
        health_timeout: config.health_timeout,
        fallback_services,
        door: Arc::clone(&door),
        scope: super::scope::filters(&config.scope),
    });
    Router::new()
        .route("/api/metrics/query_range", get(query_range))
        .route("/api/metrics/query", get(query))
        .route("/api/metrics/services", get(services))
        .route("/api/metrics/health", get(health))
        // On the routes, where axum's own 405 (a POST) is made, so it gets
        // the shape too; not on the fallback, which a merge makes the app's.
        .route_layer(axum::middleware::map_response(prometheus_errors))
        // Outermost: without the token nothing else is looked at.
        .route_layer(axum::middleware::from_fn_with_state(door, require_token))
        .with_state(proxy)
}

async fn query_range(
    State(proxy): State<Arc<Proxy>>,
    Params(params): Params<RangeParams>,
) -> Result<Response, ApiError> {
    let query = RangeQuery::validate(params)?;
    let url = &proxy.upstream.query_range_url;
    proxy
        .forward(url, &query.upstream_params(), proxy.range_timeout)
        .await
}

async fn query(
    State(proxy): State<Arc<Proxy>>,
    Params(params): Params<InstantParams>,
) -> Result<Response, ApiError> {
    let query = InstantQuery::validate(params)?;
    let url = &proxy.upstream.query_url;
    proxy
        .forward(url, &query.upstream_params(), proxy.instant_timeout)
        .await
}

impl Proxy {
    /// Forwards validated parameters and passes the answer on.
    async fn forward(
        &self,
        url: &Url,
        params: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Response, ApiError> {
        let answer = self
            .ask(url, params, timeout)
            .await
            .inspect_err(log_failure)?;
        Ok(pass_through(answer))
    }

    /// One upstream query within the concurrency limit, scoped: the only
    /// way a handler reaches the upstream's query endpoints.
    async fn ask(
        &self,
        url: &Url,
        params: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Answer, ApiError> {
        let _slot = self.door.admit_query()?;
        if self.scope.is_empty() {
            self.upstream.get(url, params, timeout).await
        } else {
            let scoped: Vec<(&str, String)> = params
                .iter()
                .cloned()
                .chain(self.scope.iter().cloned())
                .collect();
            self.upstream.get(url, &scoped, timeout).await
        }
    }
}

/// Upstream trouble is the operator's business: say so in the logs, at most
/// once a minute.
fn log_failure(error: &ApiError) {
    crate::log_limited!(warn, "asdlc_metrics: query proxy: {error}");
}

/// The upstream bytes as they came: no re-serialisation.
fn pass_through(answer: Answer) -> Response {
    let mut response = Response::new(Body::from(answer.body));
    *response.status_mut() = answer.status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The sorted unique services VictoriaMetrics knows (a JSON array of
/// strings); on any failure the fallback list, marked with
/// [`FALLBACK_HEADER`].
async fn services(State(proxy): State<Arc<Proxy>>) -> Response {
    let params = [("query", SERVICES_QUERY.to_owned())];
    let known = proxy
        .ask(&proxy.upstream.query_url, &params, proxy.services_timeout)
        .await
        .and_then(service_names);
    match known {
        Ok(names) => Json(names).into_response(),
        Err(error) => {
            crate::log_limited!(
                warn,
                "asdlc_metrics: /api/metrics/services answers the fallback list: {error}"
            );
            (
                [(FALLBACK_HEADER, HeaderValue::from_static("true"))],
                Json(&proxy.fallback_services),
            )
                .into_response()
        }
    }
}

/// The `service` labels of an instant-vector answer, sorted and unique;
/// series without one are left out.
fn service_names(answer: Answer) -> Result<BTreeSet<String>, ApiError> {
    #[derive(Deserialize)]
    struct Vector {
        status: String,
        data: Data,
    }
    #[derive(Deserialize)]
    struct Data {
        result: Vec<Series>,
    }
    #[derive(Deserialize)]
    struct Series {
        metric: Labels,
    }
    #[derive(Deserialize)]
    struct Labels {
        service: Option<String>,
    }

    if !answer.status.is_success() {
        return Err(ApiError::bad_gateway(format!(
            "VictoriaMetrics answered {}: {}",
            answer.status,
            String::from_utf8_lossy(&answer.body)
        )));
    }
    let vector: Vector = serde_json::from_slice(&answer.body).map_err(|e| {
        ApiError::bad_gateway(format!("unexpected answer to {SERVICES_QUERY:?}: {e}"))
    })?;
    if vector.status != "success" {
        return Err(ApiError::bad_gateway(format!(
            "VictoriaMetrics answered status {:?}",
            vector.status
        )));
    }
    Ok(vector
        .data
        .result
        .into_iter()
        .filter_map(|series| series.metric.service)
        .filter(|name| !name.is_empty())
        .collect())
}

/// `{"status":"healthy"}`, `{"status":"degraded","upstream_status":N}` or
/// `{"status":"unhealthy","error":"…"}`, always 200: the proxy itself is up,
/// and a probe must not restart this service because VictoriaMetrics is
/// down.
async fn health(State(proxy): State<Arc<Proxy>>) -> Json<serde_json::Value> {
    Json(match proxy.upstream.health(proxy.health_timeout).await {
        Health::Healthy => serde_json::json!({"status": "healthy"}),
        Health::Degraded(status) => {
            serde_json::json!({"status": "degraded", "upstream_status": status})
        }
        Health::Unhealthy(error) => serde_json::json!({"status": "unhealthy", "error": error}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn answer(body: &str) -> Answer {
        Answer {
            status: StatusCode::OK,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn lists_services_sorted_and_unique() {
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"service":"workers"},"value":[1,"1"]},
            {"metric":{},"value":[1,"1"]},
            {"metric":{"service":""},"value":[1,"1"]},
            {"metric":{"service":"orchestrator"},"value":[1,"1"]},
            {"metric":{"service":"workers"},"value":[1,"1"]}]}}"#;
        let names: Vec<String> = service_names(answer(body)).unwrap().into_iter().collect();
        assert_eq!(names, ["orchestrator", "workers"]);
    }

    #[test]
    fn unexpected_answers_are_errors() {
        for body in [
            r#"{"status":"error","data":{"result":[]}}"#,
            r#"{"status":"success","data":{"result":{}}}"#,
            r#"[]"#,
        ] {
            assert!(service_names(answer(body)).is_err(), "{body}");
        }
        let rejected = Answer {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: b"{}".to_vec(),
        };
        assert!(service_names(rejected).is_err());
    }
}
