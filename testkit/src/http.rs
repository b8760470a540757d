//! The one HTTP client helper of the tests.

use std::time::Duration;

/// How long one request may take before a test calls it hung: a guard,
/// never a speed check.
pub const HANG_GUARD: Duration = Duration::from_secs(10);

/// An HTTP client for what the tests start on loopback: it ignores
/// `HTTP_PROXY`-style variables (traffic stays on loopback), leaves
/// `Content-Encoding` alone (tests see the bytes the server sent), and gives
/// up on a request after [`HANG_GUARD`].
///
/// # Panics
/// When the TLS backend cannot be initialised (never on a working system).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .no_gzip()
        .timeout(HANG_GUARD)
        .build()
        .expect("reqwest client")
}
