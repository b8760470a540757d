use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::marker::PhantomData;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};

use hashbrown::HashTable;

use super::series::{Cell, Owner, SeriesCore};
use super::{
    Counter, Desc, LabelSet, Metric, OVERFLOW_LABEL_VALUE, Opts, RegistryLink, Series, SeriesLimit,
    Untyped, effective_max, is_overflow_key,
};
use crate::encoding::LabelRender;
use crate::encoding::TextWriter;
use crate::{Error, log_limited};

/// A metric family partitioned by labels: one [`Series`] per distinct set
/// of label values, created on first use.
///
/// Use it through [`CounterVec`](super::CounterVec),
/// [`GaugeVec`](super::GaugeVec) and [`HistogramVec`](super::HistogramVec).
/// `L` is [`Untyped`] (label values as strings) or a tuple of
/// [`LabelValue`](super::LabelValue) types (see [`LabelSet`]).
///
/// Looking a child up hashes its label values and takes a read lock; hot
/// paths should keep the returned [`Series`] (the macros do this per call
/// site) rather than look it up on every call.
///
/// A family holds at most its [series limit](Opts::max_series) of label
/// sets (2,000 by default); past it, a new label set records into one
/// overflow series whose every label is
/// [`OVERFLOW_LABEL_VALUE`](super::OVERFLOW_LABEL_VALUE), counted in
/// `asdlc_metric_series_overflow_total{metric}`. The check runs only when
/// a label set is not found, never on a series already handed out.
pub struct Family<C, L = Untyped> {
    core: Arc<FamilyCore<C>>,
    labels: PhantomData<fn() -> L>,
}

struct FamilyCore<C> {
    desc: Arc<Desc>,
    hasher: RandomState,
    limit: SeriesLimit,
    /// The registry the family was first registered in: its default limit
    /// and overflow counter. Unset for a family registered nowhere.
    link: OnceLock<RegistryLink>,
    /// This family's series of `asdlc_metric_series_overflow_total`,
    /// resolved on the first overflow.
    overflow_count: OnceLock<Counter>,
    children: RwLock<Children<C>>,
}

struct Children<C> {
    /// Indices into `series`, found by the hash of the label values; a
    /// candidate is confirmed against its rendered labels.
    index: HashTable<u32>,
    series: Vec<Child<C>>,
    /// Where label sets past the limit record; created on the first one.
    /// Kept apart from `series` so no lookup by values finds it and it never
    /// counts against the limit.
    overflow: Option<Arc<SeriesCore<C>>>,
}

/// One series and the hash of the label values it was looked up with.
struct Child<C> {
    hash: u64,
    core: Arc<SeriesCore<C>>,
}

impl<C> Default for Children<C> {
    fn default() -> Self {
        Children {
            index: HashTable::new(),
            series: Vec::new(),
            overflow: None,
        }
    }
}

/// Whether a lookup is subject to the family's series limit.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Admit {
    /// Label values from data (user code): capped.
    Limited,
    /// Label values bounded by code (call sites of the macros, the
    /// middleware's route templates and status codes): never folded.
    Always,
}

impl<C, L> Clone for Family<C, L> {
    fn clone(&self) -> Self {
        Family {
            core: Arc::clone(&self.core),
            labels: PhantomData,
        }
    }
}

impl<C, L> std::fmt::Debug for Family<C, L> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Family")
            .field("name", &self.core.desc.name())
            .field("label_names", &self.core.desc.label_names())
            .finish_non_exhaustive()
    }
}

impl<C: Cell> Family<C, Untyped> {
    /// A family with a name, help text and label names (histograms get the
    /// [default buckets](super::DEFAULT_BUCKETS)).
    ///
    /// # Errors
    /// When a name breaks Prometheus' naming rules or a label is reserved or
    /// repeated.
    pub fn new(
        name: impl Into<std::borrow::Cow<'static, str>>,
        help: impl Into<std::borrow::Cow<'static, str>>,
        label_names: &[&'static str],
    ) -> Result<Self, Error> {
        Self::from_opts(Opts::new(name, help).labels(label_names.iter().copied()))
    }

    /// A histogram family with explicit bucket bounds.
    ///
    /// # Errors
    /// As [`Family::new`], and when the bounds are empty, not finite or not
    /// strictly increasing (or the family is not a histogram).
    pub fn with_buckets(
        name: impl Into<std::borrow::Cow<'static, str>>,
        help: impl Into<std::borrow::Cow<'static, str>>,
        label_names: &[&'static str],
        bounds: &[f64],
    ) -> Result<Self, Error> {
        Self::from_opts(
            Opts::new(name, help)
                .labels(label_names.iter().copied())
                .buckets(bounds.iter().copied()),
        )
    }

    /// The same family, with label values typed as `L` (a tuple of
    /// [`LabelValue`](super::LabelValue) types, one per label name), which
    /// adds the `with(..)` accessor.
    ///
    /// # Errors
    /// [`Error::LabelCount`] when `L` has another number of labels.
    pub fn typed<L: LabelSet>(self) -> Result<Family<C, L>, Error> {
        check_arity::<L>(&self.core.desc)?;
        Ok(Family {
            core: self.core,
            labels: PhantomData,
        })
    }
}

fn check_arity<L: LabelSet>(desc: &Desc) -> Result<(), Error> {
    match L::ARITY {
        Some(arity) if arity != desc.label_names().len() => Err(Error::LabelCount {
            name: desc.name().to_owned(),
            expected: desc.label_names().len(),
            got: arity,
        }),
        _ => Ok(()),
    }
}

impl<C: Cell, L: LabelSet> Family<C, L> {
    /// The same family with label values given as strings.
    pub fn untyped(&self) -> Family<C, Untyped> {
        Family {
            core: Arc::clone(&self.core),
            labels: PhantomData,
        }
    }

    /// The series for these label values, in the order of the label names.
    ///
    /// Never fails: with the wrong number of values it logs a warning
    /// (rate-limited) and returns a detached series that records but is
    /// never exported, so instrumentation cannot take the service down. Use
    /// [`Family::try_with_label_values`] to get the error instead.
    pub fn with_label_values(&self, values: &[&str]) -> Series<C> {
        match self.try_with_label_values(values) {
            Ok(series) => series,
            Err(err) => {
                log_limited!(
                    warn,
                    "asdlc_metrics: {err}; the values are recorded in a detached series that is not exported"
                );
                Series::from_parts(
                    LabelRender::default(),
                    Owner::Detached(Arc::clone(&self.core.desc)),
                    C::new(self.core.desc.buckets_arc()),
                )
            }
        }
    }

    /// The series for these label values, or an error when their number
    /// does not match the family's label names.
    ///
    /// # Errors
    /// [`Error::LabelCount`].
    pub fn try_with_label_values(&self, values: &[&str]) -> Result<Series<C>, Error> {
        self.lookup(values, &[], None, Admit::Limited)
    }

    /// As [`Family::with_label_values`], for label values bounded by code
    /// (the middleware's method, route template and status; `#[redis_op]`'s
    /// operation): exempt from the series limit.
    pub(crate) fn with_bounded_values(&self, values: &[&str]) -> Series<C> {
        self.lookup(values, &[], None, Admit::Always)
            .unwrap_or_else(|_| self.with_label_values(values))
    }

    /// As [`Family::try_with_label_values`], with constant labels for this
    /// one series (`extra`, appended after the family's labels: the macros'
    /// `labels(key = "value")`) and bucket bounds for it (histograms only;
    /// other cells ignore them).
    ///
    /// Series of one family may thus differ in their constant labels, which
    /// the exposition format allows; the family's declared label names (its
    /// shape) stay the same. The values come from a macro's call site, so
    /// they are bounded by code and exempt from the series limit.
    pub(crate) fn child(
        &self,
        values: &[&str],
        extra: &[(&str, &str)],
        buckets: Option<&Arc<[f64]>>,
    ) -> Result<Series<C>, Error> {
        self.lookup(values, extra, buckets, Admit::Always)
    }

    fn lookup(
        &self,
        values: &[&str],
        extra: &[(&str, &str)],
        buckets: Option<&Arc<[f64]>>,
        admit: Admit,
    ) -> Result<Series<C>, Error> {
        let desc = &self.core.desc;
        if values.len() != desc.label_names().len() {
            return Err(Error::LabelCount {
                name: desc.name().to_owned(),
                expected: desc.label_names().len(),
                got: values.len(),
            });
        }
        let hash = self.hash(values, extra);
        let key = Key {
            names: desc.label_names(),
            values,
            extra,
        };
        {
            let children = self
                .core
                .children
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(found) = children.find(hash, &key) {
                return Ok(Series { core: found });
            }
            // A label set turned away before: no write lock needed.
            if let Some(overflow) = &children.overflow {
                if self.overflows(&children, values, admit) {
                    let core = Arc::clone(overflow);
                    drop(children);
                    self.count_overflow();
                    return Ok(Series { core });
                }
            }
        }
        let mut children = self
            .core
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = children.find(hash, &key) {
            return Ok(Series { core: found });
        }
        if self.overflows(&children, values, admit) {
            let first = children.overflow.is_none();
            let core = Arc::clone(children.overflow.get_or_insert_with(|| {
                let reserved = vec![OVERFLOW_LABEL_VALUE; desc.label_names().len()];
                Series::<C>::from_parts(
                    LabelRender::new(desc.label_names(), &reserved),
                    Owner::Child(Arc::clone(desc)),
                    C::new(desc.buckets_arc()),
                )
                .core
            }));
            drop(children);
            if first {
                log_limited!(
                    warn,
                    metric = desc.name(),
                    limit = self.max_series(),
                    "asdlc_metrics: a metric family reached its series limit; new label sets are recorded in its overflow series (labels = \"{OVERFLOW_LABEL_VALUE}\") and counted in asdlc_metric_series_overflow_total"
                );
            }
            self.count_overflow();
            return Ok(Series { core });
        }
        let buckets = buckets.or(desc.buckets_arc());
        // Series bounded by code are resolved once and kept by hot code.
        let cell = match admit {
            Admit::Always => C::new_hot(buckets),
            Admit::Limited => C::new(buckets),
        };
        let series = Series::<C>::from_parts(
            LabelRender::new(desc.label_names(), values).with_extra(extra),
            Owner::Child(Arc::clone(desc)),
            cell,
        );
        children.push(hash, Arc::clone(&series.core));
        Ok(series)
    }

    /// Removes the series with these label values; `true` if it existed.
    /// Handles to it keep working but are no longer exported.
    pub fn remove_label_values(&self, values: &[&str]) -> bool {
        let hash = self.hash(values, &[]);
        let key = Key {
            names: self.core.desc.label_names(),
            values,
            extra: &[],
        };
        let mut children = self
            .core
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(index) = children.position(hash, &key) else {
            return false;
        };
        children.series.remove(index);
        children.reindex();
        true
    }

    /// The series limit in force: the family's own, or its registry's
    /// default; `usize::MAX` for none.
    fn max_series(&self) -> usize {
        effective_max(self.core.limit, self.core.link.get())
    }

    /// Whether a label set not found in `children` goes to the overflow
    /// series: it is the reserved label set, or it is capped and the family
    /// is full.
    fn overflows(&self, children: &Children<C>, values: &[&str], admit: Admit) -> bool {
        is_overflow_key(values)
            || (admit == Admit::Limited && children.series.len() >= self.max_series())
    }

    fn count_overflow(&self) {
        if let Some(link) = self.core.link.get() {
            self.core
                .overflow_count
                .get_or_init(|| link.overflow_counter(self.core.desc.name()))
                .inc();
        }
    }

    /// Removes every series, the overflow series included.
    pub fn reset(&self) {
        *self
            .core
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Children::default();
    }

    /// How many label sets the family holds (its overflow series, if any,
    /// not included: this is what the series limit counts).
    pub fn len(&self) -> usize {
        self.core
            .children
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .series
            .len()
    }

    /// Whether the family has no series at all, overflow included (it is
    /// then not exported).
    pub fn is_empty(&self) -> bool {
        let children = self
            .core
            .children
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        children.series.is_empty() && children.overflow.is_none()
    }

    /// Hash of the values, then of each constant label as name, value.
    fn hash(&self, values: &[&str], extra: &[(&str, &str)]) -> u64 {
        let mut h = self.core.hasher.build_hasher();
        for v in values {
            v.hash(&mut h);
        }
        for (k, v) in extra {
            k.hash(&mut h);
            v.hash(&mut h);
        }
        h.finish()
    }
}

/// What a lookup asks for: the family's label names with these values,
/// then these constant labels.
struct Key<'a> {
    names: &'a [std::borrow::Cow<'static, str>],
    values: &'a [&'a str],
    extra: &'a [(&'a str, &'a str)],
}

impl Key<'_> {
    fn matches(&self, labels: &LabelRender) -> bool {
        labels.matches(
            self.names
                .iter()
                .map(|n| &**n)
                .zip(self.values.iter().copied())
                .chain(self.extra.iter().copied()),
        )
    }
}

impl<C> Children<C> {
    fn position(&self, hash: u64, key: &Key<'_>) -> Option<usize> {
        self.index
            .find(hash, |&i| {
                let child = &self.series[i as usize];
                child.hash == hash && key.matches(&child.core.labels)
            })
            .map(|&i| i as usize)
    }

    fn find(&self, hash: u64, key: &Key<'_>) -> Option<Arc<SeriesCore<C>>> {
        self.position(hash, key)
            .map(|i| Arc::clone(&self.series[i].core))
    }

    fn push(&mut self, hash: u64, core: Arc<SeriesCore<C>>) {
        // More than u32::MAX series in one family is far past any limit;
        // saturating keeps even that from panicking (such series would just
        // not be found again).
        let i = u32::try_from(self.series.len()).unwrap_or(u32::MAX);
        self.series.push(Child { hash, core });
        let series = &self.series;
        self.index
            .insert_unique(hash, i, |&j| series[j as usize].hash);
    }

    /// Rebuilds the index after a removal shifted the positions.
    fn reindex(&mut self) {
        self.index.clear();
        let series = &self.series;
        for (i, child) in series.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            self.index
                .insert_unique(child.hash, i, |&j| series[j as usize].hash);
        }
    }
}

impl<C: Cell, L: LabelSet> Metric for Family<C, L> {
    fn from_opts(opts: Opts) -> Result<Self, Error> {
        let limit = opts.max_series;
        let desc = Arc::new(opts.into_desc(C::KIND)?);
        check_arity::<L>(&desc)?;
        Ok(Family {
            core: Arc::new(FamilyCore {
                desc,
                hasher: RandomState::new(),
                limit,
                link: OnceLock::new(),
                overflow_count: OnceLock::new(),
                children: RwLock::new(Children::default()),
            }),
            labels: PhantomData,
        })
    }

    fn desc(&self) -> Desc {
        Desc::clone(&self.core.desc)
    }

    fn encode(&self, out: &mut TextWriter<'_>) {
        let children = self
            .core
            .children
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        if children.series.is_empty() && children.overflow.is_none() {
            return;
        }
        let desc = &self.core.desc;
        out.header(desc.name(), desc.help(), C::KIND);
        let series = children.series.iter().map(|c| &c.core);
        for series in series.chain(&children.overflow) {
            series.cell.encode(desc.name(), series.labels.as_str(), out);
        }
    }

    fn link_registry(&self, link: &RegistryLink) {
        // An uncapped family never overflows, so it needs nothing from the
        // registry (and the overflow counter family itself, uncapped, must
        // not hold its own link: that would be a reference cycle).
        if self.core.limit != SeriesLimit::Unlimited {
            let _ = self.core.link.set(link.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::encoding::TextWriter;
    use crate::metric::OVERFLOW_LABEL_VALUE;
    use crate::{CounterVec, Metric, Opts, Registry};

    fn capped(max: Option<usize>) -> CounterVec {
        CounterVec::from_opts(Opts::new("t_total", "t").labels(["a"]).max_series(max)).unwrap()
    }

    #[test]
    fn past_the_limit_label_sets_fold_into_one_overflow_series() {
        let f = capped(Some(3));
        for i in 0..10 {
            f.with_label_values(&[&format!("v{i}")]).inc();
        }
        assert_eq!(f.len(), 3);
        assert_eq!(f.with_label_values(&["v0"]).get(), 1, "kept");
        assert_eq!(f.with_label_values(&[OVERFLOW_LABEL_VALUE]).get(), 7);
        // A label set seen before the limit was reached keeps its series.
        f.with_label_values(&["v2"]).inc();
        assert_eq!(f.with_label_values(&["v2"]).get(), 2);
    }

    #[test]
    fn the_reserved_label_set_is_the_overflow_series_even_below_the_limit() {
        let f = capped(None);
        f.with_label_values(&[OVERFLOW_LABEL_VALUE]).inc();
        f.with_label_values(&["x"]).inc();
        assert_eq!(
            f.len(),
            1,
            "the reserved set never becomes a regular series"
        );
        let mut buf = Vec::new();
        f.encode(&mut TextWriter::new(&mut buf, "s"));
        let text = String::from_utf8(buf).unwrap();
        assert_eq!(text.matches("a=\"__overflow__\"").count(), 1, "{text}");
    }

    #[test]
    fn series_bounded_by_code_are_exempt() {
        let f = capped(Some(1));
        f.with_label_values(&["data"]).inc();
        for site in ["f1", "f2", "f3"] {
            f.child(&[site], &[], None).unwrap().inc();
        }
        assert_eq!(f.len(), 4);
        assert_eq!(f.with_label_values(&[OVERFLOW_LABEL_VALUE]).get(), 0);
    }

    #[test]
    fn overflows_are_counted_in_the_registry_and_its_default_applies() {
        let r = Registry::with_service("s");
        let f = r
            .register(&CounterVec::new("t_total", "t", &["a"]).unwrap())
            .unwrap();
        r.set_default_max_series(Some(2));
        for i in 0..5 {
            f.with_label_values(&[&format!("v{i}")]).inc();
        }
        let text = r.encode_to_string();
        assert!(
            text.contains(
                "asdlc_metric_series_overflow_total{service=\"s\",metric=\"t_total\"} 3\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("t_total{service=\"s\",a=\"__overflow__\"} 3\n"),
            "{text}"
        );
        r.set_default_max_series(None);
        f.with_label_values(&["v9"]).inc();
        assert_eq!(f.len(), 3, "no limit any more");
    }

    #[test]
    fn children_are_found_again_and_removed() {
        let f = CounterVec::new("t_total", "t", &["a", "b"]).unwrap();
        f.with_label_values(&["x", "y"]).inc();
        f.with_label_values(&["x", "y"]).inc();
        f.with_label_values(&["x", "z"]).inc();
        assert_eq!(f.len(), 2);
        assert_eq!(f.with_label_values(&["x", "y"]).get(), 2);
        assert!(f.remove_label_values(&["x", "y"]));
        assert!(!f.remove_label_values(&["x", "y"]));
        assert_eq!(f.with_label_values(&["x", "z"]).get(), 1);
        assert_eq!(f.with_label_values(&["x", "y"]).get(), 0);
    }

    #[test]
    fn wrong_arity_is_detached_not_a_panic() {
        let f = CounterVec::new("t_total", "t", &["a"]).unwrap();
        let detached = f.with_label_values(&["x", "y"]);
        detached.inc();
        assert_eq!(detached.get(), 1);
        assert!(f.is_empty());
        assert!(f.try_with_label_values(&[]).is_err());
        let mut buf = Vec::new();
        f.encode(&mut TextWriter::new(&mut buf, "s"));
        assert!(buf.is_empty(), "a family without series exports nothing");
    }
}
