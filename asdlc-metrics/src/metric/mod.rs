//! The metric types this crate creates and exports itself.
//!
//! They are built for the hot path of instrumented code: a counter increment
//! is one atomic add, a histogram observation touches a stripe of buckets that
//! is (nearly always) private to the calling thread, and every series keeps
//! its label set pre-rendered so a scrape only copies bytes.
//!
//! | type | value | prometheus crate equivalent |
//! |---|---|---|
//! | [`Counter`] / [`CounterVec`] | `u64`, only goes up | `IntCounter` / `IntCounterVec` |
//! | [`Gauge`] / [`GaugeVec`] | `i64`, up and down | `IntGauge` / `IntGaugeVec` |
//! | [`Histogram`] / [`HistogramVec`] | `f64` observations into buckets | `Histogram` / `HistogramVec` |
//!
//! prometheus crate metrics can be registered too (they implement [`Metric`]);
//! they export through the same registry, only more slowly.

mod counter;
mod desc;
mod exemplar;
mod family;
mod gauge;
mod histogram;
mod hot_slots;
mod labels;
mod limit;
mod prometheus_compat;
mod series;
mod stripe;

pub use counter::CounterCell;
pub(crate) use counter::CounterPart;
pub use desc::{Desc, Opts};
pub(crate) use exemplar::{Exemplar, ExemplarSlots, Traced};
pub use family::Family;
pub use gauge::GaugeCell;
pub use histogram::{DEFAULT_BUCKETS, HistogramCell, HistogramTimer};
pub use labels::{LabelSet, LabelValue, Untyped};
#[doc(hidden)]
pub use limit::RegistryLink;
pub use limit::{DEFAULT_MAX_SERIES, OVERFLOW_LABEL_VALUE, SeriesLimit};
pub(crate) use limit::{effective_max, is_overflow_key};
pub use series::Series;

pub use series::Cell;

use crate::Error;
use crate::encoding::TextWriter;

/// A counter: a `u64` that only goes up.
///
/// ```
/// let requests = asdlc_metrics::Counter::new("asdlc_demo_requests_total", "Requests served.")?;
/// requests.inc();
/// requests.inc_by(2);
/// assert_eq!(requests.get(), 3);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub type Counter = Series<CounterCell>;

/// A gauge: an `i64` that goes up and down.
///
/// ```
/// let queue = asdlc_metrics::Gauge::new("asdlc_demo_queue_depth", "Items waiting.")?;
/// queue.set(10);
/// queue.dec();
/// assert_eq!(queue.get(), 9);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub type Gauge = Series<GaugeCell>;

/// A histogram of `f64` observations in cumulative buckets.
///
/// ```
/// let latency = asdlc_metrics::Histogram::with_buckets(
///     "asdlc_demo_latency_seconds",
///     "Demo latency.",
///     &[0.1, 0.5, 1.0],
/// )?;
/// latency.observe(0.3);
/// assert_eq!(latency.sample_count(), 1);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub type Histogram = Series<HistogramCell>;

/// Counters partitioned by labels.
///
/// ```
/// let events = asdlc_metrics::CounterVec::new(
///     "asdlc_demo_events_total",
///     "Events handled.",
///     &["event_type", "status"],
/// )?;
/// events.with_label_values(&["created", "ok"]).inc();
/// assert_eq!(events.with_label_values(&["created", "ok"]).get(), 1);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub type CounterVec<L = Untyped> = Family<CounterCell, L>;

/// Gauges partitioned by labels.
///
/// ```
/// let memory = asdlc_metrics::GaugeVec::new("asdlc_demo_memory_bytes", "Memory.", &["type"])?;
/// memory.with_label_values(&["rss"]).set(1 << 20);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub type GaugeVec<L = Untyped> = Family<GaugeCell, L>;

/// Histograms partitioned by labels.
///
/// ```
/// let latency = asdlc_metrics::HistogramVec::new(
///     "asdlc_demo_op_duration_seconds",
///     "Operation latency.",
///     &["operation"],
/// )?;
/// latency.with_label_values(&["get"]).observe(0.002);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub type HistogramVec<L = Untyped> = Family<HistogramCell, L>;

/// The type of a metric family, as written in its `# TYPE` line.
pub use asdlc_metrics_naming::Kind as MetricKind;

/// Something a [`Registry`](crate::Registry) can hold and export: the metric
/// types of this crate and those of the `prometheus` crate.
///
/// ```
/// use asdlc_metrics::{Counter, Metric, Opts};
///
/// let c = Counter::from_opts(Opts::new("asdlc_demo_total", "Demo."))?;
/// assert_eq!(c.desc().name(), "asdlc_demo_total");
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub trait Metric: Clone + Send + Sync + 'static {
    /// Builds a new metric that is not registered anywhere yet.
    ///
    /// # Errors
    /// [`Error::InvalidName`], [`Error::InvalidLabel`] or
    /// [`Error::InvalidBuckets`] when `opts` break the naming rules.
    fn from_opts(opts: Opts) -> Result<Self, Error>;

    /// Name, help, type and label names: the shape a registry compares on
    /// registration.
    fn desc(&self) -> Desc;

    /// Writes the family (header and samples) in the text format. A labelled
    /// family without any series writes nothing.
    fn encode(&self, out: &mut TextWriter<'_>);

    /// `Err` with the reason when this value cannot be registered on its
    /// own (a child series of a labelled family, a detached series).
    ///
    /// # Errors
    /// [`Error::NotRegistrable`].
    fn check_registrable(&self) -> Result<(), Error> {
        Ok(())
    }

    /// Called once when the metric is registered: labelled families take
    /// the registry's default series limit and overflow counter from it.
    #[doc(hidden)]
    fn link_registry(&self, _link: &RegistryLink) {}
}
