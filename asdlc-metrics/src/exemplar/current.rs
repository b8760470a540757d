//! The trace context of the running code, as recording sites ask for it.
//!
//! One thread-local slot holds the context of the innermost traced
//! `tracing` span entered on this thread ([`TraceIdLayer`](super::TraceIdLayer)
//! keeps it) or of the request being polled ([`MetricsLayer`](crate::MetricsLayer)
//! sets it from `traceparent`). Reading it is the whole cost of an
//! un-traced call: one thread-local load.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

use super::TraceContext;

thread_local! {
    static CURRENT: Cell<Option<TraceContext>> = const { Cell::new(None) };
}

/// Whether any thread ever set the slot. Until then (a service that never
/// sees a trace) a recording site reads this one shared, never-written flag
/// instead of the thread-local.
static IN_USE: AtomicBool = AtomicBool::new(false);

/// The OpenTelemetry context first (when built with it), then the
/// thread-local slot.
#[inline]
pub(crate) fn current() -> Option<TraceContext> {
    #[cfg(feature = "opentelemetry")]
    if let Some(otel) = super::otel::current() {
        return Some(otel);
    }
    slot()
}

/// Whether [`current`] is certainly `None` (no OpenTelemetry support built
/// in, and no thread ever set the slot): one relaxed load, so a call site
/// can take its shortest path without looking any further.
#[inline]
pub(crate) fn certainly_none() -> bool {
    !cfg!(feature = "opentelemetry") && !IN_USE.load(Ordering::Relaxed)
}

/// As [`current`], with `request` (a request's `traceparent`) ranked
/// between the OpenTelemetry context and the thread-local slot.
// Used by the middleware (feature `axum`).
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
#[inline]
pub(crate) fn current_or(request: Option<TraceContext>) -> Option<TraceContext> {
    #[cfg(feature = "opentelemetry")]
    if let Some(otel) = super::otel::current() {
        return Some(otel);
    }
    request.or_else(slot)
}

#[inline]
fn slot() -> Option<TraceContext> {
    if !IN_USE.load(Ordering::Relaxed) {
        return None;
    }
    // `try_with`: a guard dropped while the thread's locals are being torn
    // down records without an exemplar instead of panicking.
    CURRENT.try_with(Cell::get).ok().flatten()
}

/// Replaces the slot and returns what it held.
#[inline]
pub(crate) fn replace(context: Option<TraceContext>) -> Option<TraceContext> {
    if context.is_some() && !IN_USE.load(Ordering::Relaxed) {
        IN_USE.store(true, Ordering::Relaxed);
    }
    CURRENT.try_with(|c| c.replace(context)).ok().flatten()
}

/// Sets the slot for as long as it lives, then restores what was there.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
#[must_use]
pub(crate) struct Scope {
    previous: Option<TraceContext>,
}

#[cfg_attr(not(feature = "axum"), allow(dead_code))]
impl Scope {
    #[inline]
    pub(crate) fn enter(context: TraceContext) -> Self {
        Scope {
            previous: replace(Some(context)),
        }
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        replace(self.previous);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_nest_and_restore() {
        let a = TraceContext::new(1, None).unwrap();
        let b = TraceContext::new(2, None).unwrap();
        assert_eq!(slot(), None);
        {
            let _a = Scope::enter(a);
            assert_eq!(current(), Some(a));
            {
                let _b = Scope::enter(b);
                assert_eq!(current(), Some(b));
                assert_eq!(
                    current_or(Some(a)),
                    Some(a),
                    "the request's own context ranks first"
                );
            }
            assert_eq!(current(), Some(a));
        }
        assert_eq!(current(), None);
    }
}
