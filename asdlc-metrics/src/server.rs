//! HTTP serving: [`serve_metrics()`], a standalone `/metrics` + `/health`
//! server, and [`serve_app`], the server under it for any axum router, with
//! header, body and shutdown timeouts ([`ServerConfig`]).

mod body;
mod config;
mod json_errors;
mod serve;

pub(crate) use body::is_body_timeout;
pub use config::{
    BODY_TIMEOUT_ENV, HEADER_TIMEOUT_ENV, SHUTDOWN_TIMEOUT_ENV, ServerConfig, ServerConfigError,
};
pub use json_errors::json_errors;
#[cfg(feature = "proxy")]
pub(crate) use json_errors::rewrite as rewrite_error;
pub use serve::serve_app;

use std::net::SocketAddr;

use axum::Router;
use axum::routing::get;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::Registry;
use crate::exposition::metrics_route;

/// Why the metrics server could not start or stopped with an error.
#[derive(Debug)]
#[non_exhaustive]
pub enum ServeError {
    /// The address could not be resolved or bound (in use, not local,
    /// malformed).
    Bind {
        /// The address as given.
        addr: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The server stopped with an I/O error.
    Io(std::io::Error),
    /// The server task panicked or was aborted.
    Task(String),
    /// A timeout setting in the environment is not a number of seconds.
    Config(ServerConfigError),
}

impl std::fmt::Display for ServeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ServeError::Bind { addr, source } => {
                write!(f, "cannot serve metrics on {addr}: {source}")
            }
            ServeError::Io(e) => write!(f, "metrics server failed: {e}"),
            ServeError::Task(e) => write!(f, "metrics server task failed: {e}"),
            ServeError::Config(e) => write!(f, "cannot serve metrics: {e}"),
        }
    }
}

impl std::error::Error for ServeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ServeError::Bind { source, .. } | ServeError::Io(source) => Some(source),
            ServeError::Config(e) => Some(e),
            ServeError::Task(_) => None,
        }
    }
}

/// A running metrics server. Dropping it stops the server (gracefully, in
/// the background); [`MetricsServer::shutdown`] stops it and waits.
#[derive(Debug)]
pub struct MetricsServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MetricsServer {
    /// The address the server listens on (with the real port when bound to
    /// port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting connections, lets in-flight requests finish (for at
    /// most the [`ServerConfig::shutdown`] deadline), and waits for the
    /// server to end.
    ///
    /// # Errors
    /// When the server had failed or its task panicked.
    pub async fn shutdown(mut self) -> Result<(), ServeError> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(|e| ServeError::Task(e.to_string())),
            None => Ok(()),
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// Serves the global [`registry()`](crate::registry) on `addr`: `GET /metrics`
/// (text format, gzip when asked) and `GET /health`
/// (`{"status":"ok","service":"…"}`), on the current tokio runtime, with
/// the timeouts of [`ServerConfig::from_env`] (see [`serve_app`]).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let server = asdlc_metrics::serve_metrics("127.0.0.1:0").await?;
/// println!("metrics on http://{}/metrics", server.local_addr());
/// server.shutdown().await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`ServeError::Bind`] when the address cannot be resolved or bound,
/// [`ServeError::Config`] when a timeout variable is not a number.
pub async fn serve_metrics(
    addr: impl ToSocketAddrs + std::fmt::Debug,
) -> Result<MetricsServer, ServeError> {
    serve_registry(addr, crate::registry().clone()).await
}

/// [`serve_metrics`] for a registry of your own.
///
/// # Errors
/// [`ServeError::Bind`] when the address cannot be resolved or bound,
/// [`ServeError::Config`] when a timeout variable is not a number.
pub async fn serve_registry(
    addr: impl ToSocketAddrs + std::fmt::Debug,
    registry: Registry,
) -> Result<MetricsServer, ServeError> {
    let config = ServerConfig::from_env().map_err(ServeError::Config)?;
    serve_registry_with(addr, registry, config).await
}

/// [`serve_registry`] with timeouts of your own.
///
/// ```
/// use std::time::Duration;
/// use asdlc_metrics::{Registry, server::{ServerConfig, serve_registry_with}};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let config = ServerConfig::new().header_read_timeout(Duration::from_secs(2));
/// let server = serve_registry_with("127.0.0.1:0", Registry::with_service("demo"), config).await?;
/// server.shutdown().await?;
/// # Ok(())
/// # }
/// ```
///
/// # Errors
/// [`ServeError::Bind`] when the address cannot be resolved or bound.
pub async fn serve_registry_with(
    addr: impl ToSocketAddrs + std::fmt::Debug,
    registry: Registry,
    config: ServerConfig,
) -> Result<MetricsServer, ServeError> {
    let shown = format!("{addr:?}");
    let bind_error = |source| ServeError::Bind {
        addr: shown.trim_matches('"').to_owned(),
        source,
    };
    let listener = TcpListener::bind(addr).await.map_err(bind_error)?;
    let local = listener.local_addr().map_err(bind_error)?;
    let app = metrics_app(registry);
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(serve_app(listener, app, config, async move {
        let _ = stopped.await;
    }));
    tracing::info!("asdlc_metrics: serving /metrics and /health on http://{local}");
    Ok(MetricsServer {
        addr: local,
        stop: Some(stop),
        task: Some(task),
    })
}

/// The router [`serve_registry`] runs: `/metrics` and `/health`.
pub fn metrics_app(registry: Registry) -> Router {
    let health_registry = registry.clone();
    Router::new()
        .route("/metrics", metrics_route(registry))
        .route(
            "/health",
            get(move || {
                let service = health_registry.service_name();
                async move { axum::Json(serde_json::json!({"status": "ok", "service": &*service})) }
            }),
        )
}
