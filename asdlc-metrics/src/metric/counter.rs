use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use super::exemplar::{Exemplar, ExemplarSlot};
use super::hot_slots::HotSlot;
use super::series::{Cell, sealed::Sealed};
use super::{MetricKind, Series, Traced};
use crate::encoding::TextWriter;
use crate::exemplar::TraceContext;

/// Value store of a [`Counter`](super::Counter).
///
/// Two layouts, chosen when the series is created:
///
/// * plain (series looked up by label values, the common case for data
///   such as user ids): one atomic `u64`, so a family of a million series
///   stays small;
/// * striped (series resolved once and kept by hot code: the macros' call
///   sites, the middleware's routes, standalone counters): one `u64` slot
///   per thread stripe, packed eight counters to a cache line, so threads
///   counting the same series do not contend. Reads add the stripes up,
///   exactly.
///
/// And, allocated on first use, its extras: the last exemplar and the
/// parts (`CounterPart`s) it adds up when read.
#[derive(Default)]
pub struct CounterCell {
    store: Store,
    // A thin pointer: unused, this costs a series 16 bytes, not 24.
    extras: OnceLock<Box<Extras>>,
}

/// What few counters need, kept out of line.
#[derive(Default)]
struct Extras {
    exemplar: ExemplarSlot,
    /// Counts kept elsewhere that this counter's value includes.
    parts: Mutex<Vec<CounterPart>>,
}

/// A count kept apart from the counters that export it: a call site
/// counts an error with a reason once, in its part for that reason, and
/// both the reason's series and the site's `result="error"` series add the
/// part up when read (one atomic add per error instead of two).
///
/// Striped like a call site's series. Several counters may hold one part;
/// a part holds no parts itself, so reads never loop.
#[derive(Debug, Clone)]
pub(crate) struct CounterPart(Arc<HotSlot>);

impl CounterPart {
    /// A zeroed part.
    pub(crate) fn new() -> Self {
        CounterPart(Arc::new(HotSlot::take()))
    }

    /// Adds one.
    #[inline]
    pub(crate) fn inc(&self) {
        self.0.add(1);
    }

    /// The part's own count.
    pub(crate) fn get(&self) -> u64 {
        self.0.sum()
    }
}

enum Store {
    Plain(AtomicU64),
    Striped(HotSlot),
}

impl Default for Store {
    fn default() -> Self {
        Store::Plain(AtomicU64::new(0))
    }
}

impl std::fmt::Debug for CounterCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CounterCell")
            .field("value", &self.value())
            .field("striped", &matches!(self.store, Store::Striped(_)))
            .finish()
    }
}

impl Sealed for CounterCell {}

impl Cell for CounterCell {
    const KIND: MetricKind = MetricKind::Counter;

    fn new(_buckets: Option<&Arc<[f64]>>) -> Self {
        CounterCell::default()
    }

    fn new_hot(_buckets: Option<&Arc<[f64]>>) -> Self {
        CounterCell {
            store: Store::Striped(HotSlot::take()),
            extras: OnceLock::new(),
        }
    }

    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>) {
        out.series_head(name, "", labels, None);
        let exemplar = out.openmetrics().then(|| self.exemplar()).flatten();
        out.value_u64_exemplar(self.value(), exemplar);
    }
}

impl CounterCell {
    #[inline]
    pub(crate) fn add(&self, v: u64) {
        match &self.store {
            Store::Plain(value) => {
                value.fetch_add(v, Ordering::Relaxed);
            }
            Store::Striped(slot) => slot.add(v),
        }
    }

    /// The counter's own count plus its parts'.
    fn value(&self) -> u64 {
        let own = match &self.store {
            Store::Plain(value) => value.load(Ordering::Relaxed),
            Store::Striped(slot) => slot.sum(),
        };
        let Some(extras) = self.extras.get() else {
            return own;
        };
        let parts = extras.parts.lock().unwrap_or_else(PoisonError::into_inner);
        parts
            .iter()
            .map(CounterPart::get)
            .fold(own, u64::wrapping_add)
    }

    /// Adds `v`, with `trace` as the exemplar when there is one.
    #[inline]
    pub(crate) fn add_traced(&self, v: u64, trace: Option<Traced<'_>>) {
        self.add(v);
        if let Some(trace) = trace {
            #[allow(clippy::cast_precision_loss)] // an exemplar value, not the count
            self.keep_exemplar(&trace, v as f64);
        }
    }

    /// Keeps `trace` as the exemplar of a count of `value` added elsewhere
    /// (in one of this counter's parts).
    // Out of line: the caller's un-traced path stays a test and a branch.
    #[cold]
    #[inline(never)]
    pub(crate) fn keep_exemplar(&self, trace: &Traced<'_>, value: f64) {
        self.extras().exemplar.record(trace, value);
    }

    /// Adds `v` and keeps `traced` as the exemplar, all in line: for a
    /// caller that is itself out of line.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))] // the middleware's
    #[inline(always)]
    pub(crate) fn add_keeping(&self, v: u64, traced: &Traced<'_>) {
        self.add(v);
        #[allow(clippy::cast_precision_loss)] // an exemplar value, not the count
        self.extras().exemplar.record(traced, v as f64);
    }

    fn exemplar(&self) -> Option<Exemplar> {
        self.extras.get()?.exemplar.get()
    }

    /// Makes `part` count in this counter's value from now on.
    pub(crate) fn add_part(&self, part: &CounterPart) {
        self.extras()
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(part.clone());
    }

    #[inline]
    fn extras(&self) -> &Extras {
        self.extras.get_or_init(Box::default)
    }
}

impl Series<CounterCell> {
    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.cell().add(1);
    }

    /// Adds `v`.
    #[inline]
    pub fn inc_by(&self, v: u64) {
        self.cell().add(v);
    }

    /// Adds one and keeps `trace` as the counter's exemplar (exported in
    /// OpenMetrics only; see [`exemplar`](crate::exemplar)).
    ///
    /// ```
    /// use asdlc_metrics::exemplar::TraceContext;
    ///
    /// let c = asdlc_metrics::Counter::new("asdlc_demo_total", "Demo.")?;
    /// c.inc_with_exemplar(TraceContext::new(0xabc, None).unwrap());
    /// assert_eq!(c.get(), 1);
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    #[inline]
    pub fn inc_with_exemplar(&self, trace: TraceContext) {
        self.cell().add_traced(1, Some(Traced::now(&trace)));
    }

    /// Adds `v` and keeps `trace` as the counter's exemplar.
    #[inline]
    pub fn inc_by_with_exemplar(&self, v: u64, trace: TraceContext) {
        self.cell().add_traced(v, Some(Traced::now(&trace)));
    }

    /// Adds one, with the current trace context (if any) as the exemplar:
    /// what the macros and the middleware record.
    #[inline]
    pub(crate) fn inc_traced(&self, trace: Option<Traced<'_>>) {
        self.cell().add_traced(1, trace);
    }

    /// [`CounterCell::add_keeping`] of one.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))] // the middleware's
    #[inline(always)]
    pub(crate) fn inc_keeping(&self, traced: &Traced<'_>) {
        self.cell().add_keeping(1, traced);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.cell().value()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_striped_counter_sums_every_thread_exactly() {
        let cell = CounterCell::new_hot(None);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        cell.add(1);
                    }
                });
            }
        });
        assert_eq!(cell.value(), 80_000);
        let plain = CounterCell::new(None);
        plain.add(3);
        assert_eq!(plain.value(), 3);
    }

    #[test]
    fn a_counter_reads_its_parts_and_a_part_counts_in_each_holder() {
        let part = CounterPart::new();
        let (plain, striped) = (CounterCell::new(None), CounterCell::new_hot(None));
        plain.add(2);
        striped.add(5);
        plain.add_part(&part);
        striped.add_part(&part);
        part.inc();
        part.inc();
        assert_eq!((plain.value(), striped.value(), part.get()), (4, 7, 2));
        let other = CounterPart::new();
        other.inc();
        plain.add_part(&other);
        assert_eq!((plain.value(), striped.value()), (5, 7));
    }

    #[test]
    fn a_plain_counter_cell_stays_small() {
        // Families of a million plain series: each cell is counted in the
        // bytes per series (BENCHMARKS.md, goal ≤ 200).
        // The value store (16) and the extras (exemplar, parts), allocated
        // on first use (16).
        assert!(std::mem::size_of::<CounterCell>() <= 32);
    }
}
