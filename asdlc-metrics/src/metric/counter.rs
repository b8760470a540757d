use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::series::{Cell, sealed::Sealed};
use super::{MetricKind, Series};
use crate::encoding::TextWriter;

/// Value store of a [`Counter`](super::Counter): one atomic `u64`.
#[derive(Debug, Default)]
pub struct CounterCell {
    value: AtomicU64,
}

impl Sealed for CounterCell {}

impl Cell for CounterCell {
    const KIND: MetricKind = MetricKind::Counter;

    fn new(_buckets: Option<&Arc<[f64]>>) -> Self {
        CounterCell::default()
    }

    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>) {
        out.series_head(name, "", labels, None);
        out.value_u64(self.value.load(Ordering::Relaxed));
    }
}

impl CounterCell {
    #[inline]
    pub(crate) fn add(&self, v: u64) {
        self.value.fetch_add(v, Ordering::Relaxed);
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

    /// The current value.
    pub fn get(&self) -> u64 {
        self.cell().value.load(Ordering::Relaxed)
    }
}
