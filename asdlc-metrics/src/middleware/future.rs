//! The response future and the guard that records a request however it
//! ends: with a response, an error, a panic, or dropped before a response.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::http::Response;
use pin_project_lite::pin_project;

use super::body::BodyWatch;
use super::endpoints::Endpoint;
use super::labels::{CANCELLED_STATUS, PANIC_STATUS};
use crate::clock::Stamp;
use crate::exemplar::{TraceContext, current};
use crate::metric::Traced;

/// One request being recorded: `in_flight` went up when it was made, and
/// whatever ends it brings it down once.
///
/// Created before the inner service is called, so even a panic in
/// `Service::call` itself is recorded (the guard is dropped while
/// unwinding).
pub(super) struct InFlight {
    /// `None` once recorded, and for requests that are not recorded.
    request: Option<(Arc<Endpoint>, Stamp)>,
    /// The request body's watch, when it has one: a failed read overrides
    /// the response's status.
    body: Option<Arc<BodyWatch>>,
    /// The request's `traceparent`, when it carried a valid one.
    trace: Option<TraceContext>,
}

impl InFlight {
    /// Starts recording a request to `endpoint`, unless it is excluded.
    #[inline]
    pub(super) fn start(
        endpoint: Arc<Endpoint>,
        body: Option<Arc<BodyWatch>>,
        trace: Option<TraceContext>,
    ) -> Self {
        if !endpoint.is_recorded() {
            return InFlight::none();
        }
        endpoint.start();
        InFlight {
            request: Some((endpoint, Stamp::now())),
            body,
            trace,
        }
    }

    /// A request that is not recorded.
    #[inline]
    pub(super) fn none() -> Self {
        InFlight {
            request: None,
            body: None,
            trace: None,
        }
    }

    /// The status to record for a response with `status`: the body's
    /// failure, if its read failed (the client left, or was too slow).
    #[inline]
    fn recorded_status(&self, status: u16) -> u16 {
        self.body
            .as_ref()
            .and_then(|body| body.failed_status())
            .unwrap_or(status)
    }

    #[inline]
    fn finish(&mut self, status: u16) {
        if let Some((endpoint, start)) = self.request.take() {
            // One clock read: the end of the duration is the exemplars' time.
            let end = Stamp::now();
            let elapsed = start.until(end);
            let mut found = None;
            match current::current_or(self.trace.as_ref(), &mut found) {
                None => endpoint.finish(status, elapsed),
                Some(trace) => endpoint.finish_traced(status, elapsed, &Traced { trace, at: end }),
            }
        }
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        // Still pending: no response was produced. Dropped while unwinding
        // means a panic ended the request (in `call`, or in a poll that
        // unwound through a caller that owned the future); otherwise its
        // owner gave up on it, which for a server means the client left.
        let status = if std::thread::panicking() {
            PANIC_STATUS
        } else {
            CANCELLED_STATUS
        };
        self.finish(status);
    }
}

/// Records a panic that unwinds out of the inner future's `poll`.
///
/// [`InFlight`]'s own `Drop` cannot see that panic: the runtime (tokio,
/// hyper) catches it and drops the future afterwards, when the thread is no
/// longer panicking. This guard lives on the stack of `poll` and is
/// forgotten when `poll` returns normally.
struct PollGuard<'a>(&'a mut InFlight);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        self.0.finish(PANIC_STATUS);
    }
}

pin_project! {
    /// The future of [`MetricsService`](super::MetricsService): the inner
    /// service's future, recording the request when it resolves, panics or
    /// is dropped.
    ///
    /// ```
    /// use asdlc_metrics::{middleware::{MetricsLayer, ResponseFuture}, Registry};
    /// use axum::{body::Body, http::Request, routing::get, Router};
    /// use tower_service::Service as _;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let registry = Registry::with_service("demo");
    /// let mut app = tower_layer::Layer::layer(
    ///     &MetricsLayer::for_registry(&registry),
    ///     Router::new().route("/", get(|| async { "hi" })),
    /// );
    /// let future: ResponseFuture<_> = app.call(Request::get("/").body(Body::empty()).unwrap());
    /// drop(future); // never polled: recorded as cancelled
    /// assert!(registry.encode_to_string().contains("status=\"499\""));
    /// # }
    /// ```
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        in_flight: InFlight,
    }
}

impl<F> ResponseFuture<F> {
    pub(super) fn new(inner: F, in_flight: InFlight) -> Self {
        ResponseFuture { inner, in_flight }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if this.in_flight.request.is_none() {
            return this.inner.poll(cx);
        }
        // The handler runs in the request's trace: what it records (a
        // `#[timed]` function it calls) gets the same exemplar.
        let scope = this.in_flight.trace.as_ref().map(current::Scope::enter);
        let guard = PollGuard(this.in_flight);
        let result = this.inner.poll(cx);
        std::mem::forget(guard);
        drop(scope);
        if let Poll::Ready(result) = &result {
            let status = match result {
                Ok(response) => this.in_flight.recorded_status(response.status().as_u16()),
                Err(_) => PANIC_STATUS,
            };
            this.in_flight.finish(status);
        }
        result
    }
}
