//! The trace context of the running code, as recording sites ask for it.
//!
//! A thread-local stack holds the contexts entered on this thread, the
//! innermost on top: those of traced `tracing` spans
//! ([`TraceIdLayer`](super::TraceIdLayer) pushes one when such a span is
//! entered, pops it when it exits) and of the request being polled
//! ([`MetricsLayer`](crate::MetricsLayer) pushes its `traceparent` around
//! each poll). Reading it is the whole cost of an un-traced call: one
//! thread-local load.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, Ordering};

use super::TraceContext;

/// Contexts kept per thread. Entered deeper than this, the innermost ones
/// are not kept: code there sees the deepest kept context, an outer trace of
/// the same thread, until it is back within the depth.
const DEPTH: usize = 8;

/// The thread's stack of entered contexts.
///
/// A stack, not one `Cell<Option<TraceContext>>` whose previous value each
/// entry saves and restores: entering is then one write of the context and
/// the depth, leaving one write of the depth, where saving and restoring
/// moved the 49-byte context in and out four times around every poll of a
/// traced request.
struct Stack {
    /// How many contexts are entered (may exceed `DEPTH`).
    depth: Cell<usize>,
    /// The first `min(depth, DEPTH)` are meaningful.
    contexts: [Cell<TraceContext>; DEPTH],
}

thread_local! {
    static CURRENT: Stack = const {
        Stack {
            depth: Cell::new(0),
            contexts: [const { Cell::new(TraceContext::PLACEHOLDER) }; DEPTH],
        }
    };
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
/// between the OpenTelemetry context and the thread-local stack. A context
/// found elsewhere is kept in `found`: the result borrows it or `request`,
/// so a request's own context is not copied.
// Used by the middleware (feature `axum`).
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
#[inline]
pub(crate) fn current_or<'a>(
    request: Option<&'a TraceContext>,
    found: &'a mut Option<TraceContext>,
) -> Option<&'a TraceContext> {
    #[cfg(feature = "opentelemetry")]
    if let Some(otel) = super::otel::current() {
        return Some(found.insert(otel));
    }
    match request {
        Some(request) => Some(request),
        None => {
            *found = slot();
            found.as_ref()
        }
    }
}

#[inline]
fn slot() -> Option<TraceContext> {
    if !IN_USE.load(Ordering::Relaxed) {
        return None;
    }
    // `try_with`: a guard dropped while the thread's locals are being torn
    // down records without an exemplar instead of panicking.
    CURRENT
        .try_with(|stack| {
            let depth = stack.depth.get().min(DEPTH);
            let top = stack.contexts.get(depth.checked_sub(1)?)?;
            Some(top.get())
        })
        .ok()
        .flatten()
}

/// Makes `context` the current one until the matching [`pop`].
#[inline]
pub(crate) fn push(context: &TraceContext) {
    if !IN_USE.load(Ordering::Relaxed) {
        IN_USE.store(true, Ordering::Relaxed);
    }
    let _ = CURRENT.try_with(|stack| {
        let depth = stack.depth.get();
        if let Some(slot) = stack.contexts.get(depth) {
            slot.set(*context);
        }
        // Wrapping: a thread does not enter 2^64 contexts.
        stack.depth.set(depth.wrapping_add(1));
    });
}

/// Leaves the context of the last [`push`]: the one before it is current
/// again.
#[inline]
pub(crate) fn pop() {
    let _ = CURRENT.try_with(|stack| stack.depth.set(stack.depth.get().saturating_sub(1)));
}

/// A context pushed for as long as it lives, on this thread (it is not
/// `Send`): what the middleware holds around a poll, so that a panicking
/// poll pops it too.
#[cfg_attr(not(feature = "axum"), allow(dead_code))]
#[must_use]
pub(crate) struct Scope {
    _this_thread: PhantomData<*const ()>,
}

#[cfg_attr(not(feature = "axum"), allow(dead_code))]
impl Scope {
    #[inline]
    pub(crate) fn enter(context: &TraceContext) -> Self {
        push(context);
        Scope {
            _this_thread: PhantomData,
        }
    }
}

impl Drop for Scope {
    #[inline]
    fn drop(&mut self) {
        pop();
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
            let _a = Scope::enter(&a);
            assert_eq!(current(), Some(a));
            {
                let _b = Scope::enter(&b);
                assert_eq!(current(), Some(b));
                assert_eq!(
                    current_or(Some(&a), &mut None),
                    Some(&a),
                    "the request's own context ranks first"
                );
                assert_eq!(current_or(None, &mut None), Some(&b));
            }
            assert_eq!(current(), Some(a));
        }
        assert_eq!(current(), None);
    }

    #[test]
    fn deeper_than_the_stack_sees_the_deepest_kept_and_unwinds_exactly() {
        let contexts: Vec<TraceContext> = (1..=DEPTH as u128 + 3)
            .map(|i| TraceContext::new(i, None).unwrap())
            .collect();
        for (i, c) in contexts.iter().enumerate() {
            push(c);
            let expected = contexts[i.min(DEPTH - 1)];
            assert_eq!(current(), Some(expected), "entered {}", i + 1);
        }
        for i in (0..contexts.len()).rev() {
            pop();
            let expected = i.checked_sub(1).map(|j| contexts[j.min(DEPTH - 1)]);
            assert_eq!(current(), expected, "left {}", i + 1);
        }
        pop(); // one pop too many: nothing to leave, nothing breaks
        assert_eq!(current(), None);
        push(&contexts[0]);
        assert_eq!(current(), Some(contexts[0]));
        pop();
    }
}
