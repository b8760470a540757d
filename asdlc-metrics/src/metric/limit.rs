//! Series limits: how many distinct label sets a labelled family may hold
//! before new ones fold into its overflow series.
//!
//! One unbounded label value (a user id, a raw path from a scanner) would
//! otherwise grow a family, the scrape and the TSDB without bound. Like the
//! OpenTelemetry SDKs, every family has a cap (2,000 by default); past it a
//! new label set records into one overflow series of that family, so totals
//! stay right, and each such lookup is counted in
//! `asdlc_metric_series_overflow_total{metric}`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::CounterVec;

/// The default cap on the series of one family (OpenTelemetry's default).
///
/// ```
/// assert_eq!(asdlc_metrics::metric::DEFAULT_MAX_SERIES, 2_000);
/// ```
pub const DEFAULT_MAX_SERIES: usize = 2_000;

/// The value of every label of a family's overflow series.
///
/// It cannot collide with a real series: a lookup whose values are *all*
/// this string is the overflow series itself (and is counted as an
/// overflow), so no two exported series ever share a label set.
///
/// ```
/// use asdlc_metrics::{CounterVec, Metric, Opts};
/// use asdlc_metrics::metric::OVERFLOW_LABEL_VALUE;
///
/// let users = CounterVec::<asdlc_metrics::metric::Untyped>::from_opts(
///     Opts::new("asdlc_demo_logins_total", "Logins.").labels(["user"]).max_series(Some(1)),
/// )?;
/// users.with_label_values(&["alice"]).inc();
/// users.with_label_values(&["bob"]).inc(); // past the cap
/// assert_eq!(users.with_label_values(&[OVERFLOW_LABEL_VALUE]).get(), 1);
/// assert_eq!(OVERFLOW_LABEL_VALUE, "__overflow__");
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
pub const OVERFLOW_LABEL_VALUE: &str = "__overflow__";

/// Name of the counter of lookups turned into the overflow series.
pub(crate) const OVERFLOW_COUNTER: &str = "asdlc_metric_series_overflow_total";

/// A family's cap on distinct label sets, as set in [`Opts`](super::Opts).
///
/// ```
/// use asdlc_metrics::{Opts, metric::SeriesLimit};
///
/// assert_eq!(Opts::new("a_total", "A.").max_series, SeriesLimit::RegistryDefault);
/// assert_eq!(Opts::new("a_total", "A.").max_series(Some(10)).max_series, SeriesLimit::Max(10));
/// assert_eq!(Opts::new("a_total", "A.").max_series(None).max_series, SeriesLimit::Unlimited);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeriesLimit {
    /// The default of the registry the family is registered in
    /// ([`DEFAULT_MAX_SERIES`] unless changed there; also for a family not
    /// registered anywhere).
    #[default]
    RegistryDefault,
    /// At most this many label sets; the overflow series comes on top.
    Max(usize),
    /// No cap: only for label values bounded by code.
    Unlimited,
}

impl SeriesLimit {
    /// `Some(n)` is [`SeriesLimit::Max`], `None` [`SeriesLimit::Unlimited`].
    pub(crate) fn from_option(max: Option<usize>) -> Self {
        max.map_or(SeriesLimit::Unlimited, SeriesLimit::Max)
    }
}

/// `usize::MAX` stands for "no cap" in the registry's atomic default.
const UNLIMITED: usize = usize::MAX;

/// What a family takes from the registry it is registered in: the default
/// cap (read again on each slow-path lookup, so changing it on the registry
/// applies to families already registered) and the overflow counter.
///
/// Handed to [`Metric::link_registry`]; not a public API.
#[doc(hidden)]
#[derive(Clone, Debug)]
pub struct RegistryLink {
    inner: Arc<LinkInner>,
}

#[derive(Debug)]
struct LinkInner {
    default_max: AtomicUsize,
    overflow: CounterVec,
}

impl RegistryLink {
    /// A link with the default cap and a fresh, uncapped overflow counter
    /// family (uncapped so counting an overflow can never overflow: its
    /// `metric` label is bounded by the registered family names).
    pub(crate) fn new() -> Self {
        let overflow = crate::__private::build_static::<CounterVec>(
            super::Opts::new(
                OVERFLOW_COUNTER,
                "Label-set lookups that found their family at its series limit and were recorded in its overflow series (every label set to __overflow__).",
            )
            .labels(["metric"])
            .max_series(None),
        );
        RegistryLink {
            inner: Arc::new(LinkInner {
                default_max: AtomicUsize::new(DEFAULT_MAX_SERIES),
                overflow,
            }),
        }
    }

    /// The overflow counter family, to register with the registry.
    pub(crate) fn overflow_family(&self) -> &CounterVec {
        &self.inner.overflow
    }

    pub(crate) fn set_default_max(&self, max: Option<usize>) {
        self.inner
            .default_max
            .store(max.unwrap_or(UNLIMITED), Ordering::Relaxed);
    }

    pub(crate) fn default_max(&self) -> Option<usize> {
        match self.inner.default_max.load(Ordering::Relaxed) {
            UNLIMITED => None,
            n => Some(n),
        }
    }

    /// The counter series of family `name`.
    pub(crate) fn overflow_counter(&self, name: &str) -> super::Counter {
        self.inner.overflow.with_label_values(&[name])
    }
}

/// The cap in force for a family with `limit`, linked to `link` (if
/// registered): `usize::MAX` for none.
pub(crate) fn effective_max(limit: SeriesLimit, link: Option<&RegistryLink>) -> usize {
    match limit {
        SeriesLimit::Max(n) => n,
        SeriesLimit::Unlimited => UNLIMITED,
        SeriesLimit::RegistryDefault => {
            link.map_or(DEFAULT_MAX_SERIES, |l| l.default_max().unwrap_or(UNLIMITED))
        }
    }
}

/// Whether `values` is the reserved label set of the overflow series.
pub(crate) fn is_overflow_key(values: &[&str]) -> bool {
    !values.is_empty() && values.iter().all(|v| *v == OVERFLOW_LABEL_VALUE)
}
