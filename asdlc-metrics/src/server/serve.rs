//! [`serve_app`]: an axum router on a listener, with the timeouts of a
//! [`ServerConfig`] and a graceful shutdown that has a deadline.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, Response, StatusCode, header};
use http_body::Body as _;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tower_service::Service as _;

use super::body::{BodyTimeout, DeadlineBody};
use super::config::ServerConfig;

/// How long the accept loop pauses after a failed `accept` (typically
/// `EMFILE`, out of file descriptors): long enough not to spin, short
/// enough to pick up again as soon as timed-out connections free some.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` (HTTP/1.1) until `shutdown` resolves, then
/// stops gracefully: stops accepting, lets open requests finish, closes
/// idle connections, and after [`ServerConfig::shutdown`] drops whatever is
/// still open. Returns when every connection is gone.
///
/// Unlike `axum::serve` every connection is bounded: a client that does not
/// send its headers within [`ServerConfig::header_read`] (or leaves a
/// kept-alive connection idle that long) is disconnected, and one whose body
/// is not in within [`ServerConfig::body_read`] is answered `408`. A half-sent
/// request therefore neither holds a file descriptor for ever nor keeps the
/// process from stopping.
///
/// ```
/// use std::time::Duration;
/// use asdlc_metrics::server::{ServerConfig, serve_app};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// let addr = listener.local_addr()?;
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// let config = ServerConfig::new().shutdown_timeout(Duration::from_secs(5));
/// let server = tokio::spawn(serve_app(listener, app, config, async {
///     let _ = stopped.await;
/// }));
///
/// assert_eq!(reqwest::get(format!("http://{addr}/")).await?.text().await?, "hello");
/// let _ = stop.send(());
/// server.await?;
/// # Ok(())
/// # }
/// ```
pub async fn serve_app<F>(listener: TcpListener, app: Router, config: ServerConfig, shutdown: F)
where
    F: Future<Output = ()> + Send,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.header_read());
    let (stop, stopping) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    connections.spawn(connection(
                        http.clone(),
                        stream,
                        app.clone(),
                        config.body_read(),
                        stopping.clone(),
                    ));
                }
                Err(e) => {
                    crate::log_limited!(warn, "asdlc_metrics: cannot accept a connection: {e}");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                }
            },
        }
    }
    drop(listener);
    let _ = stop.send(true);
    let drained = tokio::time::timeout(config.shutdown(), async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            "asdlc_metrics: {} connection(s) still open {:?} after shutdown began; dropping them",
            connections.len(),
            config.shutdown()
        );
        connections.shutdown().await;
    }
}

/// Serves one connection until it ends, or until shutdown begins; then
/// finishes its request in progress and closes.
async fn connection(
    http: http1::Builder,
    stream: TcpStream,
    app: Router,
    body_read: Duration,
    mut stopping: watch::Receiver<bool>,
) {
    // Small answers (scrapes, JSON) are written at once, as axum::serve does.
    let _ = stream.set_nodelay(true);
    let service =
        hyper::service::service_fn(move |request| handle(app.clone(), request, body_read));
    let conn = http.serve_connection(TokioIo::new(stream), service);
    let mut conn = std::pin::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => log_connection_end(result),
        // The guard `wait_for` returns is not Send: dropped before the arm.
        () = async { drop(stopping.wait_for(|stopping| *stopping).await) } => {
            conn.as_mut().graceful_shutdown();
            log_connection_end(conn.await);
        }
    }
}

/// A connection that ended with an error (a client gone mid-request, a
/// header timeout) is the client's business: debug level only.
fn log_connection_end(result: Result<(), hyper::Error>) {
    if let Err(e) = result {
        tracing::debug!("asdlc_metrics: connection closed: {e}");
    }
}

/// Calls `app`, with the body deadline on requests that have a body.
async fn handle(
    mut app: Router,
    request: Request<Incoming>,
    body_read: Duration,
) -> Result<Response<Body>, Infallible> {
    if request.body().is_end_stream() {
        return app.call(request).await;
    }
    let fired = Arc::new(AtomicBool::new(false));
    let request = request.map(|body| DeadlineBody::new(body, body_read, Arc::clone(&fired)));
    let response = app.call(request).await?;
    if fired.load(Ordering::Acquire) {
        // Whatever the handler made of the failed read, the client's
        // answer is that it was too slow.
        return Ok(body_timeout_response(body_read));
    }
    Ok(response)
}

/// `408` with a JSON error; the connection is closed, as its unread body
/// would otherwise be taken for the next request.
fn body_timeout_response(limit: Duration) -> Response<Body> {
    let body = serde_json::json!({ "error": BodyTimeout(limit).to_string() }).to_string();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
