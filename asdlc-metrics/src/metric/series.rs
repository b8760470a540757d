use std::sync::Arc;

use super::{Desc, Metric, MetricKind, Opts};
use crate::Error;
use crate::encoding::LabelRender;
use crate::encoding::TextWriter;

/// The value store behind one time series: [`CounterCell`](super::CounterCell),
/// [`GaugeCell`](super::GaugeCell) or [`HistogramCell`](super::HistogramCell).
///
/// Implemented only inside this crate; it appears in signatures as the type
/// parameter of [`Series`] and [`Family`](super::Family).
pub trait Cell: sealed::Sealed + Send + Sync + Sized + 'static {
    /// The family type this cell exports as.
    const KIND: MetricKind;

    /// A zeroed cell; histograms take their bucket bounds from `buckets`.
    #[doc(hidden)]
    fn new(buckets: Option<&Arc<[f64]>>) -> Self;

    /// A zeroed cell for a series that hot code resolves once and updates
    /// from many threads (counters stripe it; others need no difference).
    #[doc(hidden)]
    fn new_hot(buckets: Option<&Arc<[f64]>>) -> Self {
        Self::new(buckets)
    }

    /// Writes this cell's sample lines (the family header is already written).
    #[doc(hidden)]
    fn encode(&self, name: &str, labels: &str, out: &mut TextWriter<'_>);
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// Who a series belongs to; decides whether it can be registered on its own
/// and what it exports as.
#[derive(Debug)]
pub(crate) enum Owner {
    /// Created with `Counter::new` and friends: registrable, exports itself.
    Standalone(Arc<Desc>),
    /// A labelled child of a [`Family`](super::Family): exported by the family.
    Child(Arc<Desc>),
    /// Handed out in place of a child that could not be created (wrong
    /// number of label values): records, but is never exported.
    Detached(Arc<Desc>),
}

pub(crate) struct SeriesCore<C> {
    pub(crate) cell: C,
    pub(crate) labels: LabelRender,
    pub(crate) owner: Owner,
}

/// One time series: a cheap, clonable handle to a value store.
///
/// Use it through its aliases [`Counter`](super::Counter),
/// [`Gauge`](super::Gauge) and [`Histogram`](super::Histogram). Cloning
/// shares the value.
///
/// ```
/// let c = asdlc_metrics::Counter::new("asdlc_demo_total", "Demo.")?;
/// let c2 = c.clone();
/// c2.inc();
/// assert_eq!(c.get(), 1);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub struct Series<C> {
    pub(crate) core: Arc<SeriesCore<C>>,
}

impl<C> Clone for Series<C> {
    fn clone(&self) -> Self {
        Series {
            core: Arc::clone(&self.core),
        }
    }
}

impl<C> std::fmt::Debug for Series<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (role, desc) = match &self.core.owner {
            Owner::Standalone(d) => ("standalone", d),
            Owner::Child(d) => ("child", d),
            Owner::Detached(d) => ("detached", d),
        };
        f.debug_struct("Series")
            .field("name", &desc.name())
            .field("labels", &self.core.labels.as_str())
            .field("role", &role)
            .finish()
    }
}

impl<C: Cell> Series<C> {
    pub(crate) fn from_parts(labels: LabelRender, owner: Owner, cell: C) -> Self {
        Series {
            core: Arc::new(SeriesCore {
                cell,
                labels,
                owner,
            }),
        }
    }

    /// A standalone series with a name and help text (histograms get the
    /// [default buckets](super::DEFAULT_BUCKETS)).
    ///
    /// # Errors
    /// When the name breaks Prometheus' naming rules for this metric type
    /// (e.g. a counter not ending in `_total`) or the help text is empty.
    pub fn new(
        name: impl Into<std::borrow::Cow<'static, str>>,
        help: impl Into<std::borrow::Cow<'static, str>>,
    ) -> Result<Self, Error> {
        Self::from_opts(Opts::new(name, help))
    }

    /// The cell holding this series' value.
    #[inline]
    pub(crate) fn cell(&self) -> &C {
        &self.core.cell
    }

    /// Whether two handles share one value store.
    ///
    /// ```
    /// let a = asdlc_metrics::Gauge::new("asdlc_demo_level", "Demo.")?;
    /// assert!(a.same_as(&a.clone()));
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    pub fn same_as(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.core, &other.core)
    }
}

impl<C: Cell> Metric for Series<C> {
    fn from_opts(opts: Opts) -> Result<Self, Error> {
        if !opts.label_names.is_empty() {
            return Err(Error::LabelsOnSingleSeries(opts.name.into_owned()));
        }
        let desc = Arc::new(opts.into_desc(C::KIND)?);
        let buckets = desc.buckets_arc().cloned();
        // A standalone series is kept and updated by hot code: striped.
        Ok(Series::from_parts(
            LabelRender::default(),
            Owner::Standalone(desc),
            C::new_hot(buckets.as_ref()),
        ))
    }

    fn desc(&self) -> Desc {
        match &self.core.owner {
            Owner::Standalone(d) | Owner::Child(d) | Owner::Detached(d) => Desc::clone(d),
        }
    }

    fn encode(&self, out: &mut TextWriter<'_>) {
        if let Owner::Standalone(desc) = &self.core.owner {
            out.header(desc.name(), desc.help(), C::KIND);
            self.core.cell.encode(desc.name(), "", out);
        }
    }

    fn check_registrable(&self) -> Result<(), Error> {
        match &self.core.owner {
            Owner::Standalone(_) => Ok(()),
            Owner::Child(d) | Owner::Detached(d) => Err(Error::NotRegistrable(d.name().to_owned())),
        }
    }
}
