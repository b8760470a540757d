//! The tower `Service` the layer wraps around the router: it resolves each
//! request's endpoint and starts its recording before calling the router.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Request, Response};
use tower_service::Service;

use super::body::watch;
use super::endpoints::Endpoints;
use super::future::{InFlight, ResponseFuture};
use super::labels::method_index;
use crate::exemplar::TraceContext;

/// W3C Trace Context's header: the request's trace, for exemplars.
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// Headers up to which [`traceparent`] compares names rather than hashing.
const SCAN_HEADERS: usize = 16;

/// The request's `traceparent` header, if it has one.
///
/// A request's few headers are compared with its name one by one: most
/// are standard headers, told apart from it by their kind alone, and
/// `HeaderMap::get` hashes the name first (~85 instructions per request,
/// paid with or without the header) and compares it on top when found.
/// Past [`SCAN_HEADERS`] names the hash is cheaper.
#[inline]
fn traceparent(headers: &HeaderMap) -> Option<&HeaderValue> {
    if headers.keys_len() > SCAN_HEADERS {
        return headers.get(&TRACEPARENT);
    }
    headers
        .iter()
        .find_map(|(name, value)| is_traceparent(name).then_some(value))
}

/// Whether `name` is `traceparent`, compared as eleven bytes known at
/// compile time: a few loads in line, where `HeaderName`'s own `==` calls
/// `memcmp` (~30 instructions with the call).
#[inline]
fn is_traceparent(name: &HeaderName) -> bool {
    <&[u8; 11]>::try_from(name.as_str().as_bytes()).is_ok_and(|name| name == b"traceparent")
}

/// The service made by [`MetricsLayer`](super::MetricsLayer): calls the
/// inner service and records the request.
///
/// Cloning is cheap (the inner service and one `Arc`); axum clones it per
/// request.
///
/// ```
/// use asdlc_metrics::middleware::{MetricsLayer, MetricsService};
/// use axum::{routing::get, Router};
///
/// let service: MetricsService<Router> =
///     tower_layer::Layer::layer(&MetricsLayer::new(), Router::new().route("/", get(|| async {})));
/// let _clone = service.clone();
/// ```
#[derive(Clone)]
pub struct MetricsService<S> {
    inner: S,
    endpoints: Arc<Endpoints>,
}

impl<S> MetricsService<S> {
    pub(super) fn new(inner: S, endpoints: Arc<Endpoints>) -> Self {
        MetricsService { inner, endpoints }
    }
}

impl<S> std::fmt::Debug for MetricsService<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsService")
            .field("exclude", &self.endpoints.exclude())
            .finish_non_exhaustive()
    }
}

/// Any request and response body; an axum [`Body`](axum::body::Body) (what
/// a `Router` passes its routes) is watched, to see a client leave while it
/// is read (recorded as `499`).
impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for MetricsService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ReqBody: 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    #[inline]
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let endpoints = &self.endpoints;
        if endpoints.is_excluded(request.uri().path()) {
            let inner = self.inner.call(request);
            return ResponseFuture::new(inner, InFlight::none());
        }
        let template = request
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let endpoint = endpoints.get(method_index(request.method()), template);
        let trace = traceparent(request.headers())
            .and_then(|v| TraceContext::from_traceparent_bytes(v.as_bytes()));
        let (parts, body) = request.into_parts();
        let (body, body_watch) = watch(body);
        let request = Request::from_parts(parts, body);
        let in_flight = InFlight::start(endpoint, body_watch, trace);
        // `in_flight` exists before the inner call: if `call` panics, its
        // drop during unwinding records the request as a 500.
        let inner = self.inner.call(request);
        ResponseFuture::new(inner, in_flight)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (i, name) in names.iter().enumerate() {
            let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from(i));
        }
        map
    }

    #[test]
    fn the_header_is_found_among_few_and_many_as_get_finds_it() {
        let few = [
            "host",
            "x-request",
            "traceparenx",
            "tracestate",
            "traceparent",
        ];
        let many: Vec<String> = (0..=SCAN_HEADERS)
            .map(|i| format!("x-h{i}"))
            .chain(["traceparent".to_owned()])
            .collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        for names in [&few[..], &many[..], &["host"][..], &[][..]] {
            let map = headers(names);
            assert_eq!(traceparent(&map), map.get(&TRACEPARENT), "{names:?}");
        }
        assert!(
            headers(&many).keys_len() > SCAN_HEADERS,
            "the hashed lookup is tested"
        );
        assert_eq!(traceparent(&headers(&few)), Some(&HeaderValue::from(4)));
    }

    #[test]
    fn a_repeated_header_gives_its_first_value() {
        let map = headers(&["traceparent", "host", "traceparent"]);
        assert_eq!(traceparent(&map), Some(&HeaderValue::from(0)));
        assert_eq!(traceparent(&map), map.get(&TRACEPARENT));
    }
}
