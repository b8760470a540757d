use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use super::series::{Cell, sealed::Sealed};
use super::{MetricKind, Series};
use crate::encoding::TextWriter;

/// Value store of a [`Gauge`](super::Gauge): one atomic `i64`.
#[derive(Debug, Default)]
pub struct GaugeCell {
    value: AtomicI64,
}

impl Sealed for GaugeCell {}

impl Cell for GaugeCell {
    const KIND: MetricKind = MetricKind::Gauge;

    fn new(_buckets: Option<&Arc<[f64]>>) -> Self {
        GaugeCell::default()
    }

    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>) {
        out.series_head(name, "", labels, None);
        out.value_i64(self.value.load(Ordering::Relaxed));
    }
}

impl GaugeCell {
    #[inline]
    pub(crate) fn add(&self, v: i64) {
        self.value.fetch_add(v, Ordering::Relaxed);
    }
}

impl Series<GaugeCell> {
    /// Sets the value.
    #[inline]
    pub fn set(&self, v: i64) {
        self.cell().value.store(v, Ordering::Relaxed);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.cell().add(1);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.cell().add(-1);
    }

    /// Adds `v` (which may be negative).
    #[inline]
    pub fn add(&self, v: i64) {
        self.cell().add(v);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.cell().value.load(Ordering::Relaxed)
    }
}
