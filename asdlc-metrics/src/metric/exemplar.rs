//! Exemplar storage of a series: the last exemplar per bucket of a
//! histogram, allocated on the first exemplar so that series never traced
//! pay one pointer, and the one slot of a counter (kept in the counter's
//! [extras](super::counter)).

use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::clock::Stamp;
use crate::exemplar::{ID_WORDS, TraceContext};

/// One exemplar as a scrape reads it: the trace, the observed value, and
/// when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Exemplar {
    pub(crate) trace: TraceContext,
    pub(crate) value: f64,
    /// Unix milliseconds, fixed by the first scrape that read it: every
    /// later scrape repeats the same time, so Prometheus sees one exemplar
    /// again (a duplicate it skips), never an older one (which it rejects as
    /// out of order).
    unix_millis: u64,
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

impl Exemplar {
    /// Seconds since the Unix epoch when it was recorded, to the
    /// millisecond (Prometheus keeps milliseconds).
    pub(crate) fn unix_seconds(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)] // ms since 1970 fit in f64's 53 bits
        let seconds = self.unix_millis as f64 / 1000.0;
        seconds
    }
}

/// Unix milliseconds at `stamp`: now, less the time since it.
fn unix_millis(stamp: Stamp) -> u64 {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(now.saturating_sub(stamp.elapsed()).as_millis()).unwrap_or(u64::MAX)
}

/// [`unix_millis`] of an OS-clock stamp, at recording: such a stamp does
/// not fit a word, its Unix time does. Only before the fast clock is
/// calibrated (the first ~200 ms of a process).
#[cold]
#[inline(never)]
fn os_stamp_millis(stamp: Stamp) -> u64 {
    unix_millis(stamp)
}

/// [`ExemplarSlot::form`] bits: it holds an exemplar.
const PRESENT: u8 = 1;
/// The id words are hex text (else bytes).
const HEX: u8 = 2;
/// `at` holds Unix milliseconds (else ticks of the fast clock).
const UNIX_MS: u8 = 4;

/// One exemplar slot: the last exemplar kept there.
///
/// A try-flag and atomic words, not a `Mutex<Exemplar>`: a request with a
/// trace stores two exemplars, and the mutex's poison checks around each
/// store and its unlock (an atomic swap) were half a store's instructions
/// (`benches/scripts/middleware_instructions.sh`). All safe code: one
/// atomic swap takes the flag, the words are plain relaxed stores, the
/// flag's release store publishes them to whoever takes it next.
#[derive(Default)]
pub(crate) struct ExemplarSlot {
    /// Taken by whoever writes or reads the words.
    busy: AtomicBool,
    /// `PRESENT`, `HEX`, `UNIX_MS`; zero until the first exemplar.
    form: AtomicU8,
    /// The ids ([`TraceContext::words`]).
    ids: [AtomicU64; ID_WORDS],
    /// The observed value, as `f64` bits.
    value: AtomicU64,
    /// When: fast-clock ticks, or Unix milliseconds (`UNIX_MS`).
    at: AtomicU64,
}

impl ExemplarSlot {
    /// Keeps `value` with `traced`. Last writer wins; a writer that finds
    /// the slot busy drops its exemplar rather than wait (the other one is
    /// just as recent).
    #[inline(always)]
    pub(crate) fn record(&self, traced: &Traced<'_>, value: f64) {
        let (at, when) = match traced.at {
            Stamp::Fast(ticks) => (ticks, 0),
            os @ Stamp::Os(_) => (os_stamp_millis(os), UNIX_MS),
        };
        if self.busy.swap(true, Ordering::Acquire) {
            return;
        }
        let (ids, hex) = traced.trace.words();
        for (slot, word) in self.ids.iter().zip(ids) {
            slot.store(word, Ordering::Relaxed);
        }
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.at.store(at, Ordering::Relaxed);
        let hex = if hex { HEX } else { 0 };
        self.form.store(PRESENT | hex | when, Ordering::Relaxed);
        self.busy.store(false, Ordering::Release);
    }

    /// The exemplar kept here, if any, its time fixed from now on.
    pub(crate) fn get(&self) -> Option<Exemplar> {
        // A writer holds the flag for a few stores: wait it out.
        let mut spins = 0u32;
        while self.busy.swap(true, Ordering::Acquire) {
            spins = spins.saturating_add(1);
            if spins < 64 {
                std::hint::spin_loop();
            } else {
                std::thread::yield_now();
            }
        }
        let exemplar = self.read_held();
        self.busy.store(false, Ordering::Release);
        exemplar
    }

    /// [`get`](Self::get)'s read, with the flag held.
    fn read_held(&self) -> Option<Exemplar> {
        let form = self.form.load(Ordering::Relaxed);
        if form & PRESENT == 0 {
            return None;
        }
        let ids = self.ids.each_ref().map(|w| w.load(Ordering::Relaxed));
        let mut at = self.at.load(Ordering::Relaxed);
        if form & UNIX_MS == 0 {
            at = unix_millis(Stamp::Fast(at));
            self.at.store(at, Ordering::Relaxed);
            self.form.store(form | UNIX_MS, Ordering::Relaxed);
        }
        Some(Exemplar {
            trace: TraceContext::from_words(ids, form & HEX != 0),
            value: f64::from_bits(self.value.load(Ordering::Relaxed)),
            unix_millis: at,
        })
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

    /// The contexts of writer `i`: both forms, each id different.
    fn context_of(i: u64) -> TraceContext {
        if i % 2 == 0 {
            TraceContext::new(u128::from(i + 1) * 0x0101_0101_0101_0101, Some(i + 7)).unwrap()
        } else {
            let digits = format!("{:032x}", u128::from(i + 1) * 0x1111_1111_1111_1111);
            let header = format!("00-{digits}-{:016x}-01", i + 9);
            TraceContext::from_traceparent(&header).unwrap()
        }
    }

    #[test]
    fn concurrent_writers_and_readers_never_see_a_mix_of_two_exemplars() {
        let slot = ExemplarSlot::default();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            for i in 0..4u64 {
                let (slot, stop) = (&slot, &stop);
                s.spawn(move || {
                    let trace = context_of(i);
                    #[allow(clippy::cast_precision_loss)] // small numbers
                    let value = i as f64;
                    while !stop.load(Ordering::Relaxed) {
                        slot.record(&Traced::now(&trace), value);
                    }
                });
            }
            // Reads until two writers' exemplars were seen and 2,000
            // reads made (a hang guard of 60 s, far beyond what it takes).
            let started = std::time::Instant::now();
            let mut seen = [false; 4];
            let mut reads = 0;
            while reads < 2_000 || seen.iter().filter(|&&s| s).count() < 2 {
                assert!(started.elapsed().as_secs() < 60, "writers never took turns");
                if let Some(kept) = slot.get() {
                    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
                    let writer = kept.value as u64;
                    assert_eq!(
                        kept.trace,
                        context_of(writer),
                        "the trace of the value's writer"
                    );
                    seen[usize::try_from(writer).unwrap()] = true;
                    reads += 1;
                }
            }
            stop.store(true, Ordering::Relaxed);
        });
    }

    #[test]
    fn both_forms_and_both_clocks_read_back() {
        let slot = ExemplarSlot::default();
        assert!(slot.get().is_none(), "empty until the first exemplar");
        for i in 0..2 {
            let trace = context_of(i);
            let os = Traced {
                trace: &trace,
                at: Stamp::Os(std::time::Instant::now()),
            };
            slot.record(&os, 1.5);
            let kept = slot.get().unwrap();
            assert_eq!((kept.trace, kept.value), (trace, 1.5));
            let label = |t: TraceContext| {
                let mut out = Vec::new();
                t.write_labels(&mut out);
                out
            };
            assert_eq!(label(kept.trace), label(trace), "the same label text");
            let again = slot.get().unwrap();
            assert_eq!(again.unix_millis, kept.unix_millis, "the time is fixed");
        }
    }
}
