//! Watching a request body for a read that fails: a client that leaves
//! while its body is read makes the handler's extractor answer 400 (or
//! whatever it makes of the error), but the request is the client's
//! cancellation, recorded as [`CANCELLED_STATUS`].

use std::any::Any;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use pin_project_lite::pin_project;

use super::labels::CANCELLED_STATUS;
use crate::server::is_body_timeout;

/// The status a failed body read stands for: `408` when the server's body
/// deadline passed (the client was too slow), otherwise `499` (the
/// connection broke: the client left).
const BODY_TIMEOUT_STATUS: u16 = 408;

/// What a watched body saw: `0` while nothing went wrong, else the status
/// to record instead of the response's.
#[derive(Debug, Default)]
pub(super) struct BodyWatch(AtomicU16);

impl BodyWatch {
    /// The status to record instead of the response's, if the body failed.
    pub(super) fn failed_status(&self) -> Option<u16> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            status => Some(status),
        }
    }
}

pin_project! {
    /// A request body that reports a failed read to its [`BodyWatch`].
    struct WatchedBody {
        #[pin]
        inner: Body,
        watch: Arc<BodyWatch>,
    }
}

impl http_body::Body for WatchedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.project();
        match this.inner.poll_frame(cx) {
            Poll::Ready(Some(Err(error))) => {
                let status = if is_body_timeout(&error) {
                    BODY_TIMEOUT_STATUS
                } else {
                    CANCELLED_STATUS
                };
                this.watch.0.store(status, Ordering::Release);
                Poll::Ready(Some(Err(error)))
            }
            Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
            Poll::Ready(None) => Poll::Ready(None),
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

/// `body`, watched when it is an axum [`Body`] with something to read (a
/// `Router` passes its routes nothing else). An empty body (most GETs) and
/// other body types are passed on as they are, with no allocation.
pub(super) fn watch<B: 'static>(mut body: B) -> (B, Option<Arc<BodyWatch>>) {
    let watch = (&mut body as &mut dyn Any)
        .downcast_mut::<Body>()
        .and_then(watch_axum_body);
    (body, watch)
}

fn watch_axum_body(body: &mut Body) -> Option<Arc<BodyWatch>> {
    if http_body::Body::is_end_stream(body) {
        return None;
    }
    let watch = Arc::new(BodyWatch::default());
    let inner = std::mem::take(body);
    *body = Body::new(WatchedBody {
        inner,
        watch: Arc::clone(&watch),
    });
    Some(watch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A body whose connection broke after `sent` bytes.
    struct Broken {
        sent: Option<Bytes>,
    }

    impl http_body::Body for Broken {
        type Data = Bytes;
        type Error = std::io::Error;

        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Ready(Some(match self.sent.take() {
                Some(bytes) => Ok(Frame::data(bytes)),
                None => Err(std::io::ErrorKind::UnexpectedEof.into()),
            }))
        }
    }

    #[tokio::test]
    async fn a_broken_read_is_a_cancellation() {
        let (body, watched) = watch(Body::new(Broken {
            sent: Some(Bytes::from_static(b"{\"tit")),
        }));
        let watched = watched.expect("a body with data is watched");
        assert_eq!(watched.failed_status(), None);
        assert!(axum::body::to_bytes(body, usize::MAX).await.is_err());
        assert_eq!(watched.failed_status(), Some(CANCELLED_STATUS));
    }

    #[tokio::test]
    async fn an_empty_body_or_another_type_is_not_watched() {
        let (body, watched) = watch(Body::empty());
        assert!(watched.is_none());
        assert!(axum::body::to_bytes(body, 16).await.unwrap().is_empty());
        let (body, watched) = watch(String::from("not an axum body"));
        assert!(watched.is_none());
        assert_eq!(body, "not an axum body");
    }
}
