//! `MetricsLayer` and request bodies that never arrive in full, over real
//! sockets: a client that leaves mid-upload is `499` (not the extractor's
//! 400), one that is too slow is the server's `408`.

use std::time::{Duration, Instant};

use asdlc_metrics::Registry;
use asdlc_metrics::middleware::MetricsLayer;
use asdlc_metrics::server::{ServerConfig, serve_app};
use asdlc_testkit::exposition::Scrape;
use axum::Router;
use axum::http::StatusCode;
use axum::routing::post;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// A hang guard, never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(10);

const REQUESTS: &str = "asdlc_http_requests_total";

/// Headers announcing a 100-byte JSON body, and the first half of it.
const HALF_UPLOAD: &str = "POST /upload HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\":\"only the first fifty bytes arrive ......";

/// A router whose upload route reads the whole JSON body, recording into
/// `registry`.
fn upload_app(registry: &Registry) -> Router {
    Router::new()
        .route(
            "/upload",
            post(|axum::Json(_): axum::Json<serde_json::Value>| async { StatusCode::CREATED }),
        )
        .layer(MetricsLayer::for_registry(registry))
}

/// Serves `app` the two ways a user would: with the crate's server and
/// with `axum::serve`.
async fn serve(app: Router, crate_server: bool, config: ServerConfig) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    if crate_server {
        tokio::spawn(serve_app(listener, app, config, std::future::pending()));
    } else {
        tokio::spawn(async move { axum::serve(listener, app).await });
    }
    addr
}

/// `asdlc_http_requests_total{endpoint="/upload", status}` once it is
/// non-zero (the request is recorded when the server notices the client).
async fn wait_for_status(registry: &Registry, status: &str) -> Scrape {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let scrape = Scrape::parse(&registry.encode_to_string());
        let seen = scrape.sum(REQUESTS, &[("endpoint", "/upload"), ("status", status)]);
        if seen > 0.0 {
            return scrape;
        }
        assert!(
            Instant::now() < deadline,
            "no request with status {status} recorded:\n{}",
            registry.encode_to_string()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_client_that_leaves_mid_upload_is_499_not_400() {
    for crate_server in [true, false] {
        let registry = Registry::with_service("disconnect");
        let addr = serve(upload_app(&registry), crate_server, ServerConfig::new()).await;

        // One complete upload first: the route works and records 201.
        let body = serde_json::json!({ "title": "complete" });
        let answer = reqwest::Client::new()
            .post(format!("http://{addr}/upload"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 201);

        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream.write_all(HALF_UPLOAD.as_bytes()).await.unwrap();
        stream.flush().await.unwrap();
        // Let the handler start reading the body, then leave.
        tokio::time::sleep(Duration::from_millis(100)).await;
        drop(stream);

        let scrape = wait_for_status(&registry, "499").await;
        let at = |status| scrape.sum(REQUESTS, &[("endpoint", "/upload"), ("status", status)]);
        assert_eq!(at("499"), 1.0, "crate server: {crate_server}");
        assert_eq!(at("400"), 0.0, "crate server: {crate_server}");
        assert_eq!(at("201"), 1.0, "crate server: {crate_server}");
        assert_eq!(
            scrape.sum("asdlc_http_requests_in_flight", &[("endpoint", "/upload")]),
            0.0
        );
    }
}

#[tokio::test]
async fn a_body_slower_than_the_deadline_is_answered_and_recorded_408() {
    let registry = Registry::with_service("slow-body");
    let config = ServerConfig::new().body_read_timeout(Duration::from_millis(300));
    let addr = serve(upload_app(&registry), true, config).await;

    let mut stream = TcpStream::connect(addr).await.unwrap();
    stream.write_all(HALF_UPLOAD.as_bytes()).await.unwrap();
    // The client stays, and sends nothing more: the server answers.
    let mut answer = Vec::new();
    tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer))
        .await
        .expect("the server answers and closes")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408 "), "{answer}");
    assert!(
        answer.contains("content-type: application/json"),
        "{answer}"
    );
    assert!(
        answer.ends_with(r#"{"error":"request body not received within 300ms"}"#),
        "{answer}"
    );

    let scrape = wait_for_status(&registry, "408").await;
    assert_eq!(
        scrape.sum(REQUESTS, &[("endpoint", "/upload"), ("status", "400")]),
        0.0
    );
    assert_eq!(
        scrape.sum(REQUESTS, &[("endpoint", "/upload"), ("status", "499")]),
        0.0
    );
}
