use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::series::{Cell, sealed::Sealed};
use super::{ExemplarSlots, MetricKind, Series};
use crate::encoding::TextWriter;
use crate::exemplar::TraceContext;

/// Value store of a [`Counter`](super::Counter): one atomic `u64`, and the
/// last exemplar.
#[derive(Debug, Default)]
pub struct CounterCell {
    value: AtomicU64,
    exemplar: ExemplarSlots,
}

impl Sealed for CounterCell {}

impl Cell for CounterCell {
    const KIND: MetricKind = MetricKind::Counter;

    fn new(_buckets: Option<&Arc<[f64]>>) -> Self {
        CounterCell::default()
    }

    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>) {
        out.series_head(name, "", labels, None);
        let exemplar = out.openmetrics().then(|| self.exemplar.get(0)).flatten();
        out.value_u64_exemplar(self.value.load(Ordering::Relaxed), exemplar);
    }
}

impl CounterCell {
    #[inline]
    pub(crate) fn add(&self, v: u64) {
        self.value.fetch_add(v, Ordering::Relaxed);
    }

    /// Adds `v`, with `trace` as the exemplar when there is one.
    #[inline]
    pub(crate) fn add_traced(&self, v: u64, trace: Option<TraceContext>) {
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
        self.cell().add_traced(1, Some(trace));
    }

    /// Adds `v` and keeps `trace` as the counter's exemplar.
    #[inline]
    pub fn inc_by_with_exemplar(&self, v: u64, trace: TraceContext) {
        self.cell().add_traced(v, Some(trace));
    }

    /// Adds one, with the current trace context (if any) as the exemplar:
    /// what the macros and the middleware record.
    #[inline]
    pub(crate) fn inc_traced(&self, trace: Option<TraceContext>) {
        self.cell().add_traced(1, trace);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.cell().value.load(Ordering::Relaxed)
    }
}
