//! Counting processed events into `asdlc_events_processed_total{event_type,
//! status}` with a guard, so an event is counted however its handling ends.

use crate::{Counter, CounterVec, LabelValue};

/// The `status` of a processed event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, crate::LabelValue)]
pub enum EventStatus {
    /// Handled.
    Success,
    /// Failed, panicked, or abandoned before it was marked.
    Failed,
}

/// Counts one event when dropped: `status="success"` if
/// [`EventGuard::success`] was called, `"failed"` otherwise (an error, a
/// panic, a cancelled task — an event that was not marked done did not
/// succeed). Get one with [`track`].
#[derive(Debug)]
#[must_use = "the event is counted when the guard is dropped; mark it with .success() first"]
pub struct EventGuard {
    success: Counter,
    failure: Counter,
    succeeded: bool,
}

impl EventGuard {
    /// Marks the event handled (it is counted when the guard drops).
    pub fn success(mut self) {
        self.succeeded = true;
    }

    /// Marks the event failed (the same as dropping the guard; says so).
    pub fn failure(self) {}

    /// Marks the event after a `Result`: `Ok` is success, `Err` failure.
    /// Returns the result unchanged.
    pub fn finish<T, E>(mut self, result: Result<T, E>) -> Result<T, E> {
        self.succeeded = result.is_ok();
        result
    }
}

impl Drop for EventGuard {
    fn drop(&mut self) {
        let current = crate::exemplar::current::current();
        let trace = current.as_ref().map(crate::metric::Traced::now);
        if self.succeeded {
            self.success.inc_traced(trace);
        } else {
            self.failure.inc_traced(trace);
        }
    }
}

/// Starts counting one event of type `event_type` in the global
/// `asdlc_events_processed_total`. `event_type` is best a
/// `#[derive(LabelValue)]` enum, which bounds the label's values by type.
///
/// ```
/// use asdlc_metrics::LabelValue;
///
/// #[derive(LabelValue, Clone, Copy)]
/// enum EventType {
///     TaskCreated,
/// }
///
/// fn handle() -> Result<(), String> {
///     Ok(())
/// }
///
/// let event = asdlc_metrics::events::track(EventType::TaskCreated);
/// let _ = event.finish(handle()); // status="success"
///
/// let event = asdlc_metrics::events::track(EventType::TaskCreated);
/// drop(event); // status="failed": it was never marked done
/// ```
pub fn track<E: LabelValue>(event_type: E) -> EventGuard {
    track_in(&crate::standard().events_processed_total, event_type)
}

/// [`track`] into another `{event_type, status}` counter family (for a
/// registry of your own).
pub fn track_in<E: LabelValue>(family: &CounterVec, event_type: E) -> EventGuard {
    let event_type = event_type.label_value();
    EventGuard {
        success: family.with_label_values(&[event_type, EventStatus::Success.label_value()]),
        failure: family.with_label_values(&[event_type, EventStatus::Failed.label_value()]),
        succeeded: false,
    }
}
