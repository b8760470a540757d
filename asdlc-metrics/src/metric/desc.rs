use std::borrow::Cow;
use std::sync::Arc;

use asdlc_metrics_naming::{check_buckets, check_label_name, check_metric_name};

use super::{MetricKind, SeriesLimit};
use crate::Error;

/// Options for building a metric: name, help text, label names and (for
/// histograms) bucket bounds.
///
/// ```
/// use asdlc_metrics::{HistogramVec, Metric, Opts};
///
/// let h = HistogramVec::<asdlc_metrics::metric::Untyped>::from_opts(
///     Opts::new("asdlc_demo_duration_seconds", "Demo.")
///         .labels(["route"])
///         .buckets([0.1, 1.0]),
/// )?;
/// h.with_label_values(&["/"]).observe(0.5);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Opts {
    /// Full metric name, e.g. `asdlc_http_requests_total`.
    pub name: Cow<'static, str>,
    /// The `# HELP` text.
    pub help: Cow<'static, str>,
    /// Label names (without `service`, which is added at export).
    pub label_names: Vec<Cow<'static, str>>,
    /// Histogram bucket upper bounds; `None` for the [default](super::DEFAULT_BUCKETS).
    pub buckets: Option<Vec<f64>>,
    /// Cap on the distinct label sets of a labelled family (see
    /// [`Opts::max_series`]); ignored by single series.
    pub max_series: SeriesLimit,
}

impl Opts {
    /// Options with a name and help text, no labels, default buckets.
    pub fn new(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        Opts {
            name: name.into(),
            help: help.into(),
            label_names: Vec::new(),
            buckets: None,
            max_series: SeriesLimit::RegistryDefault,
        }
    }

    /// Sets the label names.
    #[must_use]
    pub fn labels<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.label_names = names.into_iter().map(Into::into).collect();
        self
    }

    /// Sets histogram bucket bounds.
    #[must_use]
    pub fn buckets(mut self, bounds: impl IntoIterator<Item = f64>) -> Self {
        self.buckets = Some(bounds.into_iter().collect());
        self
    }

    /// Caps the distinct label sets of a labelled family: `Some(n)` allows
    /// `n`, `None` removes the cap (only for label values bounded by code).
    /// Without this call the family takes its registry's default
    /// ([`DEFAULT_MAX_SERIES`](super::DEFAULT_MAX_SERIES) unless changed with
    /// [`Registry::set_default_max_series`](crate::Registry::set_default_max_series)).
    ///
    /// Past the cap a new label set records into the family's overflow
    /// series, whose every label is
    /// [`OVERFLOW_LABEL_VALUE`](super::OVERFLOW_LABEL_VALUE); each such
    /// lookup is counted in `asdlc_metric_series_overflow_total{metric}`.
    ///
    /// ```
    /// use asdlc_metrics::{CounterVec, Opts, Registry};
    ///
    /// let registry = Registry::with_service("demo");
    /// let paths: CounterVec = registry.get_or_register(
    ///     Opts::new("asdlc_demo_paths_total", "Paths.").labels(["path"]).max_series(Some(2)),
    /// )?;
    /// for path in ["/a", "/b", "/c", "/d"] {
    ///     paths.with_label_values(&[path]).inc();
    /// }
    /// assert_eq!(paths.len(), 2); // the overflow series comes on top
    /// let text = registry.encode_to_string();
    /// assert!(text.contains(r#"asdlc_demo_paths_total{service="demo",path="__overflow__"} 2"#));
    /// assert!(text.contains(
    ///     r#"asdlc_metric_series_overflow_total{service="demo",metric="asdlc_demo_paths_total"} 2"#
    /// ));
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    #[must_use]
    pub fn max_series(mut self, max: Option<usize>) -> Self {
        self.max_series = SeriesLimit::from_option(max);
        self
    }

    /// Checks the options for a metric of type `kind` and freezes them.
    pub(crate) fn into_desc(self, kind: MetricKind) -> Result<Desc, Error> {
        check_metric_name(&self.name, kind).map_err(Error::InvalidName)?;
        if self.help.trim().is_empty() {
            return Err(Error::MissingHelp(self.name.into_owned()));
        }
        for (i, label) in self.label_names.iter().enumerate() {
            check_label_name(label).map_err(Error::InvalidLabel)?;
            if self.label_names[..i].contains(label) {
                return Err(Error::DuplicateLabel(label.to_string()));
            }
        }
        let buckets = match (kind, self.buckets) {
            (MetricKind::Histogram, Some(b)) => {
                check_buckets(&b).map_err(|(_, e)| Error::InvalidBuckets(e))?;
                Some(Arc::from(b))
            }
            (MetricKind::Histogram, None) => Some(Arc::from(super::DEFAULT_BUCKETS)),
            (_, Some(_)) => return Err(Error::BucketsOnNonHistogram(self.name.into_owned())),
            (_, None) => None,
        };
        Ok(Desc {
            name: self.name,
            help: self.help,
            kind,
            label_names: self.label_names.into(),
            buckets,
        })
    }
}

/// The validated shape of a metric family.
///
/// ```
/// use asdlc_metrics::{CounterVec, Metric, MetricKind};
///
/// let c = CounterVec::new("asdlc_demo_total", "Demo.", &["a"])?;
/// let desc = c.desc();
/// assert_eq!(desc.kind(), MetricKind::Counter);
/// assert_eq!(desc.label_names(), ["a"]);
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Desc {
    name: Cow<'static, str>,
    help: Cow<'static, str>,
    kind: MetricKind,
    label_names: Arc<[Cow<'static, str>]>,
    buckets: Option<Arc<[f64]>>,
}

impl Desc {
    /// A description taken as-is from another metrics library (the
    /// `prometheus` crate), which validated it itself.
    pub(crate) fn foreign(
        name: String,
        help: String,
        kind: MetricKind,
        label_names: Vec<String>,
    ) -> Self {
        Desc {
            name: name.into(),
            help: help.into(),
            kind,
            label_names: label_names.into_iter().map(Cow::Owned).collect(),
            buckets: None,
        }
    }

    /// The family name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The `# HELP` text.
    pub fn help(&self) -> &str {
        &self.help
    }

    /// Counter, gauge or histogram.
    pub fn kind(&self) -> MetricKind {
        self.kind
    }

    /// Label names, without `service`.
    pub fn label_names(&self) -> &[Cow<'static, str>] {
        &self.label_names
    }

    /// Default bucket bounds of a histogram family.
    pub fn buckets(&self) -> Option<&[f64]> {
        self.buckets.as_deref()
    }

    pub(crate) fn buckets_arc(&self) -> Option<&Arc<[f64]>> {
        self.buckets.as_ref()
    }

    /// Same type and label names: registering a metric of the same shape
    /// twice yields the first one.
    pub(crate) fn same_shape(&self, other: &Desc) -> bool {
        self.kind == other.kind && self.label_names == other.label_names
    }
}
