//! Helpers shared by the integration tests.

use std::sync::Once;

use asdlc_metrics::Registry;
use asdlc_testkit::exposition::Scrape;

/// Names the process `suite` once, so tests that read the global registry
/// agree on the service label.
pub fn init_global() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        asdlc_metrics::init(asdlc_metrics::ServiceInfo::new("suite").version("9.9.9"))
    });
}

/// Decompresses a gzip body.
pub fn gunzip(body: &[u8]) -> Vec<u8> {
    use std::io::Read as _;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// Serialises the tests that drive or assert `asdlc_redis_connection_up`,
/// a single process-wide gauge: run in parallel they would flip it under
/// each other's assertions.
pub async fn redis_state_lock() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}

/// The orchestrator example on a free loopback port, using the Redis at
/// `redis_url`, a VictoriaMetrics on a closed port, and `env`; returns once
/// it listens.
pub fn start_orchestrator(
    redis_url: &str,
    env: &[(&str, &str)],
) -> (asdlc_testkit::process::Process, std::net::SocketAddr) {
    let victoria = format!("http://127.0.0.1:{}", asdlc_testkit::net::free_port());
    let mut env = env.to_vec();
    env.push(("VICTORIAMETRICS_URL", &victoria));
    start_example("orchestrator", "listening: ", redis_url, &env)
}

/// Example `name` on a free loopback port, using the Redis at `redis_url`,
/// with `env` set; returns once it prints its `ready` line.
pub fn start_example(
    name: &str,
    ready: &str,
    redis_url: &str,
    env: &[(&str, &str)],
) -> (asdlc_testkit::process::Process, std::net::SocketAddr) {
    use asdlc_testkit::net::{free_port, loopback};
    use asdlc_testkit::process::{Process, example_binary};

    let port = free_port();
    let mut command = std::process::Command::new(example_binary(name).unwrap());
    command
        .env("PORT", port.to_string())
        .env("HOST", "127.0.0.1")
        .env("REDIS_URL", redis_url)
        .env("RUST_LOG", "error");
    for (name, value) in env {
        command.env(name, value);
    }
    let mut process = Process::spawn(command).unwrap();
    process
        .wait_for_line(ready, std::time::Duration::from_secs(30))
        .unwrap();
    (process, loopback(port))
}

/// What the global registry exports now, parsed.
pub fn scrape() -> Scrape {
    scrape_of(asdlc_metrics::registry())
}

/// What `registry` exports now, parsed.
pub fn scrape_of(registry: &Registry) -> Scrape {
    Scrape::parse(&registry.encode_to_string())
}

/// `asdlc_function_calls_total` of `function` in `module`, for `result`
/// (summed over every result when `None`).
pub fn calls(s: &Scrape, module: &str, function: &str, result: Option<&str>) -> f64 {
    function_series(s, "asdlc_function_calls_total", module, function, result)
}

/// Observations of `asdlc_function_duration_seconds` of `function` in
/// `module`, for `result` (summed over every result when `None`).
pub fn timings(s: &Scrape, module: &str, function: &str, result: Option<&str>) -> f64 {
    function_series(
        s,
        "asdlc_function_duration_seconds_count",
        module,
        function,
        result,
    )
}

fn function_series(
    s: &Scrape,
    name: &str,
    module: &str,
    function: &str,
    result: Option<&str>,
) -> f64 {
    let mut labels = vec![("function", function), ("module", module)];
    labels.extend(result.map(|r| ("result", r)));
    s.sum(name, &labels)
}

/// The standard families (`StandardMetrics::NAMES`) that export from the
/// start. A labelled family exports once it has a series; these get
/// theirs only from traffic the startup checks do not make (an HTTP request
/// in flight, a failed Redis operation, a failed call with a reason).
pub fn standard_families_exported_at_start() -> impl Iterator<Item = &'static str> {
    const AFTER_TRAFFIC: [&str; 3] = [
        "asdlc_http_requests_in_flight",
        "asdlc_redis_operation_errors_total",
        "asdlc_function_errors_total",
    ];
    let names = asdlc_metrics::StandardMetrics::NAMES;
    assert!(AFTER_TRAFFIC.iter().all(|n| names.contains(n)));
    names.into_iter().filter(|n| !AFTER_TRAFFIC.contains(n))
}

/// Polls `check` every 250 ms until it returns `Some`, or fails after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: std::time::Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{what} did not happen within {limit:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
}
