//! The tower `Service` the layer wraps around the router: it resolves each
//! request's endpoint and starts its recording before calling the router.

use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request, Response};
use tower_service::Service;

use super::body::watch;
use super::endpoints::Endpoints;
use super::future::{InFlight, ResponseFuture};
use super::labels::method_index;
use crate::exemplar::TraceContext;

/// W3C Trace Context's header: the request's trace, for exemplars.
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

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
        let trace = request
            .headers()
            .get(&TRACEPARENT)
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
