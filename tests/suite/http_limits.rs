//! Slow and half-open clients against the crate's server (`serve_metrics`)
//! and the orchestrator process: a thousand half-sent requests neither
//! block a scrape nor stay open past the header timeout, and SIGTERM
//! completes within the shutdown deadline while some are still open.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use asdlc_metrics::server::{ServerConfig, serve_registry_with};
use asdlc_metrics::{Gauge, Registry};
use asdlc_testkit::exposition::Scrape;
use asdlc_testkit::net::free_port;
use asdlc_testkit::process::Process;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use asdlc_testkit::redis_server::RedisServer;

use crate::common::{start_example, start_orchestrator};

/// How many half-sent requests are held open.
const HALF_OPEN: usize = 1_000;

/// The header timeout the servers under test get: long enough for the
/// test to open every connection and scrape before it fires.
const HEADER_TIMEOUT_SECS: u64 = 5;

/// The requirement: a scrape answers in under 100 ms while the half-open
/// connections are held.
const SCRAPE_LIMIT: Duration = Duration::from_millis(100);

/// A hang guard for waits, never a speed assertion.
const PATIENCE: Duration = Duration::from_secs(30);

/// A request line and part of the headers, never finished.
const HALF_HEADERS: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: test\r\nX-Unfinished: ";

/// Lets this process (and the children it starts) hold the connections:
/// the soft descriptor limit, often 1,024, raised to the hard one.
fn raise_fd_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid, owned struct.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit), 0);
        limit.rlim_cur = limit.rlim_max;
        assert_eq!(libc::setrlimit(libc::RLIMIT_NOFILE, &limit), 0);
    }
    assert!(
        limit.rlim_cur >= 2 * HALF_OPEN as libc::rlim_t + 256,
        "the hard descriptor limit ({}) is too low for this test",
        limit.rlim_cur
    );
}

/// `n` connections to `addr`: every other one with a half-sent request,
/// the rest silent (connected, nothing sent).
async fn half_open(addr: SocketAddr, n: usize) -> Vec<TcpStream> {
    let mut streams = Vec::with_capacity(n);
    for i in 0..n {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 0 {
            stream.write_all(HALF_HEADERS).await.unwrap();
        }
        streams.push(stream);
    }
    streams
}

/// One scrape of `addr` on a fresh connection: how long it took, and the
/// exposition.
async fn timed_scrape(addr: SocketAddr) -> (Duration, Scrape) {
    let client = reqwest::Client::builder()
        .timeout(PATIENCE)
        .build()
        .unwrap();
    let start = Instant::now();
    let response = client
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    (start.elapsed(), Scrape::parse(&text))
}

/// Every stream is still open and has received nothing.
fn assert_all_open(streams: &[TcpStream]) {
    let mut buf = [0u8; 64];
    for (i, stream) in streams.iter().enumerate() {
        match stream.try_read(&mut buf) {
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            other => panic!("connection {i} ended early: {other:?}"),
        }
    }
}

/// Waits until the server has closed every stream (end of file or reset).
async fn assert_all_closed(streams: Vec<TcpStream>) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    for (i, mut stream) in streams.into_iter().enumerate() {
        let mut rest = Vec::new();
        let closed = tokio::time::timeout_at(deadline, stream.read_to_end(&mut rest)).await;
        assert!(
            closed.is_ok(),
            "connection {i} still open after {PATIENCE:?}"
        );
    }
}

/// Holds [`HALF_OPEN`] half-sent requests on `addr` while scraping it; the
/// scrape must show `marker` at 1 (a real exposition, not an error page).
async fn hold_half_open_and_scrape(addr: SocketAddr, marker: &str) {
    let streams = half_open(addr, HALF_OPEN).await;
    let (took, scrape) = timed_scrape(addr).await;
    assert_eq!(scrape.sum(marker, &[]), 1.0, "the scrape shows {marker}");
    // The figure for the record (run with --nocapture).
    println!("scrape of {addr} with {HALF_OPEN} half-open connections: {took:?}");
    assert!(
        took < SCRAPE_LIMIT,
        "a scrape with {HALF_OPEN} half-open connections took {took:?}"
    );
    // The header timeout has not fired yet: they were open, and are closed
    // by it (not refused at once).
    assert_all_open(&streams);
    assert_all_closed(streams).await;
    // And the server still serves.
    let (_, after) = timed_scrape(addr).await;
    assert_eq!(after.sum(marker, &[]), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_metrics_closes_a_thousand_half_sent_requests_and_keeps_scraping() {
    raise_fd_limit();
    let registry = Registry::with_service("half-open");
    registry
        .register(&Gauge::new("asdlc_half_open_marker", "Marker.").unwrap())
        .unwrap()
        .set(1);
    let config = ServerConfig::new().header_read_timeout(Duration::from_secs(HEADER_TIMEOUT_SECS));
    let server = serve_registry_with("127.0.0.1:0", registry, config)
        .await
        .unwrap();
    hold_half_open_and_scrape(server.local_addr(), "asdlc_half_open_marker").await;
    server.shutdown().await.unwrap();
}

/// The orchestrator with Redis and VictoriaMetrics pointing at closed
/// ports (neither is needed here) and `env` set.
fn orchestrator(env: &[(&str, &str)]) -> (Process, SocketAddr) {
    let redis = format!("redis://127.0.0.1:{}", free_port());
    start_orchestrator(&redis, env)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_orchestrator_closes_a_thousand_half_sent_requests_and_keeps_scraping() {
    raise_fd_limit();
    let timeout = HEADER_TIMEOUT_SECS.to_string();
    let (_process, addr) = orchestrator(&[("ASDLC_HTTP_HEADER_TIMEOUT", &timeout)]);
    hold_half_open_and_scrape(addr, "asdlc_service_info").await;
}

/// Sends SIGTERM and asserts the process exits 0 within `deadline` (plus a
/// generous margin for a loaded machine): the requirement, not a speed
/// check.
fn assert_stops_within(mut process: Process, deadline: Duration, held: usize) {
    let signalled = Instant::now();
    process.signal(libc::SIGTERM);
    let status = process
        .wait_timeout(PATIENCE)
        .expect("the process exits after SIGTERM");
    let took = signalled.elapsed();
    println!("SIGTERM to exit with {held} half-sent requests, deadline {deadline:?}: {took:?}");
    assert!(status.success(), "{status}");
    assert!(
        took < deadline + Duration::from_secs(5),
        "stopped {took:?} after SIGTERM"
    );
}

/// A shutdown deadline of one second, and header and body timeouts longer
/// than the test: only the deadline can end the half-sent requests.
const SHORT_DEADLINE: [(&str, &str); 3] = [
    ("ASDLC_SHUTDOWN_TIMEOUT", "1"),
    ("ASDLC_HTTP_HEADER_TIMEOUT", "600"),
    ("ASDLC_HTTP_BODY_TIMEOUT", "600"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_with_half_sent_requests_exits_zero_within_the_deadline() {
    let (process, addr) = orchestrator(&SHORT_DEADLINE);
    let _headers = half_open(addr, 20).await;
    // Uploads whose body stops halfway: their handlers are in progress.
    let mut uploads = Vec::new();
    for _ in 0..5 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(
                b"POST /api/tasks HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n\
                  Content-Length: 100\r\n\r\n{\"title\":",
            )
            .await
            .unwrap();
        uploads.push(stream);
    }
    // The five are in the handler (in flight) before the signal.
    let give_up = Instant::now() + PATIENCE;
    loop {
        let (_, scrape) = timed_scrape(addr).await;
        let in_flight = scrape.sum(
            "asdlc_http_requests_in_flight",
            &[("endpoint", "/api/tasks")],
        );
        if in_flight == 5.0 {
            break;
        }
        assert!(Instant::now() < give_up, "in flight: {in_flight}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_stops_within(process, Duration::from_secs(1), 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workers_stop_within_the_deadline_with_half_sent_scrapes() {
    let redis = RedisServer::start().unwrap();
    let (process, addr) = start_example("workers", "metrics: ", &redis.url(), &SHORT_DEADLINE);
    let _held = half_open(addr, 20).await;
    // The server has taken them (a scrape after them answers).
    let (_, scrape) = timed_scrape(addr).await;
    assert_eq!(scrape.sum("asdlc_service_info", &[]), 1.0);
    assert_stops_within(process, Duration::from_secs(1), 20);
}
