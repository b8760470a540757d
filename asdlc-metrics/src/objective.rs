//! Service-level objectives declared in code.
//!
//! An [`Objective`] names a target for a group of functions (or routes): a
//! success rate, a latency threshold met by a share of calls, or both. The
//! series of everything that declares it carry `objective_name` (and
//! `objective_percentile`, `objective_latency_threshold`), and the service
//! exports the targets themselves as
//! `asdlc_objective_success_ratio{objective_name,objective_percentile}` and
//! `asdlc_objective_latency_ratio{objective_name,objective_percentile,objective_latency_threshold}`,
//! so the rules in `deploy/rules/asdlc-objectives.yml` compute every
//! objective's burn rate from data, whatever its percentile.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::encoding::f64_to_string;
use crate::{CollectError, Collector, CollectorOutput, MetricKind};

/// A service-level objective: a name, and a success-rate target, a latency
/// target, or both. Built in a `const`, so a target out of range is a
/// compile error:
///
/// ```
/// use asdlc_metrics::Objective;
///
/// /// 99.9% of calls succeed; 99% answer within 250 ms.
/// const API: Objective = Objective::new("api").success_rate(99.9).latency(0.25, 99.0);
/// assert_eq!(API.name(), "api");
/// assert_eq!(API.success_percentile(), Some(99.9));
/// assert_eq!(API.latency_target(), Some((0.25, 99.0)));
/// ```
///
/// ```compile_fail
/// // error[E0080]: evaluation of constant value failed:
/// // "an objective's success rate is a percentage within (0, 100), e.g. 99.9"
/// const WRONG: asdlc_metrics::Objective = asdlc_metrics::Objective::new("api").success_rate(100.0);
/// ```
///
/// The latency threshold must be one of the histogram's bucket bounds
/// (a share of calls under a bound the histogram does not have cannot be
/// read from it): `#[timed(objective = API)]` checks that at compile time,
/// and [`MetricsLayer::objective`](crate::MetricsLayer::objective) when the
/// layer is built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Objective {
    name: &'static str,
    success_rate: Option<f64>,
    latency: Option<(f64, f64)>,
}

impl Objective {
    /// An objective with no target yet; add [`success_rate`](Self::success_rate)
    /// and/or [`latency`](Self::latency).
    ///
    /// # Panics
    /// When `name` is empty (at compile time in a `const`).
    #[must_use]
    pub const fn new(name: &'static str) -> Self {
        assert!(!name.is_empty(), "an objective needs a name");
        Objective {
            name,
            success_rate: None,
            latency: None,
        }
    }

    /// Calls that succeed, in percent of all calls (e.g. `99.9`).
    ///
    /// # Panics
    /// When `percent` is not within (0, 100) (at compile time in a `const`).
    #[must_use]
    pub const fn success_rate(mut self, percent: f64) -> Self {
        assert!(
            percent > 0.0 && percent < 100.0,
            "an objective's success rate is a percentage within (0, 100), e.g. 99.9"
        );
        self.success_rate = Some(percent);
        self
    }

    /// Calls that finish within `threshold_seconds`, in percent of all calls
    /// (e.g. `latency(0.25, 99.0)`: 99% within 250 ms).
    ///
    /// # Panics
    /// When the threshold is not a positive finite number of seconds or the
    /// percentage is not within (0, 100) (at compile time in a `const`).
    #[must_use]
    pub const fn latency(mut self, threshold_seconds: f64, percent: f64) -> Self {
        assert!(
            threshold_seconds > 0.0 && threshold_seconds < f64::INFINITY,
            "an objective's latency threshold is a positive number of seconds"
        );
        assert!(
            percent > 0.0 && percent < 100.0,
            "an objective's latency percentile is a percentage within (0, 100), e.g. 99.0"
        );
        self.latency = Some((threshold_seconds, percent));
        self
    }

    /// The objective's name (the `objective_name` label).
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The success-rate target in percent, if set.
    pub const fn success_percentile(&self) -> Option<f64> {
        self.success_rate
    }

    /// The latency target, `(threshold in seconds, percent)`, if set.
    pub const fn latency_target(&self) -> Option<(f64, f64)> {
        self.latency
    }

    /// Whether the latency threshold (if any) is one of `bounds` — what a
    /// histogram with those buckets can answer.
    ///
    /// ```
    /// use asdlc_metrics::Objective;
    ///
    /// const API: Objective = Objective::new("api").latency(0.25, 99.0);
    /// assert!(API.latency_fits(&[0.1, 0.25, 0.5]));
    /// assert!(!API.latency_fits(&[0.1, 0.2, 0.5]));
    /// ```
    pub const fn latency_fits(&self, bounds: &[f64]) -> bool {
        let Some((threshold, _)) = self.latency else {
            return true;
        };
        let mut i = 0;
        while i < bounds.len() {
            // Bounds and threshold are both written as literals, so the
            // same decimal gives the same f64: exact comparison is right.
            #[allow(clippy::float_cmp)]
            if bounds[i] == threshold {
                return true;
            }
            i += 1;
        }
        false
    }

    /// Labels for a counter of calls under this objective.
    pub(crate) fn counter_labels(&self) -> Vec<(&'static str, String)> {
        let mut labels = vec![("objective_name", self.name.to_owned())];
        if let Some(p) = self.success_rate {
            labels.push(("objective_percentile", f64_to_string(p)));
        }
        labels
    }

    /// Labels for a latency histogram under this objective.
    pub(crate) fn histogram_labels(&self) -> Vec<(&'static str, String)> {
        let mut labels = vec![("objective_name", self.name.to_owned())];
        if let Some((threshold, p)) = self.latency {
            labels.push(("objective_percentile", f64_to_string(p)));
            labels.push(("objective_latency_threshold", f64_to_string(threshold)));
        }
        labels
    }

    /// Exports this objective's targets from the global registry (once per
    /// objective; later calls are cheap no-ops).
    pub(crate) fn export_targets(&self) {
        static TARGETS: OnceLock<Arc<Mutex<Vec<Objective>>>> = OnceLock::new();
        let declared = TARGETS.get_or_init(|| {
            let declared = Arc::new(Mutex::new(Vec::new()));
            crate::registry().register_collector(ObjectiveTargets(Arc::clone(&declared)));
            declared
        });
        let mut declared = declared.lock().unwrap_or_else(PoisonError::into_inner);
        if !declared.contains(self) {
            declared.push(*self);
        }
    }
}

/// Writes the declared objectives' targets at every scrape (they are
/// ratios, so a collector rather than the crate's integer gauges).
struct ObjectiveTargets(Arc<Mutex<Vec<Objective>>>);

impl Collector for ObjectiveTargets {
    fn name(&self) -> &str {
        "objectives"
    }

    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        let declared = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let success: Vec<(&str, f64)> = declared
            .iter()
            .filter_map(|o| o.success_rate.map(|p| (o.name, p)))
            .collect();
        if !success.is_empty() {
            let mut family = out.family(
                "asdlc_objective_success_ratio",
                "Declared objectives: the share of calls that must succeed.",
                MetricKind::Gauge,
            )?;
            for (name, p) in success {
                let percentile = f64_to_string(p);
                family.sample(
                    "",
                    &[
                        ("objective_name", name),
                        ("objective_percentile", &percentile),
                    ],
                    p / 100.0,
                );
            }
        }
        let latency: Vec<(&str, (f64, f64))> = declared
            .iter()
            .filter_map(|o| o.latency.map(|l| (o.name, l)))
            .collect();
        if !latency.is_empty() {
            let mut family = out.family(
                "asdlc_objective_latency_ratio",
                "Declared objectives: the share of calls that must finish within the threshold.",
                MetricKind::Gauge,
            )?;
            for (name, (threshold, p)) in latency {
                let (percentile, threshold) = (f64_to_string(p), f64_to_string(threshold));
                family.sample(
                    "",
                    &[
                        ("objective_name", name),
                        ("objective_percentile", &percentile),
                        ("objective_latency_threshold", &threshold),
                    ],
                    p / 100.0,
                );
            }
        }
        Ok(())
    }
}

/// `bounds` as a list for an error message: `0.005, 0.01, …, 10`.
#[cfg(feature = "axum")]
pub(crate) fn list_bounds(bounds: &[f64]) -> String {
    bounds
        .iter()
        .map(|b| f64_to_string(*b))
        .collect::<Vec<_>>()
        .join(", ")
}
