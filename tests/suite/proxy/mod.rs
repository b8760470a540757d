//! The query proxy, one concern per file: real data through a real
//! victoria-metrics, every validation rule, every upstream failure (against
//! a fake upstream the test controls), the client and router, path
//! prefixes and vmauth, the front door, service scoping, and property
//! tests. This file holds what they share.

mod client;
mod front_door;
mod properties;
mod real_data;
mod scoping;
mod upstream_auth;
mod upstream_faults;
mod validation;

use std::net::SocketAddr;
use std::time::Duration;

use asdlc_metrics::proxy::ProxyConfig;
use asdlc_testkit::http;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use serde_json::Value;
use tokio::net::TcpListener;
use tower::ServiceExt as _;

/// 2024-05-01T12:00:00Z. Imported samples sit at fixed past times, so RFC
/// 3339 literals can name them (the kit keeps 100 years of data).
const T0: i64 = 1_714_564_800;

/// Ten seconds ago in unix milliseconds: a sample there is what queries at
/// "now" see (`/services` asks at now), past the kit's 1 s latency offset.
fn ten_seconds_ago_ms() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970");
    i64::try_from(now.as_millis()).expect("ms fit i64") - 10_000
}

/// Timeouts of the configs that talk to fake upstreams: short, so stalls end soon.
const SHORT: Duration = Duration::from_millis(300);

/// A bound on how long a call may take before the test calls it hung. Not a
/// speed check: it only keeps a broken timeout from hanging the suite.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// What came back: status, headers, body.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// Asserts a JSON error answer `{"status":"error","errorType":…,"error":…}`
    /// with `status` and `error_type`; returns the message.
    fn error(&self, status: u16, error_type: &str) -> String {
        assert_eq!(self.status, status, "{}", self.text());
        assert_eq!(self.headers[header::CONTENT_TYPE], "application/json");
        let json = self.json();
        assert_eq!(json["status"], "error", "{json}");
        assert_eq!(json["errorType"], error_type, "{json}");
        assert_eq!(json.as_object().map(|o| o.len()), Some(3), "{json}");
        json["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no error message: {json}"))
            .to_owned()
    }
}

/// One GET through the router, in process.
async fn call(app: &Router, uri: &str) -> Answer {
    send(app, Request::get(uri).body(Body::empty()).expect("request")).await
}

/// One request through the router, in process.
async fn send(app: &Router, request: Request<Body>) -> Answer {
    let response = app.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body")
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

/// One GET over real HTTP.
async fn fetch(url: &str) -> Answer {
    let response = http::client().get(url).send().await.expect("GET");
    Answer {
        status: response.status(),
        headers: response.headers().clone(),
        body: response.bytes().await.expect("body").to_vec(),
    }
}

/// `path?k=v&…`, percent-encoded.
fn uri(path: &str, params: &[(&str, &str)]) -> String {
    let mut url = reqwest::Url::parse("http://proxy").expect("url");
    url.set_path(path);
    url.query_pairs_mut().extend_pairs(params);
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// Serves `app` on a loopback port for the rest of the test.
async fn serve(app: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

/// A config for `upstream` with every timeout [`SHORT`].
fn short_timeouts(upstream: &str) -> ProxyConfig {
    ProxyConfig::new(upstream)
        .expect("config")
        .range_timeout(SHORT)
        .instant_timeout(SHORT)
        .services_timeout(SHORT)
        .health_timeout(SHORT)
}

/// The query parameters of a request target (`/path?a=1&b=2`).
fn params_of(target: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://stub{target}"))
        .expect("target")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}
