//! The `/metrics` endpoint: content negotiation between text 0.0.4 (the
//! default) and OpenMetrics 1.0.0 (on `Accept`, as Prometheus asks for it;
//! the format that carries [exemplars](crate::exemplar)), and gzip.

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use flate2::Compression;
use flate2::write::GzEncoder;

use crate::Registry;
use crate::encoding::Format;

/// The `Content-Type` of the text exposition format.
pub const CONTENT_TYPE: &str = Format::Text.content_type();

/// The `Content-Type` of OpenMetrics 1.0.0.
pub const OPENMETRICS_CONTENT_TYPE: &str = Format::OpenMetrics.content_type();

/// Whether an `Accept-Encoding` header value allows gzip: `gzip` (or `*`)
/// listed without `q=0`. Prometheus and VictoriaMetrics always send `gzip`.
///
/// ```
/// use asdlc_metrics::exposition::accepts_gzip;
///
/// assert!(accepts_gzip("gzip"));
/// assert!(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
/// assert!(!accepts_gzip("gzip;q=0"));
/// assert!(!accepts_gzip("identity"));
/// assert!(accepts_gzip("*"));
/// assert!(!accepts_gzip("*, gzip;q=0"));
/// ```
pub fn accepts_gzip(accept_encoding: &str) -> bool {
    let mut wildcard = None;
    for item in accept_encoding.split(',') {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or("").trim();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            return q > 0.0;
        }
        if coding == "*" {
            wildcard = Some(q > 0.0);
        }
    }
    wildcard.unwrap_or(false)
}

/// An encoded scrape, ready to send.
#[derive(Debug)]
pub struct Encoded {
    /// The body (gzip-compressed when [`Encoded::gzip`]).
    pub body: Vec<u8>,
    /// Whether `body` is gzip-compressed.
    pub gzip: bool,
}

/// Encodes `registry`, gzip-compressed when `accept_encoding` allows it.
///
/// ```
/// let registry = asdlc_metrics::Registry::with_service("demo");
/// let plain = asdlc_metrics::exposition::encode(&registry, None)?;
/// assert!(!plain.gzip);
/// let zipped = asdlc_metrics::exposition::encode(&registry, Some("gzip"))?;
/// assert!(zipped.gzip);
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// When compression fails or the encoder panics (a bug): the message is
/// meant for a 500 answer.
pub fn encode(registry: &Registry, accept_encoding: Option<&str>) -> std::io::Result<Encoded> {
    encode_as(registry, Format::Text, accept_encoding)
}

/// [`encode`] in `format`.
///
/// ```
/// use asdlc_metrics::encoding::Format;
///
/// let registry = asdlc_metrics::Registry::with_service("demo");
/// let om = asdlc_metrics::exposition::encode_as(&registry, Format::OpenMetrics, None)?;
/// assert!(om.body.ends_with(b"# EOF\n"));
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// As [`encode`].
pub fn encode_as(
    registry: &Registry,
    format: Format,
    accept_encoding: Option<&str>,
) -> std::io::Result<Encoded> {
    let text = catch_unwind(AssertUnwindSafe(|| registry.encode_format(format)))
        .map_err(|_| std::io::Error::other("the metrics encoder panicked"))?;
    if !accept_encoding.is_some_and(accepts_gzip) {
        return Ok(Encoded {
            body: text,
            gzip: false,
        });
    }
    // Fast compression: a scrape is on the clock, and text metrics compress
    // well even at level 1.
    let mut gz = GzEncoder::new(Vec::with_capacity(text.len() / 6), Compression::fast());
    gz.write_all(&text)?;
    let body = gz.finish()?;
    registry.recycle(text);
    Ok(Encoded { body, gzip: true })
}

/// A plain scrape body that goes back to its registry (for the next scrape
/// to write into) once the server has sent it and dropped it.
struct Recycled {
    body: Vec<u8>,
    registry: Registry,
}

impl AsRef<[u8]> for Recycled {
    fn as_ref(&self) -> &[u8] {
        &self.body
    }
}

impl Drop for Recycled {
    fn drop(&mut self) {
        self.registry.recycle(std::mem::take(&mut self.body));
    }
}

/// The response body of `encoded`: a plain one is recycled by `registry`.
fn body_of(registry: &Registry, encoded: Encoded) -> Body {
    if encoded.gzip {
        return Body::from(encoded.body);
    }
    Body::from(bytes::Bytes::from_owner(Recycled {
        body: encoded.body,
        registry: registry.clone(),
    }))
}

/// Answers a scrape of `registry` given the request headers: 200 in the
/// format `Accept` asks for ([`Format::negotiate`]: OpenMetrics for
/// Prometheus, text 0.0.4 otherwise), gzip when accepted,
/// `Vary: accept, accept-encoding` always; or 500 with a plain-text message
/// when encoding fails.
pub fn respond(registry: &Registry, headers: &HeaderMap) -> Response {
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    let format = Format::negotiate(header_str(header::ACCEPT));
    match encode_as(registry, format, header_str(header::ACCEPT_ENCODING)) {
        Ok(encoded) => {
            let gzip = encoded.gzip;
            let mut response = Response::new(body_of(registry, encoded));
            let h = response.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
            );
            h.insert(
                header::VARY,
                HeaderValue::from_static("accept, accept-encoding"),
            );
            if gzip {
                h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Err(err) => {
            tracing::error!("asdlc_metrics: encoding /metrics failed: {err}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
                format!("failed to encode metrics: {err}\n"),
            )
                .into_response()
        }
    }
}

/// axum handler exporting the global [`registry()`](crate::registry).
///
/// ```
/// let app: axum::Router = axum::Router::new()
///     .route("/metrics", axum::routing::get(asdlc_metrics::exposition::metrics_handler));
/// ```
pub async fn metrics_handler(headers: HeaderMap) -> Response {
    respond(crate::registry(), &headers)
}

/// A `GET` route exporting `registry`, for routers with any state.
///
/// ```
/// let registry = asdlc_metrics::Registry::with_service("demo");
/// let app: axum::Router = axum::Router::new()
///     .route("/metrics", asdlc_metrics::exposition::metrics_route(registry));
/// ```
pub fn metrics_route<S: Clone + Send + Sync + 'static>(registry: Registry) -> MethodRouter<S> {
    get(move |headers: HeaderMap| {
        let registry = registry.clone();
        async move { respond(&registry, &headers) }
    })
}
