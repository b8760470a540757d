//! The orchestrator service: an axum HTTP API on :8080, instrumented with
//! asdlc-metrics, that queues tasks on a Redis stream for the workers and
//! forwards metrics queries to VictoriaMetrics.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 VICTORIAMETRICS_URL=http://127.0.0.1:8428 PORT=8080 \
//!     cargo run --example orchestrator
//! ```
//!
//! * `POST /api/tasks` (optional JSON `{"title": "…"}`, title at most 1 KiB)
//!   records the task and puts a `task_created` event on the stream,
//!   atomically, through the instrumented Redis connection; answers
//!   `201 {"id": "…", "state": "queued"}`.
//! * `GET /api/tasks/{id}`: the task's state (`queued`, `done`, `failed`) or 404.
//! * `GET /metrics`, `GET /health`, and the `/api/metrics/*` query proxy.
//! * `MetricsLayer` labels every request by its route template; task
//!   creation serves the `tasks_api` objective (see `TASKS_API`).
//!   (`ASDLC_METRICS_LAYER=off` leaves it out, for measuring its cost.)
//! * A request with a W3C `traceparent` header leaves its trace id as an
//!   exemplar (OpenMetrics scrapes, e.g. Prometheus) on its duration bucket
//!   and request counter, and on what its handler records: the `#[timed]`
//!   handler and every Redis command it sends.
//! * Every Redis command is bounded (`REDIS_TIMEOUT_MS`, default 500 ms):
//!   while Redis is unreachable each task request answers 503 with a JSON
//!   error at once or within that bound, never hangs. Reconnection waits at
//!   most `REDIS_RECONNECT_MAX_MS` (default 1 s, plus jitter) between
//!   attempts, and a health check PINGs through the same connection every
//!   second, so `asdlc_redis_connection_up` and `/health` describe the
//!   connection the requests use.
//! * Every error is JSON: `{"error": "…"}` for the API (axum's rejections,
//!   404 and 405 included), the Prometheus shape for `/api/metrics/*`.
//! * Served by `asdlc_metrics::serve_app`: header, body and shutdown
//!   timeouts from `ASDLC_HTTP_HEADER_TIMEOUT`, `ASDLC_HTTP_BODY_TIMEOUT`,
//!   `ASDLC_SHUTDOWN_TIMEOUT` (seconds; 10, 30, 20 by default).
//! * Starts while Redis is down (`asdlc_redis_connection_up 0`, task
//!   requests answer 503) and connects with backoff; SIGTERM / Ctrl-C stop
//!   it gracefully (in-flight requests finish, for at most the shutdown
//!   timeout; then it exits 0).

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use asdlc_metrics::middleware::MetricsLayer;
use asdlc_metrics::proxy::{ProxyConfig, router as metrics_proxy};
use asdlc_metrics::redis_metrics::{
    InstrumentedConnection, ReconnectPolicy, RedisHealthCheck, RedisHealthHandle,
};
use asdlc_metrics::server::{ServerConfig, json_errors, serve_app};
use asdlc_metrics::{LabelValue, Objective, ServiceInfo, counted, timed};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{Backoff, STREAM, TASK_SEQ, task_key};
use redis::AsyncCommands as _;
use redis::aio::ConnectionManager;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

/// The task API's objective: 99% of task requests succeed, 99% within 250 ms.
/// The rules in deploy/rules/asdlc-objectives.yml alert on its burn rate.
const TASKS_API: Objective = Objective::new("tasks_api")
    .success_rate(99.0)
    .latency(0.25, 99.0);

/// Task creation itself (the handler, whatever the HTTP layer adds): 99.5%
/// of calls succeed, 99% within 100 ms.
const TASK_CREATION: Objective = Objective::new("task_creation")
    .success_rate(99.5)
    .latency(0.1, 99.0);

type Connection = InstrumentedConnection<ConnectionManager>;

/// The Redis connection, set once the first connect succeeds (after that
/// the `ConnectionManager` reconnects by itself), with the health check
/// that PINGs through it.
#[derive(Clone, Default)]
struct AppState {
    redis: Arc<OnceCell<(Connection, RedisHealthHandle)>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_logging();
    let server_config = ServerConfig::from_env()?;
    asdlc_metrics::init(ServiceInfo::new("orchestrator").version(env!("CARGO_PKG_VERSION")));
    let client = redis::Client::open(common::redis_url())?;
    // Until the first connect succeeds asdlc_redis_connection_up stays 0;
    // after it, the health check on the service's own connection sets it.
    let state = AppState::default();
    tokio::spawn(connect(client, Arc::clone(&state.redis)));

    let app = Router::new()
        .route("/api/tasks", post(create_task))
        .route("/api/tasks/{id}", get(get_task))
        .route("/health", get(health))
        .route("/metrics", get(asdlc_metrics::exposition::metrics_handler))
        .merge(metrics_proxy(ProxyConfig::from_env()?))
        .with_state(state)
        .layer(map_response(json_errors));
    let app = if std::env::var("ASDLC_METRICS_LAYER").is_ok_and(|v| v == "off") {
        app
    } else {
        app.layer(MetricsLayer::new().objective("/api/tasks", TASKS_API)?)
    };

    // Before the port is announced: a SIGTERM from then on stops gracefully.
    let shutdown = common::shutdown_signal();
    let listener = tokio::net::TcpListener::bind(common::listen_addr(8080)).await?;
    // Tests read this line to find the port when started with PORT=0.
    println!("listening: http://{}", listener.local_addr()?);
    serve_app(listener, app, server_config, shutdown).await;
    tracing::info!("orchestrator stopped");
    Ok(())
}

/// Connects to Redis, retrying with backoff until it answers.
async fn connect(client: redis::Client, cell: Arc<OnceCell<(Connection, RedisHealthHandle)>>) {
    let timeout = common::redis_timeout();
    let config = ReconnectPolicy::new()
        .max_delay(common::reconnect_max_delay())
        .connection_timeout(timeout)
        .response_timeout(timeout)
        .manager_config();
    let mut backoff = Backoff::new();
    loop {
        match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
            Ok(manager) => {
                let health = RedisHealthCheck::for_connection(manager.clone())
                    .interval(Duration::from_secs(1))
                    .timeout(timeout)
                    .spawn();
                let connection = InstrumentedConnection::new(manager).timeout(timeout);
                let _ = cell.set((connection, health));
                tracing::info!("connected to Redis");
                return;
            }
            Err(e) => {
                let delay = backoff.next_delay();
                tracing::warn!("cannot reach Redis ({e}); retrying in {delay:?}");
                tokio::time::sleep(delay).await;
            }
        }
    }
}

/// An API error as JSON: 503 while Redis is unreachable, 500 otherwise;
/// a rejected request body with its own status (400, 413, 415, 422).
///
/// As the error type of the instrumented handlers, each failure is counted
/// by reason (`asdlc_function_errors_total{reason="unavailable"|"internal"}`);
/// a missing task and a rejected body are the caller's doing, expected, so
/// they count as `result="ok"` and spend no objective's error budget.
#[derive(Debug, LabelValue)]
enum ApiError {
    Unavailable(String),
    Internal(String),
    #[label(expected)]
    NotFound,
    #[label(expected)]
    Rejected(StatusCode, String),
}

impl From<redis::RedisError> for ApiError {
    fn from(e: redis::RedisError) -> Self {
        if e.is_connection_dropped()
            || e.is_connection_refusal()
            || e.is_io_error()
            || e.is_timeout()
        {
            ApiError::Unavailable(format!("redis unavailable: {e}"))
        } else {
            ApiError::Internal(format!("redis: {e}"))
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            ApiError::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            ApiError::Internal(m) => (StatusCode::INTERNAL_SERVER_ERROR, m),
            ApiError::NotFound => (StatusCode::NOT_FOUND, "no such task".to_owned()),
            ApiError::Rejected(status, m) => (status, m),
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

impl AppState {
    fn connection(&self) -> Result<Connection, ApiError> {
        self.redis
            .get()
            .map(|(connection, _health)| connection.clone())
            .ok_or_else(|| ApiError::Unavailable("redis unavailable: not connected yet".to_owned()))
    }
}

/// The longest task title accepted, in bytes: titles are stored in Redis
/// and shown in lists, not documents.
const MAX_TITLE_BYTES: usize = 1024;

#[derive(Debug, Default, Deserialize)]
struct NewTask {
    #[serde(default)]
    title: String,
}

impl NewTask {
    /// The task a request asks for: none at all (an empty body) is a task
    /// without a title; a body must be JSON, say so, and fit the limits.
    fn from_request(
        headers: &HeaderMap,
        body: Result<Json<NewTask>, JsonRejection>,
    ) -> Result<NewTask, ApiError> {
        let task = match body {
            Ok(Json(task)) => task,
            Err(JsonRejection::MissingJsonContentType(_)) if body_is_empty(headers) => {
                NewTask::default()
            }
            // A JSON body without its Content-Type is refused (415), not
            // taken for an empty one.
            Err(rejection) => {
                return Err(ApiError::Rejected(
                    rejection.status(),
                    rejection.body_text(),
                ));
            }
        };
        if task.title.len() > MAX_TITLE_BYTES {
            return Err(ApiError::Rejected(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "title is {} bytes long; the limit is {MAX_TITLE_BYTES}",
                    task.title.len()
                ),
            ));
        }
        Ok(task)
    }
}

/// Whether the headers announce no body: `Content-Length: 0`, or neither a
/// length nor chunked transfer.
fn body_is_empty(headers: &HeaderMap) -> bool {
    match headers.get(header::CONTENT_LENGTH) {
        Some(length) => length.as_bytes() == b"0",
        None => !headers.contains_key(header::TRANSFER_ENCODING),
    }
}

#[timed(objective = TASK_CREATION)]
#[counted(objective = TASK_CREATION)]
async fn create_task(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Json<NewTask>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let task = NewTask::from_request(&headers, body)?;
    let mut con = state.connection()?;
    let id: u64 = con.incr(TASK_SEQ, 1).await?;
    let id = id.to_string();
    // The state first, then the event, in one transaction: a worker can
    // never see the event without the task.
    let () = redis::pipe()
        .atomic()
        .hset_multiple(
            task_key(&id),
            &[("state", "queued"), ("title", task.title.as_str())],
        )
        .ignore()
        .xadd(
            STREAM,
            "*",
            &[("task_id", id.as_str()), ("type", "task_created")],
        )
        .ignore()
        .query_async(&mut con)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "state": "queued" })),
    ))
}

#[timed]
#[counted]
async fn get_task(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let mut con = state.connection()?;
    let fields: HashMap<String, String> = con.hgetall(task_key(&id)).await?;
    if fields.is_empty() {
        return Err(ApiError::NotFound);
    }
    let processed: u64 = fields
        .get("processed")
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    Ok(Json(json!({
        "id": id,
        "state": fields.get("state"),
        "title": fields.get("title"),
        "processed": processed,
    })))
}

/// Always 200 (a liveness probe must not restart the service for Redis'
/// outage); `status` says `degraded` while Redis is down.
async fn health() -> Json<Value> {
    let up = asdlc_metrics::redis_metrics::is_up();
    Json(json!({
        "status": if up { "ok" } else { "degraded" },
        "service": &*asdlc_metrics::service_name(),
        "redis": if up { "up" } else { "down" },
    }))
}
