//! Query proxy to VictoriaMetrics (feature `proxy`): `/api/metrics/*`
//! routes that dashboards call instead of reaching the TSDB themselves.
//!
//! | route | parameters | forwards to |
//! |---|---|---|
//! | `GET /api/metrics/query_range` | `query`, `start`, `end`, `step` (default `15s`) | `/api/v1/query_range` |
//! | `GET /api/metrics/query` | `query`, `time` (optional: now) | `/api/v1/query` |
//! | `GET /api/metrics/services` | — | `/api/v1/query` with [`SERVICES_QUERY`] |
//! | `GET /api/metrics/health` | — | `/health` |
//!
//! * Parameters are validated before anything is forwarded; a bad one is a
//!   400 `{"status":"error","errorType":"bad_data","error":"…"}`. Times are
//!   RFC 3339, unix seconds, or a duration ago as VictoriaMetrics reads it
//!   (`-1h`, `-5m30s`; forwarded as absolute seconds), steps a Prometheus
//!   duration or seconds, at least 1 ms (below is refused, not rounded); at
//!   most 11,000 points per series and 16 KiB of PromQL.
//! * Every error answer has that shape, axum's own included (a `POST` is
//!   405 `bad_data`).
//! * A success is VictoriaMetrics' JSON, byte for byte, with 200. Its 4xx
//!   (422 for every query error) keeps status and body; a 5xx becomes 502,
//!   an unreachable upstream 503 (`unavailable`), a slow one 504
//!   (`timeout`); a body that is not JSON or over the cap is 502.
//! * `/services` answers a JSON array of service names, sorted; when
//!   VictoriaMetrics fails it answers the configured fallback list with
//!   [`FALLBACK_HEADER`]` : true`.
//! * `/health` always answers 200 with `{"status":"healthy"}`,
//!   `{"status":"degraded","upstream_status":N}` or
//!   `{"status":"unhealthy","error":"…"}`, within its timeout.
//! * Upstream: any Prometheus-API URL with a path prefix (vmselect's
//!   `/select/<tenant>/prometheus`), credentials from its userinfo or a
//!   bearer token, never shown in `Debug`, errors or logs. A plain-text
//!   4xx (vmauth refusing credentials) keeps its status as a JSON error.
//! * Front door: an optional required bearer token (401), a limit on
//!   queries in flight (503 with `Retry-After`), both counted in
//!   `asdlc_proxy_rejected_total{reason}`, and an optional scope that
//!   confines every query to given services.
//!
//! ```no_run
//! # #[tokio::main]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // $VICTORIAMETRICS_URL, else http://victoriametrics:8428
//! let proxy = asdlc_metrics::proxy::ProxyConfig::from_env()?;
//! let app: axum::Router = axum::Router::new()
//!     .route("/metrics", axum::routing::get(asdlc_metrics::exposition::metrics_handler))
//!     .merge(asdlc_metrics::proxy::router(proxy));
//! let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```

mod config;
mod errors;
mod front_door;
mod routes;
mod scope;
mod secret;
mod upstream;
mod validate;

pub use config::{
    BEARER_TOKEN_ENV, ConfigError, DEFAULT_MAX_CONCURRENT_QUERIES, DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_URL, PROXY_SERVICES_ENV, PROXY_TOKEN_ENV, ProxyConfig, URL_ENV,
};
pub use routes::{FALLBACK_HEADER, SERVICES_QUERY, router};
