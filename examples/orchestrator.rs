//! The orchestrator service: an axum HTTP API on :8080, instrumented with
//! asdlc-metrics, that queues tasks on a Redis stream for the workers and
//! forwards metrics queries to VictoriaMetrics.
//!
//! ```text
//! REDIS_URL=redis://127.0.0.1:6379 VICTORIAMETRICS_URL=http://127.0.0.1:8428 PORT=8080 \
//!     cargo run --example orchestrator
//! ```
//!
//! * `POST /api/tasks` (optional JSON `{"title": "…"}`) records the task and
//!   puts a `task_created` event on the stream, atomically, through the
//!   instrumented Redis connection; answers `201 {"id": "…", "state": "queued"}`.
//! * `GET /api/tasks/{id}`: the task's state (`queued`, `done`, `failed`) or 404.
//! * `GET /metrics`, `GET /health`, and the `/api/metrics/*` query proxy.
//! * `MetricsLayer` labels every request by its route template.
//!   (`ASDLC_METRICS_LAYER=off` leaves it out, for measuring its cost.)
//! * Starts while Redis is down (`asdlc_redis_connection_up 0`, task
//!   requests answer 503) and connects with backoff; SIGTERM / Ctrl-C stop
//!   it gracefully (in-flight requests finish).

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use asdlc_metrics::middleware::MetricsLayer;
use asdlc_metrics::proxy::{ProxyConfig, router as metrics_proxy};
use asdlc_metrics::redis_metrics::{InstrumentedConnection, RedisHealthCheck};
use asdlc_metrics::{ServiceInfo, counted, timed};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use common::{Backoff, STREAM, TASK_SEQ, task_key};
use redis::AsyncCommands as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::OnceCell;

type Connection = InstrumentedConnection<ConnectionManager>;

/// The Redis connection, set once the first connect succeeds (after that
/// the `ConnectionManager` reconnects by itself).
#[derive(Clone, Default)]
struct AppState {
    redis: Arc<OnceCell<Connection>>,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    common::init_logging();
    asdlc_metrics::init(ServiceInfo::new("orchestrator").version(env!("CARGO_PKG_VERSION")));
    let client = redis::Client::open(common::redis_url())?;
    let _health = RedisHealthCheck::new(client.clone()).spawn();
    let state = AppState::default();
    tokio::spawn(connect(client, Arc::clone(&state.redis)));

    let app = Router::new()
        .route("/api/tasks", post(create_task))
        .route("/api/tasks/{id}", get(get_task))
        .route("/health", get(health))
        .route("/metrics", get(asdlc_metrics::exposition::metrics_handler))
        .merge(metrics_proxy(ProxyConfig::from_env()?))
        .with_state(state);
    let app = if std::env::var("ASDLC_METRICS_LAYER").is_ok_and(|v| v == "off") {
        app
    } else {
        app.layer(MetricsLayer::new())
    };

    let listener = tokio::net::TcpListener::bind(common::listen_addr(8080)).await?;
    // Tests read this line to find the port when started with PORT=0.
    println!("listening: http://{}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(common::shutdown_signal())
        .await?;
    tracing::info!("orchestrator stopped");
    Ok(())
}

/// Connects to Redis, retrying with backoff until it answers.
async fn connect(client: redis::Client, cell: Arc<OnceCell<Connection>>) {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Duration::from_secs(2))
        .set_response_timeout(Duration::from_secs(2))
        .set_number_of_retries(2);
    let mut backoff = Backoff::new();
    loop {
        match ConnectionManager::new_with_config(client.clone(), config.clone()).await {
            Ok(manager) => {
                let _ = cell.set(InstrumentedConnection::new(manager));
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

/// An API error as JSON: 503 while Redis is unreachable, 500 otherwise.
#[derive(Debug)]
enum ApiError {
    Unavailable(String),
    Internal(String),
    NotFound,
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
        };
        (status, Json(json!({ "error": message }))).into_response()
    }
}

impl AppState {
    fn connection(&self) -> Result<Connection, ApiError> {
        self.redis
            .get()
            .cloned()
            .ok_or_else(|| ApiError::Unavailable("redis unavailable: not connected yet".to_owned()))
    }
}

#[derive(Debug, Default, Deserialize)]
struct NewTask {
    #[serde(default)]
    title: String,
}

#[timed]
#[counted]
async fn create_task(
    State(state): State<AppState>,
    body: Option<Json<NewTask>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let task = body.map(|Json(t)| t).unwrap_or_default();
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

async fn health() -> Json<Value> {
    Json(json!({
        "status": "ok",
        "service": &*asdlc_metrics::service_name(),
        "redis": if asdlc_metrics::redis_metrics::is_up() { "up" } else { "down" },
    }))
}
