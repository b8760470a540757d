use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::hot_slots::HotSlot;
use super::series::{Cell, sealed::Sealed};
use super::{ExemplarSlots, MetricKind, Series, Traced};
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
/// And the last exemplar (allocated on first use).
#[derive(Default)]
pub struct CounterCell {
    store: Store,
    exemplar: ExemplarSlots,
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
            exemplar: ExemplarSlots::default(),
        }
    }

    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>) {
        out.series_head(name, "", labels, None);
        let exemplar = out.openmetrics().then(|| self.exemplar.get(0)).flatten();
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

    fn value(&self) -> u64 {
        match &self.store {
            Store::Plain(value) => value.load(Ordering::Relaxed),
            Store::Striped(slot) => slot.sum(),
        }
    }

    /// Adds `v`, with `trace` as the exemplar when there is one.
    #[inline]
    pub(crate) fn add_traced(&self, v: u64, trace: Option<Traced>) {
        self.add(v);
        if let Some(trace) = trace {
            #[allow(clippy::cast_precision_loss)] // an exemplar value, not the count
            self.exemplar.record(1, 0, trace, v as f64);
        }
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
        self.cell().add_traced(1, Some(Traced::now(trace)));
    }

    /// Adds `v` and keeps `trace` as the counter's exemplar.
    #[inline]
    pub fn inc_by_with_exemplar(&self, v: u64, trace: TraceContext) {
        self.cell().add_traced(v, Some(Traced::now(trace)));
    }

    /// Adds one, with the current trace context (if any) as the exemplar:
    /// what the macros and the middleware record.
    #[inline]
    pub(crate) fn inc_traced(&self, trace: Option<Traced>) {
        self.cell().add_traced(1, trace);
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
    fn a_plain_counter_cell_stays_small() {
        // Families of a million plain series: each cell is counted in the
        // bytes per series (BENCHMARKS.md, goal ≤ 200).
        // The value store (16) and the exemplar slot, allocated on first use (16).
        assert!(std::mem::size_of::<CounterCell>() <= 32);
    }
}
