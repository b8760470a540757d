//! The body-read deadline: a request body that has not arrived in full by
//! a fixed time after its headers fails with [`BodyTimeout`].

use std::future::Future as _;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

/// The error a late body ends with. The middleware looks for it to record
/// `408` rather than `499` (the client did not leave, it was too slow).
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyTimeout(pub(crate) Duration);

impl std::fmt::Display for BodyTimeout {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "request body not received within {:?}", self.0)
    }
}

impl std::error::Error for BodyTimeout {}

/// Whether `error` or one of its sources is a [`BodyTimeout`].
pub(crate) fn is_body_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<BodyTimeout>() {
            return true;
        }
        next = error.source();
    }
    false
}

pin_project! {
    /// `inner` with a deadline. The timer is only created when the body
    /// actually has to wait, so requests whose body is already there (or
    /// empty) cost one clock read.
    pub(crate) struct DeadlineBody<B> {
        #[pin]
        inner: B,
        deadline: Instant,
        limit: Duration,
        sleep: Option<Pin<Box<Sleep>>>,
        fired: Arc<AtomicBool>,
    }
}

impl<B> DeadlineBody<B> {
    /// `inner`, due `limit` from now; `fired` is set if the deadline passes.
    pub(crate) fn new(inner: B, limit: Duration, fired: Arc<AtomicBool>) -> Self {
        DeadlineBody {
            inner,
            deadline: Instant::now() + limit,
            limit,
            sleep: None,
            fired,
        }
    }
}

impl<B> Body for DeadlineBody<B>
where
    B: Body<Data = Bytes>,
    B::Error: Into<axum::BoxError>,
{
    type Data = Bytes;
    type Error = axum::BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = *this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => {
                this.fired.store(true, Ordering::Release);
                Poll::Ready(Some(Err(Box::new(BodyTimeout(*this.limit)))))
            }
            Poll::Pending => Poll::Pending,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body whose client sent headers and then nothing.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = std::convert::Infallible;

        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_body_that_never_comes_fails_at_the_deadline() {
        let fired = Arc::new(AtomicBool::new(false));
        let body = DeadlineBody::new(Silent, Duration::from_millis(50), Arc::clone(&fired));
        let error = axum::body::to_bytes(axum::body::Body::new(body), usize::MAX)
            .await
            .expect_err("times out");
        assert!(is_body_timeout(&error), "{error}");
        assert!(fired.load(Ordering::Acquire));
    }

    #[tokio::test]
    async fn a_body_that_is_there_passes_untouched() {
        let fired = Arc::new(AtomicBool::new(false));
        let inner = axum::body::Body::from("complete");
        let body = DeadlineBody::new(inner, Duration::from_secs(3), Arc::clone(&fired));
        let bytes = axum::body::to_bytes(axum::body::Body::new(body), usize::MAX)
            .await
            .expect("read");
        assert_eq!(&bytes[..], b"complete");
        assert!(!fired.load(Ordering::Acquire));
    }
}
