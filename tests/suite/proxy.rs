//! The query proxy: real data through a real victoria-metrics, every
//! validation rule, every upstream failure (against a stub upstream the
//! test controls), and property tests: no input panics the proxy, makes it
//! answer 500, or reaches the upstream without passing validation.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use asdlc_metrics::proxy::{FALLBACK_HEADER, ProxyConfig, router};
use asdlc_metrics::{Registry, StandardMetrics, serve_registry};
use asdlc_testkit::net::{free_port, loopback};
use asdlc_testkit::victoria::{Options, VictoriaMetrics};
use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, header};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt as _;

use crate::common::raw_client;

/// 2024-05-01T12:00:00Z. Imported samples sit at fixed past times, so RFC
/// 3339 literals can name them (the kit keeps 100 years of data).
const T0: i64 = 1_714_564_800;

/// Timeouts of the configs that talk to stubs: short, so stalls end soon.
const SHORT: Duration = Duration::from_millis(300);

/// A bound on how long a call may take before the test calls it hung. Not a
/// speed check: it only keeps a broken timeout from hanging the suite.
const HANG_GUARD: Duration = Duration::from_secs(10);

// ---------------------------------------------------------------- helpers

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

/// One request through the router, in process.
async fn call(app: &Router, uri: &str) -> Answer {
    let request = Request::get(uri).body(Body::empty()).expect("request");
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
    let response = raw_client().get(url).send().await.expect("GET");
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

// ------------------------------------------------------------------- stub

/// How the stub upstream answers every request.
#[derive(Clone)]
pub(crate) enum Reply {
    /// This status, content type and body (with `Content-Length`).
    Fixed(u16, &'static str, Vec<u8>),
    /// Reads the request, then never answers.
    Stall,
    /// Waits for a permit of the semaphore (one per request), then answers
    /// 200 with this JSON body.
    Gated(Arc<Semaphore>, &'static str),
    /// A chunked body that does not end (the stub stops by itself after
    /// 256 MiB or when the reader hangs up).
    Endless,
}

impl Reply {
    fn json(status: u16, body: &str) -> Reply {
        Reply::Fixed(status, "application/json", body.as_bytes().to_vec())
    }

    fn empty_matrix() -> Reply {
        Reply::json(
            200,
            r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
        )
    }
}

/// A stand-in upstream on a loopback port: a few lines of HTTP/1.1 with
/// keep-alive, recording every request target and counting connections.
pub(crate) struct Stub {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    connections: Arc<AtomicUsize>,
}

impl Stub {
    pub(crate) async fn start(reply: Reply) -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let stub = Stub {
            addr: listener.local_addr().expect("addr"),
            requests: Arc::default(),
            connections: Arc::default(),
        };
        let (requests, connections) = (stub.requests.clone(), stub.connections.clone());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                connections.fetch_add(1, Ordering::SeqCst);
                let _ = stream.set_nodelay(true);
                tokio::spawn(answer_connection(stream, reply.clone(), requests.clone()));
            }
        });
        stub
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The request targets received so far.
    pub(crate) fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

async fn answer_connection(
    stream: tokio::net::TcpStream,
    reply: Reply,
    requests: Arc<Mutex<Vec<String>>>,
) {
    let (read, mut write) = stream.into_split();
    let mut read = BufReader::new(read);
    loop {
        let mut request_line = String::new();
        if read.read_line(&mut request_line).await.unwrap_or(0) == 0 {
            return;
        }
        loop {
            let mut line = String::new();
            if read.read_line(&mut line).await.unwrap_or(0) == 0 {
                return;
            }
            if line.trim_end().is_empty() {
                break;
            }
        }
        let target = request_line.split(' ').nth(1).unwrap_or_default();
        requests.lock().expect("lock").push(target.to_owned());
        match &reply {
            Reply::Fixed(status, content_type, body) => {
                if !write_answer(&mut write, *status, content_type, body).await {
                    return;
                }
            }
            Reply::Gated(gate, body) => {
                let Ok(permit) = gate.acquire().await else {
                    return;
                };
                permit.forget();
                if !write_answer(&mut write, 200, "application/json", body.as_bytes()).await {
                    return;
                }
            }
            Reply::Stall => std::future::pending::<()>().await,
            Reply::Endless => {
                let head = "HTTP/1.1 200 Stub\r\nContent-Type: application/json\r\n\
                            Transfer-Encoding: chunked\r\n\r\n1\r\n[\r\n";
                if write.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                let chunk = format!("1000\r\n{}\r\n", "0,".repeat(2048));
                for _ in 0..65_536 {
                    if write.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
                return;
            }
        }
    }
}

/// Writes one answer with `Content-Length`; `false` when the peer is gone.
async fn write_answer(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> bool {
    // One write: head and body in two would meet Nagle and delayed ACK,
    // 40 ms a request.
    let mut answer = format!(
        "HTTP/1.1 {status} Stub\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(body);
    write.write_all(&answer).await.is_ok()
}

// -------------------------------------------- real data, victoria-metrics

#[tokio::test]
async fn real_samples_come_back_through_query_range_and_query() {
    let vm = VictoriaMetrics::start().await.unwrap();
    let mut lines = String::new();
    for i in 0..5 {
        let ms = (T0 + 15 * i) * 1000;
        writeln!(
            lines,
            "asdlc_jobs_total{{service=\"workers\",kind=\"import\"}} {} {ms}",
            (i + 1) * 10
        )
        .unwrap();
        writeln!(
            lines,
            "asdlc_jobs_total{{service=\"workers\",kind=\"export\"}} {i} {ms}"
        )
        .unwrap();
    }
    vm.import_prometheus(&lines).await.unwrap();
    let proxy = serve(router(ProxyConfig::new(&vm.url()).unwrap())).await;

    // RFC 3339 times (one with an offset), default step.
    let selector = r#"asdlc_jobs_total{kind="import"}"#;
    let range = fetch(&format!(
        "http://{proxy}{}",
        uri(
            "/api/metrics/query_range",
            &[
                ("query", selector),
                ("start", "2024-05-01T12:00:00Z"),
                ("end", "2024-05-01T14:01:00+02:00"),
            ]
        )
    ))
    .await;
    assert_eq!(range.status, 200, "{}", range.text());
    assert_eq!(range.headers[header::CONTENT_TYPE], "application/json");
    let json = range.json();
    assert_eq!(json["status"], "success");
    assert_eq!(json["data"]["resultType"], "matrix");
    assert_eq!(
        json["data"]["result"],
        json!([{
            "metric": {"__name__": "asdlc_jobs_total", "service": "workers", "kind": "import"},
            "values": [[T0, "10"], [T0 + 15, "20"], [T0 + 30, "30"], [T0 + 45, "40"], [T0 + 60, "50"]]
        }])
    );

    // The bytes are VictoriaMetrics' own: the same query asked directly
    // (with the times the proxy forwards) gives the same body.
    let direct = fetch(&format!(
        "{}{}",
        vm.url(),
        uri(
            "/api/v1/query_range",
            &[
                ("query", selector),
                ("start", &T0.to_string()),
                ("end", &(T0 + 60).to_string()),
                ("step", "15"),
            ]
        )
    ))
    .await;
    assert_eq!(direct.status, 200);
    assert_eq!(range.body, direct.body);

    // Unix seconds with a fraction; an aggregation over both series.
    let instant = fetch(&format!(
        "http://{proxy}{}",
        uri(
            "/api/metrics/query",
            &[
                ("query", "sum by (kind) (asdlc_jobs_total)"),
                ("time", &format!("{}.0", T0 + 30)),
            ]
        )
    ))
    .await;
    assert_eq!(instant.status, 200, "{}", instant.text());
    let json = instant.json();
    assert_eq!(json["data"]["resultType"], "vector");
    let mut samples: Vec<(String, Value)> = json["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|s| {
            (
                s["metric"]["kind"].as_str().unwrap().to_owned(),
                s["value"].clone(),
            )
        })
        .collect();
    samples.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        samples,
        [
            ("export".to_owned(), json!([T0 + 30, "2"])),
            ("import".to_owned(), json!([T0 + 30, "30"])),
        ]
    );
}

#[tokio::test]
async fn scraped_services_are_listed_queried_and_healthy() {
    let mut targets = Vec::new();
    let mut servers = Vec::new();
    for (service, version) in [("e2e-workers", "2.0.0"), ("e2e-orchestrator", "1.0.0")] {
        let registry = Registry::with_service(service);
        let standard = StandardMetrics::register(&registry).unwrap();
        standard.service_info.with_label_values(&[version]).set(1);
        let server = serve_registry("127.0.0.1:0", registry).await.unwrap();
        targets.push(server.local_addr());
        servers.push(server);
    }
    let options = Options::default().scrape("asdlc", &targets, Duration::from_millis(500));
    let vm = VictoriaMetrics::start_with(options).await.unwrap();
    let app = router(ProxyConfig::new(&vm.url()).unwrap());

    // Scraping is asynchronous: wait, bounded, until both services show.
    let deadline = Instant::now() + Duration::from_secs(60);
    let services = loop {
        let answer = call(&app, "/api/metrics/services").await;
        assert_eq!(answer.status, 200);
        if answer.headers.get(FALLBACK_HEADER).is_none()
            && answer.json().as_array().unwrap().len() == 2
        {
            break answer;
        }
        assert!(
            Instant::now() < deadline,
            "the scraped services never showed up; last answer: {}",
            answer.text()
        );
        // Scraped samples become searchable on VictoriaMetrics' own flush
        // (seconds); forcing it keeps the wait short.
        vm.force_flush().await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(services.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(services.json(), json!(["e2e-orchestrator", "e2e-workers"]));

    let info = call(&app, "/api/metrics/query?query=asdlc_service_info").await;
    assert_eq!(info.status, 200, "{}", info.text());
    let found: BTreeSet<(String, String, String)> = info.json()["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|s| {
            let label = |name: &str| s["metric"][name].as_str().unwrap_or_default().to_owned();
            (
                label("service"),
                label("version"),
                s["value"][1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        BTreeSet::from([
            ("e2e-orchestrator".into(), "1.0.0".into(), "1".into()),
            ("e2e-workers".into(), "2.0.0".into(), "1".into()),
        ])
    );

    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json(), json!({"status": "healthy"}));
    drop(servers);
}

#[tokio::test]
async fn invalid_promql_keeps_victoria_metrics_422_and_body() {
    let vm = VictoriaMetrics::start().await.unwrap();
    let app = router(ProxyConfig::new(&vm.url()).unwrap());
    let t0 = T0.to_string();
    let t1 = (T0 + 60).to_string();
    let cases = [
        (
            uri("/api/metrics/query", &[("query", "sum(("), ("time", &t0)]),
            uri("/api/v1/query", &[("query", "sum(("), ("time", &t0)]),
        ),
        (
            uri(
                "/api/metrics/query_range",
                &[
                    ("query", "rate(x[5m]"),
                    ("start", &t0),
                    ("end", &t1),
                    ("step", "1m"),
                ],
            ),
            uri(
                "/api/v1/query_range",
                &[
                    ("query", "rate(x[5m]"),
                    ("start", &t0),
                    ("end", &t1),
                    ("step", "60"),
                ],
            ),
        ),
    ];
    for (through_proxy, straight) in cases {
        let proxied = call(&app, &through_proxy).await;
        let direct = fetch(&format!("{}{straight}", vm.url())).await;
        assert_eq!(direct.status, 422, "{}", direct.text());
        assert_eq!(proxied.status, 422, "{}", proxied.text());
        assert_eq!(proxied.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(proxied.text(), direct.text());
        assert_eq!(proxied.json()["status"], "error");
    }
}

// ------------------------------------------------------------- validation

#[tokio::test]
async fn each_validation_rule_is_a_400_and_nothing_is_forwarded() {
    let stub = Stub::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let range = "/api/metrics/query_range";
    let instant = "/api/metrics/query";
    let long = "x".repeat(16 * 1024 + 1);
    let q = ("query", "up");
    let cases = vec![
        (
            "query missing",
            range,
            vec![("start", "1"), ("end", "2")],
            "missing parameter \"query\"",
        ),
        (
            "query missing",
            instant,
            vec![],
            "missing parameter \"query\"",
        ),
        ("query empty", instant, vec![("query", "")], "it is empty"),
        (
            "query blank",
            range,
            vec![("query", " \n"), ("start", "1"), ("end", "2")],
            "it is empty",
        ),
        (
            "query over 16 KiB",
            instant,
            vec![("query", &long)],
            "16385 bytes long",
        ),
        (
            "start missing",
            range,
            vec![q, ("end", "2")],
            "missing parameter \"start\"",
        ),
        (
            "end missing",
            range,
            vec![q, ("start", "1")],
            "missing parameter \"end\"",
        ),
        (
            "start not a time",
            range,
            vec![q, ("start", "yesterday"), ("end", "2")],
            "invalid parameter \"start\"",
        ),
        (
            "end not a time",
            range,
            vec![q, ("start", "1"), ("end", "2024-13-01T00:00:00Z")],
            "invalid parameter \"end\"",
        ),
        (
            "time not a time",
            instant,
            vec![q, ("time", "12:00")],
            "invalid parameter \"time\"",
        ),
        (
            "time not finite",
            instant,
            vec![q, ("time", "inf")],
            "invalid parameter \"time\"",
        ),
        (
            "end before start",
            range,
            vec![
                q,
                ("start", "2024-05-01T12:00:00Z"),
                ("end", "1714564799.999"),
            ],
            "end timestamp must not be before start time",
        ),
        (
            "step not a duration",
            range,
            vec![q, ("start", "1"), ("end", "2"), ("step", "fast")],
            "invalid parameter \"step\"",
        ),
        (
            "step zero",
            range,
            vec![q, ("start", "1"), ("end", "2"), ("step", "0s")],
            "invalid parameter \"step\"",
        ),
        (
            "step negative",
            range,
            vec![q, ("start", "1"), ("end", "2"), ("step", "-15")],
            "invalid parameter \"step\"",
        ),
        (
            "more than 11,000 points",
            range,
            vec![q, ("start", "0"), ("end", "11001"), ("step", "1s")],
            "exceeded maximum resolution of 11,000 points",
        ),
    ];
    for (rule, path, params, expected) in cases {
        let message = call(&app, &uri(path, &params)).await.error(400, "bad_data");
        assert!(message.contains(expected), "{rule}: {message}");
    }
    assert_eq!(stub.requests(), Vec::<String>::new());

    // The same app does forward what is valid (11,000 points is the limit).
    let ok = call(
        &app,
        &uri(
            range,
            &[q, ("start", "0"), ("end", "11000"), ("step", "1s")],
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    assert_eq!(stub.requests().len(), 1);
}

#[tokio::test]
async fn extractor_rejections_are_json_too() {
    let stub = Stub::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let answer = call(&app, "/api/metrics/query?query=up&query=down").await;
    let message = answer.error(400, "bad_data");
    assert!(message.contains("duplicate field `query`"), "{message}");
    assert!(stub.requests().is_empty());
}

#[tokio::test]
async fn valid_parameters_are_forwarded_normalised() {
    let stub = Stub::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let answer = call(
        &app,
        &uri(
            "/api/metrics/query_range",
            &[
                (
                    "query",
                    "rate(asdlc_http_requests_total{endpoint=\"/api/tasks/{id}\"}[5m]) ≥ é",
                ),
                ("start", "2024-05-01T14:00:00.250+02:00"),
                ("end", "1714568400"),
                ("step", "1m30s"),
                ("nocache", "1"),
            ],
        ),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let answer = call(&app, "/api/metrics/query?query=up&time=").await;
    assert_eq!(answer.status, 200, "{}", answer.text());
    let forwarded: Vec<(String, Vec<(String, String)>)> = stub
        .requests()
        .iter()
        .map(|t| (t.split('?').next().unwrap().to_owned(), params_of(t)))
        .collect();
    let owned = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(
        forwarded,
        [
            (
                "/api/v1/query_range".to_owned(),
                owned(&[
                    (
                        "query",
                        "rate(asdlc_http_requests_total{endpoint=\"/api/tasks/{id}\"}[5m]) ≥ é"
                    ),
                    ("start", "1714564800.25"),
                    ("end", "1714568400"),
                    ("step", "90"),
                ])
            ),
            // An empty `time` means now: none is forwarded.
            ("/api/v1/query".to_owned(), owned(&[("query", "up")])),
        ]
    );
}

// -------------------------------------------------------- upstream faults

#[tokio::test]
async fn a_closed_upstream_port_is_503_unavailable() {
    let app = router(short_timeouts(&format!("http://{}", loopback(free_port()))));
    for path in [
        "/api/metrics/query?query=up",
        "/api/metrics/query_range?query=up&start=1&end=2",
    ] {
        let message = call(&app, path).await.error(503, "unavailable");
        assert!(message.contains("unreachable"), "{message}");
    }
    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.status, 200);
    let json = health.json();
    assert_eq!(json["status"], "unhealthy", "{json}");
    assert!(
        json["error"].as_str().unwrap().contains("refused"),
        "{json}"
    );
}

#[tokio::test]
async fn a_stalled_upstream_is_504_within_the_timeout() {
    let stub = Stub::start(Reply::Stall).await;
    let app = router(short_timeouts(&stub.url()));
    for path in [
        "/api/metrics/query?query=up",
        "/api/metrics/query_range?query=up&start=1&end=2",
    ] {
        let started = Instant::now();
        let message = call(&app, path).await.error(504, "timeout");
        assert!(started.elapsed() < HANG_GUARD, "{path} hung");
        assert!(message.contains("within 300ms"), "{message}");
    }
    let started = Instant::now();
    let health = call(&app, "/api/metrics/health").await;
    assert!(started.elapsed() < HANG_GUARD, "/health hung");
    assert_eq!(
        health.json(),
        json!({"status": "unhealthy", "error": "VictoriaMetrics did not answer within 300ms"})
    );
    assert_eq!(stub.requests().len(), 3);
}

#[tokio::test]
async fn upstream_5xx_is_502_quoting_its_message() {
    let stub = Stub::start(Reply::json(
        500,
        r#"{"status":"error","errorType":"500","error":"cannot open storage"}"#,
    ))
    .await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("500"), "{message}");
    assert!(message.contains("cannot open storage"), "{message}");

    let text = Stub::start(Reply::Fixed(
        503,
        "text/plain",
        b"overloaded, retry later".to_vec(),
    ))
    .await;
    let app = router(ProxyConfig::new(&text.url()).unwrap());
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("overloaded, retry later"), "{message}");
}

#[tokio::test]
async fn an_answer_that_is_not_json_is_502() {
    for reply in [
        Reply::Fixed(
            200,
            "application/json",
            b"{\"status\":\"success\",".to_vec(),
        ),
        Reply::Fixed(200, "text/html", b"<html>login</html>".to_vec()),
        Reply::Fixed(404, "text/plain", b"unsupported path requested".to_vec()),
        Reply::Fixed(200, "application/json", Vec::new()),
    ] {
        let stub = Stub::start(reply).await;
        let app = router(ProxyConfig::new(&stub.url()).unwrap());
        let message = call(&app, "/api/metrics/query?query=up")
            .await
            .error(502, "bad_gateway");
        assert!(message.contains("not JSON"), "{message}");
    }
}

#[tokio::test]
async fn an_answer_over_the_cap_is_502_and_reading_stops_there() {
    let cap = 1024;
    let within = format!(
        r#"{{"status":"success","data":"{}"}}"#,
        "x".repeat(cap - 30)
    );
    let over = format!(r#"{{"status":"success","data":"{}"}}"#, "x".repeat(cap));
    assert!(within.len() <= cap && over.len() > cap);

    let stub = Stub::start(Reply::json(200, &within)).await;
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_response_bytes(cap),
    );
    assert_eq!(
        call(&app, "/api/metrics/query?query=up").await.body,
        within.as_bytes()
    );

    // Announced by Content-Length.
    let stub = Stub::start(Reply::json(200, &over)).await;
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_response_bytes(cap),
    );
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("larger than 1024 bytes"), "{message}");

    // Chunked and endless: only stopping at the cap can answer 502 here; a
    // proxy that buffered everything would run into its timeout instead.
    let stub = Stub::start(Reply::Endless).await;
    let app = router(
        ProxyConfig::new(&stub.url())
            .unwrap()
            .max_response_bytes(cap)
            .instant_timeout(HANG_GUARD),
    );
    let message = call(&app, "/api/metrics/query?query=up")
        .await
        .error(502, "bad_gateway");
    assert!(message.contains("larger than 1024 bytes"), "{message}");
}

#[tokio::test]
async fn success_and_4xx_bodies_pass_through_byte_for_byte() {
    // Odd spacing and key order: re-serialising would change them.
    let body = "{ \"data\" : {\"result\":[], \"resultType\":\"vector\"},\"status\":\"success\" }\n";
    let stub = Stub::start(Reply::json(200, body)).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let answer = call(&app, "/api/metrics/query?query=up").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(answer.body, body.as_bytes());

    let rejected = r#"{"status":"error","errorType":"bad_data","error":"too many series"}"#;
    for status in [400, 422, 429] {
        let stub = Stub::start(Reply::json(status, rejected)).await;
        let app = router(ProxyConfig::new(&stub.url()).unwrap());
        let answer = call(&app, "/api/metrics/query?query=up").await;
        assert_eq!(answer.status, status);
        assert_eq!(answer.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(answer.body, rejected.as_bytes());
    }
}

#[tokio::test]
async fn health_reports_a_degraded_upstream_status() {
    let stub = Stub::start(Reply::Fixed(503, "text/plain", b"busy".to_vec())).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let health = call(&app, "/api/metrics/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.headers[header::CONTENT_TYPE], "application/json");
    assert_eq!(
        health.json(),
        json!({"status": "degraded", "upstream_status": 503})
    );
    assert_eq!(stub.requests(), ["/health"]);
}

#[tokio::test]
async fn services_fall_back_when_the_upstream_is_down() {
    let down = format!("http://{}", loopback(free_port()));
    let app = router(short_timeouts(&down));
    let answer = call(&app, "/api/metrics/services").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.headers[FALLBACK_HEADER], "true");
    assert_eq!(answer.json(), json!(["orchestrator", "workers"]));

    // A stalled or failing upstream falls back too, with the list configured.
    for reply in [Reply::Stall, Reply::json(422, r#"{"status":"error"}"#)] {
        let stub = Stub::start(reply).await;
        let app = router(short_timeouts(&stub.url()).fallback_services(["workers", "api", "api"]));
        let answer = call(&app, "/api/metrics/services").await;
        assert_eq!(answer.headers[FALLBACK_HEADER], "true");
        assert_eq!(answer.json(), json!(["api", "workers"]));
        assert_eq!(
            stub.requests()
                .iter()
                .map(|t| params_of(t))
                .collect::<Vec<_>>(),
            [vec![(
                "query".to_owned(),
                "group by (service) (asdlc_service_info)".to_owned()
            )]]
        );
    }
}

// ------------------------------------------------------- client and router

#[tokio::test]
async fn one_pooled_connection_serves_many_requests() {
    let stub = Stub::start(Reply::empty_matrix()).await;
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    for _ in 0..10 {
        assert_eq!(call(&app, "/api/metrics/query?query=up").await.status, 200);
    }
    assert_eq!(stub.requests().len(), 10);
    assert_eq!(stub.connections.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn the_router_merges_into_an_app_with_state() {
    #[derive(Clone)]
    struct AppState {
        name: &'static str,
    }
    let stub = Stub::start(Reply::empty_matrix()).await;
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

// -------------------------------------------------------- property tests

/// One parameter: absent, or a string from a mix of arbitrary text, huge
/// text, numbers, durations, RFC 3339 look-alikes and PromQL.
fn parameter() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        2 => Just(None),
        1 => Just(Some(String::new())),
        3 => any::<String>().prop_map(Some),
        1 => (16_380usize..16_390).prop_map(|n| Some("a".repeat(n))),
        1 => (0usize..2_800).prop_map(|n| Some("é".repeat(n))),
        2 => any::<f64>().prop_map(|f| Some(f.to_string())),
        2 => any::<i64>().prop_map(|i| Some(i.to_string())),
        3 => "(1714564|1714565|0|-)[0-9]{0,3}(\\.[0-9]{0,5})?(e[+-]?[0-9]{1,3})?".prop_map(Some),
        3 => "-?[0-9]{1,12}(y|w|d|h|m|s|ms)([0-9]{1,4}(y|w|d|h|m|s|ms)){0,2}".prop_map(Some),
        3 => "[0-9]{4}-[0-9]{2}-[0-3][0-9][Tt ][0-2][0-9]:[0-6][0-9]:[0-6][0-9](\\.[0-9]{0,10})?([Zz]|[+-][0-2][0-9]:[0-6][0-9])?"
            .prop_map(Some),
        2 => "(up|sum\\(\\(|rate\\(x\\[5m\\]\\)|15s|1m30s|500ms|0\\.5|1|0| |NaN|inf)".prop_map(Some),
    ]
}

/// A parameter that is mostly plausible for its place, else anything from
/// [`parameter`]: so that whole requests are often valid and the range rules
/// (order, 11,000 points) get exercised, not just parsing.
fn plausible(likely: &'static str) -> impl Strategy<Value = Option<String>> {
    prop_oneof![2 => likely.prop_map(Some), 1 => parameter()]
}

/// Raw additions to the query string: duplicates and stray pairs.
fn raw_suffix() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => Just(String::new()),
        1 => "&(query|start|end|step|time)=[a-z0-9]{0,4}",
        1 => "&[a-z=&+.]{0,12}",
    ]
}

/// Milliseconds of a forwarded decimal-seconds value (`-1.25` → -1250),
/// read exactly; `None` for anything else.
fn forwarded_ms(value: &str) -> Option<i64> {
    let (sign, digits) = match value.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, value),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || !all_digits(whole) || !all_digits(frac) || frac.len() > 3 {
        return None;
    }
    let whole: i64 = whole.parse().ok()?;
    let frac: i64 = format!("{frac:0<3}").parse().ok()?;
    Some(sign * (whole * 1000 + frac))
}

/// Asserts that what reached the upstream obeys every rule: the query as
/// sent, non-empty, at most 16 KiB; times and step well-formed, ordered,
/// at most 11,000 points; nothing but the documented parameters.
fn assert_forward_is_valid(target: &str, sent_query: Option<&str>) {
    let (path, _) = target.split_once('?').unwrap_or((target, ""));
    let params = params_of(target);
    let get = |name: &str| {
        let values: Vec<&str> = params
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect();
        assert!(values.len() <= 1, "{name} forwarded twice: {target}");
        values.first().copied()
    };
    let query = get("query").expect("query forwarded");
    assert_eq!(Some(query), sent_query, "the query changed on the way");
    assert!(
        !query.trim().is_empty() && query.len() <= 16 * 1024,
        "{target}"
    );
    match path {
        "/api/v1/query_range" => {
            assert_eq!(params.len(), 4, "{target}");
            let ms = |name: &str| {
                forwarded_ms(get(name).unwrap_or_else(|| panic!("{name} missing: {target}")))
                    .unwrap_or_else(|| panic!("{name} malformed: {target}"))
            };
            let (start, end, step) = (ms("start"), ms("end"), ms("step"));
            assert!(start <= end, "{target}");
            assert!(step >= 1, "{target}");
            assert!((end - start) / step <= 11_000, "{target}");
        }
        "/api/v1/query" => {
            assert!(params.len() <= 2, "{target}");
            if let Some(time) = get("time") {
                assert!(forwarded_ms(time).is_some(), "{target}");
            }
        }
        other => panic!("forwarded to {other}"),
    }
}

/// What a property test drives: a runtime, a stub upstream that answers an
/// empty matrix, the proxy in front of it, and a runner of `cases` cases
/// that writes no regression files. The runner's seed is random unless
/// `PROPTEST_RNG_SEED` is set; [`Seeded::check`] names it on failure, so a
/// failing run can be replayed exactly.
fn property_rig(cases: u32) -> (tokio::runtime::Runtime, Stub, Router, Seeded) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stub = runtime.block_on(Stub::start(Reply::empty_matrix()));
    let app = router(ProxyConfig::new(&stub.url()).unwrap());
    let seed = std::env::var("PROPTEST_RNG_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(random_seed);
    let runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(seed),
        ..Config::default()
    });
    (runtime, stub, app, Seeded { runner, seed })
}

/// A seed from the standard library's per-process random hasher keys.
fn random_seed() -> u64 {
    use std::hash::{BuildHasher as _, RandomState};
    RandomState::new().hash_one(std::process::id())
}

/// A property-test runner together with its seed.
struct Seeded {
    runner: TestRunner,
    seed: u64,
}

impl Seeded {
    /// Runs `test` over `strategy`; a failure panics with the minimal
    /// failing case and the seed that reproduces it.
    fn check<S: Strategy>(
        &mut self,
        strategy: &S,
        test: impl Fn(S::Value) -> Result<(), TestCaseError>,
    ) {
        if let Err(failure) = self.runner.run(strategy, test) {
            panic!(
                "{failure}\nreproduce with PROPTEST_RNG_SEED={} (the seed of this run)",
                self.seed
            );
        }
    }
}

#[test]
fn no_parameters_panic_answer_500_or_reach_the_upstream_invalid() {
    let (runtime, stub, app, mut runner) = property_rig(256);
    // Times a day apart and steps from 1ms to 999m: ranges of either order,
    // from one point to millions.
    let time = "17145[0-9]{5}(\\.[0-9]{1,3})?";
    let inputs = (
        any::<bool>(),
        [
            plausible("[a-z_]{1,20}"),
            plausible(time),
            plausible(time),
            plausible("[1-9][0-9]{0,2}(ms|s|m)"),
        ],
        raw_suffix(),
    );
    let (accepted, refused) = (AtomicUsize::new(0), AtomicUsize::new(0));
    runner.check(&inputs, |(range, [query, a, b, c], suffix)| {
        let (path, names) = if range {
            (
                "/api/metrics/query_range",
                ["query", "start", "end", "step"],
            )
        } else {
            ("/api/metrics/query", ["query", "time", "end", "step"])
        };
        let values = [&query, &a, &b, &c];
        let params: Vec<(&str, &str)> = names
            .iter()
            .zip(values)
            .filter_map(|(name, value)| value.as_deref().map(|v| (*name, v)))
            .collect();
        let target = format!("{}{suffix}", uri(path, &params));
        // http's `Uri` stops at 64 KiB; four huge values can pass that.
        prop_assume!(target.len() < 60_000);
        // The query the proxy reads: the one `query` of the whole
        // string (a raw suffix may add one, or a duplicate).
        let sent: Vec<String> = params_of(&target)
            .into_iter()
            .filter(|(k, _)| k == "query")
            .map(|(_, v)| v)
            .collect();
        let before = stub.requests().len();
        let answer = runtime.block_on(call(&app, &target));
        let received = stub.requests();
        match answer.status.as_u16() {
            200 => {
                accepted.fetch_add(1, Ordering::Relaxed);
                assert_eq!(received.len(), before + 1, "{target}");
                assert_eq!(sent.len(), 1, "accepted without one query: {target}");
                assert_forward_is_valid(&received[before], Some(&sent[0]));
            }
            400 => {
                refused.fetch_add(1, Ordering::Relaxed);
                answer.error(400, "bad_data");
                assert_eq!(
                    received.len(),
                    before,
                    "forwarded although refused: {target}"
                );
            }
            other => panic!("{other} for {target}: {}", answer.text()),
        }
        Ok(())
    });
    // Both branches were exercised, or the test proves little.
    let (accepted, refused) = (accepted.into_inner(), refused.into_inner());
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

/// A valid time in milliseconds and one way to write it.
fn valid_time() -> impl Strategy<Value = (i64, String)> {
    (0i64..4_102_444_800_000, any::<bool>()).prop_map(|(ms, fractional)| {
        if fractional {
            (ms, format!("{}.{:03}", ms / 1000, ms % 1000))
        } else {
            (ms / 1000 * 1000, (ms / 1000).to_string())
        }
    })
}

/// A valid step in milliseconds and one way to write it.
fn valid_step() -> impl Strategy<Value = (i64, String)> {
    prop_oneof![
        (1i64..100_000).prop_map(|ms| (ms, format!("{ms}ms"))),
        (1i64..3_600).prop_map(|s| (s * 1000, s.to_string())),
        (0i64..24, 0i64..60, 1i64..60).prop_map(|(h, m, s)| {
            let text = if h > 0 {
                format!("{h}h{m}m{s}s")
            } else {
                format!("{m}m{s}s")
            };
            ((h * 3600 + m * 60 + s) * 1000, text)
        }),
        (1i64..2_000).prop_map(|half| (half * 500, format!("{}", half as f64 / 2.0))),
    ]
}

#[test]
fn valid_parameters_always_reach_the_upstream_as_written() {
    let (runtime, stub, app, mut runner) = property_rig(128);
    let inputs = ("\\PC{1,40}", valid_time(), valid_step(), 0i64..=11_000);
    runner.check(
        &inputs,
        |(query, (start, start_text), (step, step_text), points)| {
            prop_assume!(!query.trim().is_empty());
            let end = start + points * step;
            let params = [
                ("query", query.as_str()),
                ("start", &start_text),
                ("end", &(end as f64 / 1000.0).to_string()),
                ("step", &step_text),
            ];
            let target = uri("/api/metrics/query_range", &params);
            let answer = runtime.block_on(call(&app, &target));
            prop_assert_eq!(
                answer.status,
                StatusCode::OK,
                "{}: {}",
                target,
                answer.text()
            );
            let received = stub.requests();
            let forwarded = params_of(received.last().expect("forwarded"));
            let value = |name: &str| {
                forwarded
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            };
            prop_assert_eq!(value("query"), query);
            prop_assert_eq!(forwarded_ms(&value("start")), Some(start));
            prop_assert_eq!(forwarded_ms(&value("end")), Some(end));
            prop_assert_eq!(forwarded_ms(&value("step")), Some(step));
            Ok(())
        },
    );
}
