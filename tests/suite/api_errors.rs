//! Every error a client can get from the orchestrator is JSON: the task
//! API's `{"error":"…"}`, the query proxy's Prometheus shape; a JSON body
//! without its Content-Type is refused, a long title too. Against the
//! orchestrator process with a real Redis.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use asdlc_testkit::redis_server::RedisServer;
use reqwest::header::{ALLOW, CONTENT_TYPE};
use serde_json::Value;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::common::start_orchestrator;

/// A hang guard for waits, never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(30);

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .unwrap()
}

/// The answer's status, and its body as JSON (the test fails when it is
/// not JSON or not labelled so).
async fn json_answer(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get(CONTENT_TYPE)
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    assert_eq!(
        content_type.as_deref(),
        Some("application/json"),
        "{status}: {text}"
    );
    let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: {text}: {e}"));
    (status, body)
}

/// `{"error": "<non-empty>"}` and nothing else.
fn assert_api_error(body: &Value) {
    let object = body.as_object().expect("an object");
    assert_eq!(object.len(), 1, "{body}");
    assert!(
        object["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
}

/// `{"status":"error","errorType":"…","error":"…"}`.
fn assert_prometheus_error(body: &Value, error_type: &str) {
    assert_eq!(body["status"], "error", "{body}");
    assert_eq!(body["errorType"], error_type, "{body}");
    assert!(
        body["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{body}"
    );
    assert_eq!(body.as_object().unwrap().len(), 3, "{body}");
}

/// `method path` without a body: the status, the `Allow` header, the JSON
/// body.
async fn call(
    addr: SocketAddr,
    method: reqwest::Method,
    path: &str,
) -> (u16, Option<String>, Value) {
    let answer = client()
        .request(method, format!("http://{addr}{path}"))
        .send()
        .await
        .unwrap();
    let allow = answer
        .headers()
        .get(ALLOW)
        .map(|v| v.to_str().unwrap().to_owned());
    let (status, body) = json_answer(answer).await;
    (status, allow, body)
}

/// POSTs `body` to /api/tasks with the given Content-Type.
async fn post(addr: SocketAddr, content_type: Option<&str>, body: Vec<u8>) -> (u16, Value) {
    let mut request = client().post(format!("http://{addr}/api/tasks")).body(body);
    if let Some(content_type) = content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    json_answer(request.send().await.unwrap()).await
}

/// Waits until the orchestrator has connected to Redis (a POST succeeds).
async fn wait_until_accepting(addr: SocketAddr) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (status, body) = post(addr, Some("application/json"), b"{}".to_vec()).await;
        if status == 201 {
            return;
        }
        assert!(Instant::now() < deadline, "{status}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The raw answer to `request` sent on a fresh connection.
async fn raw(addr: SocketAddr, request: &[u8]) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    // The server may close while the request is still being written.
    let _ = tokio::time::timeout(PATIENCE, stream.read_to_end(&mut answer)).await;
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn task_api_errors_are_json() {
    let redis = RedisServer::start().unwrap();
    let (_orchestrator, addr) = start_orchestrator(&redis.url(), &[]);
    wait_until_accepting(addr).await;
    let json = Some("application/json");

    // A JSON body without Content-Type: refused, not taken as no body.
    let (status, body) = post(addr, None, br#"{"title":"x"}"#.to_vec()).await;
    assert_eq!(status, 415, "{body}");
    assert_api_error(&body);
    let (status, body) = post(addr, Some("text/plain"), br#"{"title":"x"}"#.to_vec()).await;
    assert_eq!(status, 415, "{body}");
    assert_api_error(&body);

    // No body at all is still a task without a title.
    let (status, body) = post(addr, None, Vec::new()).await;
    assert_eq!(status, 201, "{body}");

    let (status, body) = post(addr, json, br#"{"title":"#.to_vec()).await;
    assert_eq!(status, 400, "{body}");
    assert_api_error(&body);

    let (status, body) = post(addr, json, br#"{"title":5}"#.to_vec()).await;
    assert_eq!(status, 422, "{body}");
    assert_api_error(&body);

    // The title cap: 1 KiB passes, one byte more is 422.
    let title = |len: usize| serde_json::to_vec(&serde_json::json!({ "title": "t".repeat(len) }));
    let (status, body) = post(addr, json, title(1024).unwrap()).await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = post(addr, json, title(1025).unwrap()).await;
    assert_eq!(status, 422, "{body}");
    assert_api_error(&body);
    assert!(body["error"].as_str().unwrap().contains("1024"), "{body}");

    // Over axum's 2 MB body limit.
    let (status, body) = post(addr, json, title(3 << 20).unwrap()).await;
    assert_eq!(status, 413, "{body}");
    assert_api_error(&body);

    // The method, the route, the path parameter.
    for (method, path, status) in [
        (reqwest::Method::GET, "/api/tasks", 405),
        (reqwest::Method::DELETE, "/api/tasks/1", 405),
        (reqwest::Method::GET, "/no/such/route", 404),
        (reqwest::Method::GET, "/api/tasks/%FF", 400),
    ] {
        let (got, allow, body) = call(addr, method, path).await;
        assert_eq!(got, status, "{path}: {body}");
        assert_api_error(&body);
        if status == 405 {
            assert!(allow.is_some(), "{path}: 405 without Allow");
        }
    }
}

#[tokio::test]
async fn query_proxy_errors_have_the_prometheus_shape() {
    let redis = format!("redis://127.0.0.1:{}", asdlc_testkit::net::free_port());
    let (_orchestrator, addr) = start_orchestrator(&redis, &[]);

    for method in [reqwest::Method::POST, reqwest::Method::DELETE] {
        let (status, allow, body) = call(addr, method.clone(), "/api/metrics/query?query=up").await;
        assert_eq!(status, 405, "{method}: {body}");
        assert_eq!(allow.as_deref(), Some("GET,HEAD"), "{method}");
        assert_prometheus_error(&body, "bad_data");
    }

    let path = "/api/metrics/query_range?query=up&start=1&end=2&step=0.0005";
    let (status, _, body) = call(addr, reqwest::Method::GET, path).await;
    assert_eq!(status, 400, "{body}");
    assert_prometheus_error(&body, "bad_data");
}

/// What hyper answers itself, before any route or layer runs: a request
/// line or header block over its limits. It writes these with an empty
/// body and no way to change it; the test pins down what they are, so a
/// change (for better or worse) is seen.
#[tokio::test]
async fn http_layer_rejections_are_bare_statuses() {
    let redis = format!("redis://127.0.0.1:{}", asdlc_testkit::net::free_port());
    let (_orchestrator, addr) = start_orchestrator(&redis, &[]);

    let long_uri = format!(
        "GET /api/tasks/{} HTTP/1.1\r\nHost: test\r\n\r\n",
        "1".repeat(70_000)
    );
    let answer = raw(addr, long_uri.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 414 "), "{answer:.200}");
    assert!(answer.contains("content-length: 0"), "{answer:.200}");

    let huge_headers = format!(
        "GET /health HTTP/1.1\r\nHost: test\r\nX-Big: {}\r\n\r\n",
        "h".repeat(500_000)
    );
    let answer = raw(addr, huge_headers.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 431 "), "{answer:.200}");
    assert!(answer.contains("content-length: 0"), "{answer:.200}");
}
