use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::clock::Stamp;

use super::series::{Cell, sealed::Sealed};
use super::stripe::{Line, SLOTS_PER_LINE, STRIPES, thread_stripe};
use super::{ExemplarSlots, Metric, MetricKind, Opts, Series, Traced};
use crate::Error;
use crate::encoding::TextWriter;
use crate::encoding::f64_to_string;
use crate::exemplar::TraceContext;

/// The standard request-latency buckets (seconds): `.005 .01 .025 .05 .1
/// .25 .5 1 2.5 5 10`.
pub const DEFAULT_BUCKETS: &[f64] = asdlc_metrics_naming::DEFAULT_BUCKETS;

/// Value store of a [`Histogram`](super::Histogram).
///
/// Observations go to one of several stripes, chosen per thread, each on its
/// own cache lines: two threads timing the same function do not bounce a
/// cache line between them. Each stripe holds the sum (as `f64` bits) and a
/// non-cumulative count per bucket; a scrape adds the stripes up.
pub struct HistogramCell {
    bounds: Arc<[f64]>,
    lines: Box<[Line]>,
    lines_per_stripe: usize,
    stripe_mask: usize,
    /// The last exemplar per bucket (finite buckets, then `+Inf`).
    exemplars: ExemplarSlots,
}

impl std::fmt::Debug for HistogramCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HistogramCell")
            .field("bounds", &self.bounds)
            .field("count", &self.count())
            .field("sum", &self.sum())
            .finish_non_exhaustive()
    }
}

impl Sealed for HistogramCell {}

impl Cell for HistogramCell {
    const KIND: MetricKind = MetricKind::Histogram;

    fn new(buckets: Option<&Arc<[f64]>>) -> Self {
        let bounds = buckets
            .cloned()
            .unwrap_or_else(|| Arc::from(DEFAULT_BUCKETS));
        // Slot 0: sum; slots 1..=len: finite buckets; slot len+1: +Inf.
        let slots = bounds.len() + 2;
        let lines_per_stripe = slots.div_ceil(SLOTS_PER_LINE);
        let stripes = *STRIPES;
        let lines = (0..stripes * lines_per_stripe)
            .map(|_| Line::default())
            .collect();
        HistogramCell {
            bounds,
            lines,
            lines_per_stripe,
            stripe_mask: stripes - 1,
            exemplars: ExemplarSlots::default(),
        }
    }

    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>) {
        let mut cumulative = 0u64;
        // Exemplars are read (and locked) only for a format that has them.
        let openmetrics = out.openmetrics();
        let exemplar = |i| openmetrics.then(|| self.exemplars.get(i)).flatten();
        for (i, bound) in self.bounds.iter().enumerate() {
            cumulative += self.bucket_total(i + 1);
            let le = f64_to_string(*bound);
            out.series_head(name, "_bucket", labels, Some(&le));
            out.value_u64_exemplar(cumulative, exemplar(i));
        }
        cumulative += self.bucket_total(self.bounds.len() + 1);
        out.series_head(name, "_bucket", labels, Some("+Inf"));
        out.value_u64_exemplar(cumulative, exemplar(self.bounds.len()));
        out.series_head(name, "_sum", labels, None);
        out.value_f64(self.sum());
        out.series_head(name, "_count", labels, None);
        out.value_u64(cumulative);
    }
}

impl HistogramCell {
    #[inline]
    fn slot(&self, stripe: usize, slot: usize) -> &AtomicU64 {
        let index = stripe * self.lines_per_stripe * SLOTS_PER_LINE + slot;
        &self.lines[index / SLOTS_PER_LINE].0[index % SLOTS_PER_LINE]
    }

    #[inline]
    pub(crate) fn observe(&self, v: f64) {
        self.observe_in(self.bucket_of(v), v);
    }

    /// Records `v`, with `trace` as its bucket's exemplar when there is one.
    #[inline]
    pub(crate) fn observe_traced(&self, v: f64, trace: Option<Traced<'_>>) {
        let bucket = self.bucket_of(v);
        self.observe_in(bucket, v);
        if let Some(trace) = trace {
            self.exemplars
                .record(self.bounds.len() + 1, bucket, &trace, v);
        }
    }

    /// Records `v` and keeps `traced` as its bucket's exemplar, all in
    /// line: for a caller that is itself out of line.
    #[cfg_attr(not(feature = "axum"), allow(dead_code))] // the middleware's
    #[inline(always)]
    pub(crate) fn observe_keeping(&self, v: f64, traced: &Traced<'_>) {
        let bucket = self.bucket_of(v);
        self.observe_in(bucket, v);
        self.exemplars
            .record_in_line(self.bounds.len() + 1, bucket, traced, v);
    }

    /// The index of the bucket `v` falls in (`bounds.len()`: `+Inf`).
    #[inline]
    fn bucket_of(&self, v: f64) -> usize {
        if self.bounds.len() <= 16 {
            self.bounds
                .iter()
                .position(|&b| v <= b)
                .unwrap_or(self.bounds.len())
        } else if v.is_nan() {
            self.bounds.len()
        } else {
            self.bounds.partition_point(|&b| b < v)
        }
    }

    #[inline]
    fn observe_in(&self, bucket: usize, v: f64) {
        let stripe = thread_stripe() & self.stripe_mask;
        self.slot(stripe, bucket + 1)
            .fetch_add(1, Ordering::Relaxed);
        let sum = self.slot(stripe, 0);
        let mut current = sum.load(Ordering::Relaxed);
        loop {
            let next = (f64::from_bits(current) + v).to_bits();
            match sum.compare_exchange_weak(current, next, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
    }

    fn bucket_total(&self, slot: usize) -> u64 {
        (0..=self.stripe_mask)
            .map(|s| self.slot(s, slot).load(Ordering::Relaxed))
            .sum()
    }

    pub(crate) fn count(&self) -> u64 {
        (1..=self.bounds.len() + 1)
            .map(|slot| self.bucket_total(slot))
            .sum()
    }

    pub(crate) fn sum(&self) -> f64 {
        (0..=self.stripe_mask)
            .map(|s| f64::from_bits(self.slot(s, 0).load(Ordering::Relaxed)))
            .sum()
    }

    pub(crate) fn bounds(&self) -> &[f64] {
        &self.bounds
    }
}

impl Series<HistogramCell> {
    /// A standalone histogram with explicit bucket bounds.
    ///
    /// # Errors
    /// When the name is invalid or the bounds are empty, not finite or not
    /// strictly increasing.
    pub fn with_buckets(
        name: impl Into<std::borrow::Cow<'static, str>>,
        help: impl Into<std::borrow::Cow<'static, str>>,
        bounds: &[f64],
    ) -> Result<Self, Error> {
        Self::from_opts(Opts::new(name, help).buckets(bounds.iter().copied()))
    }

    /// Records one observation.
    #[inline]
    pub fn observe(&self, v: f64) {
        self.cell().observe(v);
    }

    /// Records one observation and keeps `trace` as the exemplar of the
    /// bucket it falls in (exported in OpenMetrics only; see
    /// [`exemplar`](crate::exemplar)).
    ///
    /// ```
    /// use asdlc_metrics::exemplar::TraceContext;
    ///
    /// let h = asdlc_metrics::Histogram::new("asdlc_demo_duration_seconds", "Demo.")?;
    /// h.observe_with_exemplar(0.2, TraceContext::new(0xabc, Some(1)).unwrap());
    /// assert_eq!(h.sample_count(), 1);
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    #[inline]
    pub fn observe_with_exemplar(&self, v: f64, trace: TraceContext) {
        self.cell().observe_traced(v, Some(Traced::now(&trace)));
    }

    /// Records one observation with the current trace context (if any) as
    /// the exemplar: what the macros and the middleware record.
    #[inline]
    pub(crate) fn observe_traced(&self, v: f64, trace: Option<Traced<'_>>) {
        self.cell().observe_traced(v, trace);
    }

    /// [`HistogramCell::observe_keeping`].
    #[cfg_attr(not(feature = "axum"), allow(dead_code))] // the middleware's
    #[inline(always)]
    pub(crate) fn observe_keeping(&self, v: f64, traced: &Traced<'_>) {
        self.cell().observe_keeping(v, traced);
    }

    /// Records a duration in seconds.
    #[inline]
    pub fn observe_duration(&self, d: Duration) {
        self.cell().observe(d.as_secs_f64());
    }

    /// Starts a timer that records the elapsed seconds when dropped.
    ///
    /// ```
    /// let h = asdlc_metrics::Histogram::new("asdlc_demo_duration_seconds", "Demo.")?;
    /// {
    ///     let _timer = h.start_timer();
    /// }
    /// assert_eq!(h.sample_count(), 1);
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    pub fn start_timer(&self) -> HistogramTimer {
        HistogramTimer {
            histogram: self.clone(),
            start: Stamp::now(),
        }
    }

    /// Observations so far.
    pub fn sample_count(&self) -> u64 {
        self.cell().count()
    }

    /// Sum of all observations.
    pub fn sample_sum(&self) -> f64 {
        self.cell().sum()
    }

    /// The bucket upper bounds (without `+Inf`).
    pub fn bounds(&self) -> &[f64] {
        self.cell().bounds()
    }
}

/// Records the time since [`Histogram::start_timer`](super::Histogram::start_timer) when dropped.
#[must_use = "the timer records when dropped; dropping it at once records ~0 s"]
#[derive(Debug)]
pub struct HistogramTimer {
    histogram: Series<HistogramCell>,
    start: Stamp,
}

impl Drop for HistogramTimer {
    fn drop(&mut self) {
        self.histogram.observe_duration(self.start.elapsed());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::TextWriter;

    #[test]
    fn buckets_are_cumulative_and_le_inclusive() {
        let h = Series::<HistogramCell>::with_buckets("t_seconds", "t", &[1.0, 2.0]).unwrap();
        for v in [0.5, 1.0, 1.5, 3.0, f64::NAN] {
            h.observe(v);
        }
        let mut buf = Vec::new();
        h.encode(&mut TextWriter::new(&mut buf, "s"));
        let text = String::from_utf8(buf).unwrap();
        assert!(
            text.contains("t_seconds_bucket{service=\"s\",le=\"1\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_bucket{service=\"s\",le=\"2\"} 3\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_bucket{service=\"s\",le=\"+Inf\"} 5\n"),
            "{text}"
        );
        assert!(
            text.contains("t_seconds_count{service=\"s\"} 5\n"),
            "{text}"
        );
    }

    #[test]
    fn stripes_add_up_across_threads() {
        let h = Series::<HistogramCell>::with_buckets("t_seconds", "t", &[1.0]).unwrap();
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    for _ in 0..1000 {
                        h.observe(0.5);
                    }
                });
            }
        });
        assert_eq!(h.sample_count(), 8000);
        assert!((h.sample_sum() - 4000.0).abs() < 1e-9);
    }

    #[test]
    fn many_bounds_use_binary_search() {
        let bounds: Vec<f64> = (1..=40).map(f64::from).collect();
        let h = Series::<HistogramCell>::with_buckets("t_seconds", "t", &bounds).unwrap();
        h.observe(17.5);
        h.observe(f64::NAN);
        // 17.5 falls in the bucket of bound 18 (index 17), stored in slot 18.
        assert_eq!(h.cell().bucket_total(18), 1);
        assert_eq!(h.cell().bucket_total(41), 1);
    }
}
