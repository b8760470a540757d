//! The drop guard every attribute macro expands to, and its async wrapper.
//!
//! Recording happens when the guard is dropped, so it happens however the
//! call ends: a normal return records the classified outcome, an unwinding
//! panic records `panic`, and a future dropped before completing records
//! `cancelled`. In-flight gauges go back down in every case.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::outcome::Outcome;
use super::site::{Resolved, Site};
use crate::clock::Stamp;

impl Site {
    /// Starts a call of this site ([`Guard::start`], in fewer tokens for
    /// the expansion).
    #[inline]
    pub fn start(&'static self) -> Guard {
        Guard::start(self)
    }
}

/// Records one call of a [`Site`] when dropped.
#[derive(Debug)]
pub struct Guard {
    site: &'static Resolved,
    start: Option<Stamp>,
    outcome: Option<Outcome>,
}

impl Guard {
    /// Starts a call: resolves the site (first call only), raises its
    /// in-flight gauge and reads the clock if the site is timed.
    #[inline]
    pub fn start(site: &'static Site) -> Self {
        let site = site.get();
        if let Some(gauge) = &site.in_flight {
            gauge.inc();
        }
        Guard {
            site,
            start: site.timed_any.then(Stamp::now),
            outcome: None,
        }
    }

    /// Sets the outcome recorded on drop.
    #[inline]
    pub fn set_outcome(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
    }

    /// Ends a call that returned, recording `outcome` (a call that unwinds
    /// or is cancelled is recorded by `Drop` instead).
    ///
    /// Inlined in optimised builds: recording through the drop glue meant a
    /// call to it from every function, with the guard stored to the stack
    /// first, and the counter's atomic add then waited for those stores.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub fn finish(self, outcome: Outcome) {
        let guard = std::mem::ManuallyDrop::new(self);
        guard.site.record(outcome, guard.start);
    }
}

impl Drop for Guard {
    #[inline]
    fn drop(&mut self) {
        let outcome = self.outcome.unwrap_or_else(|| {
            if std::thread::panicking() {
                Outcome::Panic
            } else {
                Outcome::Cancelled
            }
        });
        self.site.record(outcome, self.start);
    }
}

/// Runs a synchronous body under a guard: `classify` turns the returned
/// value into its outcome; a panic in `body` is recorded by the guard as it
/// unwinds.
#[inline]
pub fn call<R>(
    site: &'static Site,
    body: impl FnOnce() -> R,
    classify: impl FnOnce(&R) -> Outcome,
) -> R {
    let guard = Guard::start(site);
    let value = body();
    guard.finish(classify(&value));
    value
}

/// Moved into (and dropped by) the closure holding a synchronous body, to
/// make it `FnOnce` without a generic call per function.
#[derive(Debug)]
pub struct CallOnce;

impl Drop for CallOnce {
    #[inline]
    fn drop(&mut self) {}
}

/// Evaluates a function body that produces a future (the body of a function
/// returning `impl Future`), so an early `return` in it stays local.
#[inline]
pub fn call_plain<R>(body: impl FnOnce() -> R) -> R {
    body()
}

/// Wraps a future so that its completion, panic or cancellation is recorded.
/// The call starts (clock, in-flight gauge) at the first poll.
///
/// The output type `R` is a separate parameter so the macros can name it:
/// with `Future<Output = R>` known, the compiler types the user's `async`
/// block against `R`, which keeps coercions (`&Vec<u8>` → `&[u8]`) working
/// as in the original function.
pub fn instrument<R, F, C>(site: &'static Site, future: F, classify: C) -> Instrumented<F, C>
where
    F: Future<Output = R>,
    C: FnOnce(&R) -> Outcome,
{
    Instrumented {
        future,
        site,
        classify: Some(classify),
        guard: None,
        polling: false,
    }
}

pin_project_lite::pin_project! {
    /// The future returned by [`instrument`].
    pub struct Instrumented<F, C> {
        #[pin]
        future: F,
        site: &'static Site,
        classify: Option<C>,
        guard: Option<Guard>,
        // True while the inner future is being polled. If a poll unwinds,
        // it stays true: the guard then records `panic` even when the
        // future is dropped after the unwinding ended (as an executor that
        // catches task panics does), when `thread::panicking()` is false.
        polling: bool,
    }

    impl<F, C> PinnedDrop for Instrumented<F, C> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(guard) = this.guard.as_mut() {
                if *this.polling {
                    guard.set_outcome(Outcome::Panic);
                }
            }
        }
    }
}

impl<F, C> Future for Instrumented<F, C>
where
    F: Future,
    C: FnOnce(&F::Output) -> Outcome,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.guard.is_none() && this.classify.is_some() {
            *this.guard = Some(Guard::start(this.site));
        }
        *this.polling = true;
        let poll = this.future.poll(cx);
        *this.polling = false;
        if let Poll::Ready(value) = &poll {
            if let (Some(guard), Some(classify)) = (this.guard.take(), this.classify.take()) {
                guard.finish(classify(value));
            }
        }
        poll
    }
}
