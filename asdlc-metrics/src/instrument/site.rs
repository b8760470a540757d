//! Call sites: what one expansion of the attribute macros records, resolved
//! to concrete series once, on its first call.
//!
//! Each annotated function gets a `static Site`. The first call registers
//! the families it needs (get-or-register in the global registry) and keeps
//! the resolved handles; after that a call only reads a `OnceLock` and
//! touches atomics — no hashing, no allocation, no lock.

use std::sync::{Arc, OnceLock};

use super::outcome::Outcome;
use super::reason::PerReason;
use super::redis_op::RedisSeries;
use crate::clock::Stamp;
use crate::metric::{Cell, CounterCell, Family, HistogramCell, Series, Traced};
use crate::{Gauge, GaugeVec, Metric, Objective, Opts};

/// Default family of `#[timed]`.
pub const FUNCTION_DURATION: &str = "asdlc_function_duration_seconds";
/// Default family of `#[counted]`.
pub const FUNCTION_CALLS: &str = "asdlc_function_calls_total";
/// Label names of the function families (shared with the macros, which
/// reject them as user labels).
use asdlc_metrics_naming::FUNCTION_LABELS;

/// Options of one metric of a call site, as written in the attribute.
#[derive(Debug, Clone, Copy)]
pub struct MetricSpec {
    /// Family name; `None` for the macro's default family.
    pub name: Option<&'static str>,
    /// HELP text for a custom family; `None` for a generic one.
    pub help: Option<&'static str>,
    /// Bucket bounds for this function's series (`#[timed]` only).
    pub buckets: Option<&'static [f64]>,
    /// Constant labels (`labels(key = "value")`).
    pub labels: &'static [(&'static str, &'static str)],
    /// The objective the calls serve (`objective = ..`), if any.
    pub objective: Option<&'static Objective>,
}

impl MetricSpec {
    /// The macro's default family, no options.
    pub const DEFAULT: MetricSpec = MetricSpec {
        name: None,
        help: None,
        buckets: None,
        labels: &[],
        objective: None,
    };
}

/// Everything one expansion records.
#[derive(Debug)]
pub struct SiteSpec {
    /// The function's name.
    pub function: &'static str,
    /// `module_path!()` where it is defined.
    pub module: &'static str,
    /// `#[timed]`.
    pub timed: Option<MetricSpec>,
    /// `#[counted]`.
    pub counted: Option<MetricSpec>,
    /// `#[in_flight]`.
    pub in_flight: Option<MetricSpec>,
    /// `#[redis_op]`: the operation name.
    pub redis: Option<&'static str>,
}

/// A call site: its spec and, after the first call, its resolved series.
#[derive(Debug)]
pub struct Site {
    spec: SiteSpec,
    resolved: OnceLock<Resolved>,
}

impl Site {
    /// A site that resolves on first use (usable in a `static`).
    pub const fn new(spec: SiteSpec) -> Self {
        Site {
            spec,
            resolved: OnceLock::new(),
        }
    }

    /// The resolved series, registering the families on the first call.
    #[inline]
    pub(crate) fn get(&'static self) -> &'static Resolved {
        self.resolved.get_or_init(|| Resolved::new(&self.spec))
    }
}

/// One series per `result` value, created the first time that result
/// occurs (so a function that never panics exports no `panic` series).
#[derive(Debug)]
pub(crate) struct PerOutcome<C> {
    family: Family<C>,
    function: &'static str,
    module: &'static str,
    /// Constant labels: the attribute's, then the objective's.
    labels: Vec<(&'static str, String)>,
    buckets: Option<Arc<[f64]>>,
    series: [OnceLock<Series<C>>; 4],
}

/// The labels of an objective that a function family carries: the success
/// target on call counters, the latency target on duration histograms.
pub(crate) trait ObjectiveLabels {
    fn objective_labels(objective: &'static Objective) -> Vec<(&'static str, String)>;
}

impl ObjectiveLabels for CounterCell {
    fn objective_labels(objective: &'static Objective) -> Vec<(&'static str, String)> {
        objective.counter_labels()
    }
}

impl ObjectiveLabels for HistogramCell {
    fn objective_labels(objective: &'static Objective) -> Vec<(&'static str, String)> {
        objective.histogram_labels()
    }
}

impl<C: Cell + ObjectiveLabels> PerOutcome<C> {
    /// The `{function, module, result}` family `spec` names (or the macro's
    /// default), got or registered in the global registry.
    fn resolve(
        site: &SiteSpec,
        spec: &MetricSpec,
        default_name: &'static str,
        default_help: &'static str,
    ) -> Self {
        let opts = Opts::new(
            spec.name.unwrap_or(default_name),
            spec.help.unwrap_or(default_help),
        )
        .labels(FUNCTION_LABELS);
        Self::new(family(opts), site, spec)
    }

    fn new(family: Family<C>, site: &SiteSpec, spec: &MetricSpec) -> Self {
        if let Some(objective) = spec.objective {
            objective.export_targets();
        }
        PerOutcome {
            family,
            function: site.function,
            module: site.module,
            labels: spec
                .labels
                .iter()
                .map(|(k, v)| (*k, (*v).to_owned()))
                .chain(spec.objective.map(C::objective_labels).unwrap_or_default())
                .collect(),
            buckets: spec.buckets.map(Arc::from),
            series: Default::default(),
        }
    }

    #[inline]
    pub(crate) fn get(&self, outcome: Outcome) -> &Series<C> {
        let i = outcome.index();
        self.series[i].get_or_init(|| {
            let values = [self.function, self.module, Outcome::from_index(i).label()];
            // The attribute was validated at compile time and the family
            // was built with these three labels, so this cannot fail; the
            // detached fallback keeps even a bug from panicking.
            let extra: Vec<(&str, &str)> =
                self.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
            self.family
                .child(&values, &extra, self.buckets.as_ref())
                .unwrap_or_else(|_| self.family.with_label_values(&values))
        })
    }
}

/// The handles a call site records into.
#[derive(Debug)]
pub(crate) struct Resolved {
    timed: Option<PerOutcome<HistogramCell>>,
    pub(crate) counted: Option<PerOutcome<CounterCell>>,
    pub(crate) in_flight: Option<Gauge>,
    redis: Option<RedisSeries>,
    /// Failure reasons (`#[timed]` or `#[counted]`), fed by errors that
    /// name one ([`Outcome::Reason`]).
    pub(crate) reasons: Option<PerReason>,
    /// Whether a call needs the clock (timed or Redis).
    pub(crate) timed_any: bool,
    /// Whether the site only counts (`#[counted]` alone), for the short
    /// path of [`Resolved::record`].
    counted_only: bool,
}

/// Gets or registers a family in the global registry; on a conflict (the
/// name is registered with another shape), logs it and records into a
/// detached family so the service keeps running.
fn family<M: Metric>(opts: Opts) -> M {
    let metric: M = super::__private::build_static(opts);
    crate::registry().register(&metric).unwrap_or(metric)
}

impl Resolved {
    fn new(site: &SiteSpec) -> Self {
        let timed = site.timed.as_ref().map(|spec| {
            PerOutcome::resolve(
                site,
                spec,
                FUNCTION_DURATION,
                "Duration of calls to instrumented functions in seconds.",
            )
        });
        let counted = site.counted.as_ref().map(|spec| {
            PerOutcome::resolve(
                site,
                spec,
                FUNCTION_CALLS,
                "Calls to instrumented functions, by result.",
            )
        });
        let in_flight = site.in_flight.as_ref().map(|spec| match spec.name {
            None if spec.labels.is_empty() => crate::standard().active_tasks.clone(),
            name => {
                let name = name.unwrap_or("asdlc_active_tasks");
                let help = spec.help.unwrap_or("Calls in progress.");
                let family: GaugeVec = family(Opts::new(name, help));
                family
                    .child(&[], spec.labels, None)
                    .unwrap_or_else(|_| family.with_label_values(&[]))
            }
        });
        let redis = site.redis.map(RedisSeries::new);
        let reasons = (timed.is_some() || counted.is_some())
            .then(|| PerReason::new(site.function, site.module));
        Resolved {
            timed_any: timed.is_some() || redis.is_some(),
            counted_only: counted.is_some()
                && timed.is_none()
                && in_flight.is_none()
                && redis.is_none(),
            timed,
            counted,
            in_flight,
            redis,
            reasons,
        }
    }

    /// Records one finished (or abandoned) call that started at `start`
    /// (timed sites only).
    ///
    /// A `#[counted]` call with no trace is one add, inlined into the
    /// function (an error with a reason too: its add is in the reason's
    /// part); everything else is out of line. With the whole of this in
    /// line the guard's drop was too big to inline: every call then spilled
    /// the guard to the stack and called it, and the counter's atomic add
    /// waited for those stores (15 ns per call against 4 ns for a held
    /// counter, by CPU time). Forced inline in optimised builds: the
    /// reason branch made it big enough that the compiler stopped inlining
    /// it, and every `#[counted]` function then paid a call and an
    /// `Outcome` stored to the stack (+7 to +10 instructions per call,
    /// `benches/scripts/reason_instructions.sh`); the branch folds away in
    /// a function whose error names no reason.
    #[cfg_attr(not(debug_assertions), inline(always))]
    #[cfg_attr(debug_assertions, inline)]
    pub(crate) fn record(&self, outcome: Outcome, start: Option<Stamp>) {
        if self.counted_only && crate::exemplar::current::certainly_none() {
            match outcome {
                // Counted once, in the reason's part, which the
                // `result="error"` series adds up when read.
                Outcome::Reason(reason) => self.count_reason(reason),
                outcome => {
                    if let Some(counted) = &self.counted {
                        counted.get(outcome).inc();
                    }
                }
            }
            return;
        }
        self.record_any(outcome, start);
    }

    #[inline(never)]
    fn record_any(&self, outcome: Outcome, start: Option<Stamp>) {
        // One clock read at the end serves the duration and the exemplars.
        let end = start.map(|_| Stamp::now());
        let elapsed = start.zip(end).map(|(start, end)| start.until(end));
        // The call's trace, for exemplars: one relaxed load when no trace
        // was ever set.
        let current = crate::exemplar::current::current();
        let trace = current.as_ref().map(|trace| Traced {
            trace,
            at: end.unwrap_or_else(Stamp::now),
        });
        if let Some(timed) = &self.timed {
            let seconds = elapsed.map_or(0.0, |d| d.as_secs_f64());
            timed.get(outcome).observe_traced(seconds, trace);
        }
        match (outcome, &self.counted) {
            (Outcome::Reason(reason), counted) => {
                // Counted once, in the reason's part; the call's
                // `result="error"` series adds it up and keeps the trace.
                self.count_reason(reason);
                if let (Some(counted), Some(trace)) = (counted, trace) {
                    counted.get(outcome).cell().keep_exemplar(&trace, 1.0);
                }
            }
            (_, Some(counted)) => counted.get(outcome).inc_traced(trace),
            (_, None) => {}
        }
        if let Some(in_flight) = &self.in_flight {
            in_flight.dec();
        }
        if let (Some(redis), Some(elapsed)) = (&self.redis, elapsed) {
            redis.record(outcome, elapsed, trace);
        }
    }
}
