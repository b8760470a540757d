use std::fmt;

use asdlc_metrics_naming::NameError;

/// Why a metric could not be built or registered.
///
/// None of these is ever raised as a panic: constructors and
/// [`Registry::register`](crate::Registry::register) return them as values,
/// and a metric that failed to register keeps working (detached: it records,
/// but is not exported).
///
/// ```
/// use asdlc_metrics::{Counter, Error};
///
/// let err = Counter::new("asdlc_jobs", "Jobs.").unwrap_err();
/// assert!(matches!(err, Error::InvalidName(_)));
/// assert!(err.to_string().contains("_total"));
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Error {
    /// The metric name breaks Prometheus' naming rules.
    InvalidName(NameError),
    /// A label name is invalid or reserved (`le`, `quantile`, `service`, `__*`).
    InvalidLabel(NameError),
    /// A label name appears twice.
    DuplicateLabel(String),
    /// Histogram bucket bounds are empty, not finite or not strictly increasing.
    InvalidBuckets(NameError),
    /// The help text is empty (promtool rejects families without one).
    MissingHelp(String),
    /// Bucket bounds were given for a counter or gauge.
    BucketsOnNonHistogram(String),
    /// Label names were given for a single-series type; use the `…Vec` type.
    LabelsOnSingleSeries(String),
    /// The number of label values does not match the family's label names.
    LabelCount {
        /// Family name.
        name: String,
        /// Number of label names.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// A child series of a labelled family (or a detached one) cannot be
    /// registered on its own; register the family.
    NotRegistrable(String),
    /// A metric with this name is already registered with another type or
    /// other label names.
    Conflict {
        /// The contested name.
        name: String,
        /// Shape of the metric already registered.
        existing: String,
        /// Shape of the metric that was refused.
        requested: String,
    },
    /// The `prometheus` crate refused to build one of its metric types.
    Prometheus(String),
    /// An objective's latency threshold is not a bound of the histogram it
    /// would be read from.
    InvalidObjective {
        /// The objective's name.
        objective: String,
        /// Why it cannot be used there, with the bounds it could use.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidName(e) | Error::InvalidLabel(e) | Error::InvalidBuckets(e) => e.fmt(f),
            Error::DuplicateLabel(l) => write!(f, "label name `{l}` is listed twice"),
            Error::MissingHelp(n) => write!(f, "metric `{n}` has no help text"),
            Error::BucketsOnNonHistogram(n) => {
                write!(f, "metric `{n}` is not a histogram but has buckets")
            }
            Error::LabelsOnSingleSeries(n) => {
                write!(
                    f,
                    "metric `{n}` is a single series but has label names; use the `…Vec` type"
                )
            }
            Error::LabelCount {
                name,
                expected,
                got,
            } => {
                write!(
                    f,
                    "metric `{name}` has {expected} label name(s) but got {got} value(s)"
                )
            }
            Error::NotRegistrable(n) => {
                write!(
                    f,
                    "a child series of `{n}` cannot be registered on its own; register its family"
                )
            }
            Error::Conflict {
                name,
                existing,
                requested,
            } => write!(
                f,
                "metric `{name}` is already registered as {existing}; refusing to register it as {requested}"
            ),
            Error::Prometheus(e) => write!(f, "prometheus: {e}"),
            Error::InvalidObjective { objective, reason } => {
                write!(f, "objective `{objective}`: {reason}")
            }
        }
    }
}

impl std::error::Error for Error {}
