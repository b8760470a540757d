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

/// The standard families (`StandardMetrics::NAMES`) that export from the
/// start. A labelled family exports once it has a series; these two get
/// theirs only from traffic the startup checks do not make (an HTTP request
/// in flight, a failed Redis operation).
pub fn standard_families_exported_at_start() -> impl Iterator<Item = &'static str> {
    const AFTER_TRAFFIC: [&str; 2] = [
        "asdlc_http_requests_in_flight",
        "asdlc_redis_operation_errors_total",
    ];
    let names = asdlc_metrics::StandardMetrics::NAMES;
    assert!(AFTER_TRAFFIC.iter().all(|n| names.contains(n)));
    names.into_iter().filter(|n| !AFTER_TRAFFIC.contains(n))
}
