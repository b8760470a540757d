//! Helpers shared by the integration tests.

use std::sync::Once;

/// Names the process `suite` once, so tests that read the global registry
/// agree on the service label.
pub fn init_global() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        asdlc_metrics::init(asdlc_metrics::ServiceInfo::new("suite").version("9.9.9"))
    });
}

/// An HTTP client that leaves `Content-Encoding` alone, so tests see the
/// bytes the server sent.
pub fn raw_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_gzip()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("reqwest client")
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
) -> (
    asdlc_metrics_workspace::process::Process,
    std::net::SocketAddr,
) {
    let victoria = format!(
        "http://127.0.0.1:{}",
        asdlc_metrics_workspace::net::free_port()
    );
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
) -> (
    asdlc_metrics_workspace::process::Process,
    std::net::SocketAddr,
) {
    use asdlc_metrics_workspace::net::{free_port, loopback};
    use asdlc_metrics_workspace::process::{Process, example_binary};

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
