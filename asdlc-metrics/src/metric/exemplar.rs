//! Exemplar storage of a series: the last exemplar per bucket of a
//! histogram, allocated on the first exemplar so that series never traced
//! pay one pointer, and the one slot of a counter (kept in the counter's
//! [extras](super::counter)).

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::clock::Stamp;
use crate::exemplar::TraceContext;

/// One exemplar: the trace, the observed value, and when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exemplar {
    pub(crate) trace: TraceContext,
    pub(crate) value: f64,
    at: When,
}

/// A call's trace context and the moment it was recorded: made once per
/// call and shared by every family the call records into (its duration
/// and its count), so a call keeping two exemplars reads the clock once.
///
/// It borrows the context: the recording copies it once, into each slot
/// it keeps it in, where passing it by value copied it on every hand-over.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Traced<'a> {
    pub(crate) trace: &'a TraceContext,
    pub(crate) at: Stamp,
}

impl<'a> Traced<'a> {
    /// `trace`, recorded now.
    #[inline]
    pub(crate) fn now(trace: &'a TraceContext) -> Self {
        Traced {
            trace,
            at: Stamp::now(),
        }
    }
}

/// When an exemplar was recorded.
#[derive(Debug, Clone, Copy)]
enum When {
    /// Not yet: the slot holds no exemplar.
    Never,
    /// A monotonic stamp: a few ns to take, where the wall clock costs
    /// ~25 ns on the recording path.
    Stamp(Stamp),
    /// Unix milliseconds, fixed by the first scrape that wrote it: every
    /// later scrape repeats the same time, so Prometheus sees one exemplar
    /// again (a duplicate it skips), never an older one (which it rejects as
    /// out of order).
    UnixMillis(u64),
}

impl Exemplar {
    /// Seconds since the Unix epoch when it was recorded, to the
    /// millisecond (Prometheus keeps milliseconds).
    pub(crate) fn unix_seconds(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // ms since 1970 fit in f64's 53 bits
        let seconds = self.unix_millis().unwrap_or(0) as f64 / 1000.0;
        seconds
    }

    /// `None` for a slot's exemplar not yet recorded.
    fn unix_millis(&self) -> Option<u64> {
        match self.at {
            When::Never => None,
            When::UnixMillis(ms) => Some(ms),
            When::Stamp(stamp) => {
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or(Duration::ZERO);
                Some(
                    u64::try_from(now.saturating_sub(stamp.elapsed()).as_millis())
                        .unwrap_or(u64::MAX),
                )
            }
        }
    }
}

/// One exemplar slot: the last exemplar kept there.
///
/// An `Exemplar` whose time says whether it holds one, not an
/// `Option<Exemplar>`: a recording then writes the fields in place, where
/// the compiler built the whole `Option` on the stack and copied it in.
pub(crate) struct ExemplarSlot(Mutex<Exemplar>);

impl Default for ExemplarSlot {
    fn default() -> Self {
        ExemplarSlot(Mutex::new(Exemplar {
            trace: TraceContext::PLACEHOLDER,
            value: 0.0,
            at: When::Never,
        }))
    }
}

impl ExemplarSlot {
    /// Keeps `value` with `traced`. Last writer wins; a writer that finds
    /// the slot busy drops its exemplar rather than wait (the other one is
    /// just as recent).
    #[inline(always)]
    pub(crate) fn record(&self, traced: &Traced<'_>, value: f64) {
        if let Ok(mut kept) = self.0.try_lock() {
            kept.trace = *traced.trace;
            kept.value = value;
            kept.at = When::Stamp(traced.at);
        }
    }

    /// The exemplar kept here, if any, its time fixed from now on.
    pub(crate) fn get(&self) -> Option<Exemplar> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        kept.at = When::UnixMillis(kept.unix_millis()?);
        Some(*kept)
    }
}

/// One slot per bucket: the last exemplar.
type Slots = Box<[ExemplarSlot]>;

/// The exemplar slots of one histogram series.
#[derive(Default)]
pub(crate) struct ExemplarSlots {
    // A thin pointer (the boxed slice inside a box): unused, this costs a
    // histogram series 16 bytes, not 24.
    slots: OnceLock<Box<Slots>>,
}

impl std::fmt::Debug for ExemplarSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExemplarSlots")
            .field("allocated", &self.slots.get().is_some())
            .finish()
    }
}

impl ExemplarSlots {
    /// Keeps `value` with `trace` in slot `index` of `len` (see
    /// [`ExemplarSlot::record`]).
    // Out of line: the caller's un-traced path stays a test and a branch.
    #[cold]
    #[inline(never)]
    pub(crate) fn record(&self, len: usize, index: usize, traced: &Traced<'_>, value: f64) {
        self.record_in_line(len, index, traced, value);
    }

    /// [`record`](Self::record) in line, for a caller that is out of line
    /// itself.
    #[inline(always)]
    pub(crate) fn record_in_line(&self, len: usize, index: usize, traced: &Traced<'_>, value: f64) {
        let slots = self
            .slots
            .get_or_init(|| Box::new((0..len).map(|_| ExemplarSlot::default()).collect()));
        if let Some(slot) = slots.get(index) {
            slot.record(traced, value);
        }
    }

    /// The exemplar in slot `index`, if one was recorded, its time fixed
    /// from now on.
    pub(crate) fn get(&self, index: usize) -> Option<Exemplar> {
        self.slots.get()?.get(index)?.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_exemplar_per_slot_is_kept_with_its_time() {
        let slots = ExemplarSlots::default();
        assert!(slots.get(0).is_none());
        let a = TraceContext::new(1, None).unwrap();
        let b = TraceContext::new(2, None).unwrap();
        slots.record(3, 1, &Traced::now(&a), 0.5);
        slots.record(3, 1, &Traced::now(&b), 0.7);
        slots.record(3, 7, &Traced::now(&a), 9.0); // out of range: ignored, no panic
        assert!(slots.get(0).is_none());
        let kept = slots.get(1).unwrap();
        assert_eq!((kept.trace, kept.value), (b, 0.7));
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        assert!(
            (now - kept.unix_seconds()).abs() < 60.0,
            "{}",
            kept.unix_seconds()
        );
    }
}
