use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};
use std::marker::PhantomData;
use std::sync::{Arc, PoisonError, RwLock};

use super::series::{Cell, Owner};
use super::{Desc, LabelSet, Metric, Opts, Series, Untyped};
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
pub struct Family<C, L = Untyped> {
    core: Arc<FamilyCore<C>>,
    labels: PhantomData<fn() -> L>,
}

struct FamilyCore<C> {
    desc: Arc<Desc>,
    hasher: RandomState,
    children: RwLock<Children<C>>,
}

struct Children<C> {
    /// Hash of the label values → indices into `series` with that hash.
    by_hash: HashMap<u64, Vec<usize>>,
    series: Vec<Arc<super::series::SeriesCore<C>>>,
    values: Vec<Box<[Box<str>]>>,
}

impl<C> Default for Children<C> {
    fn default() -> Self {
        Children {
            by_hash: HashMap::new(),
            series: Vec::new(),
            values: Vec::new(),
        }
    }
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
                    self.core.desc.buckets_arc(),
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
        self.child(values, &[], None)
    }

    /// As [`Family::try_with_label_values`], with constant labels for this
    /// one series (`extra`, appended after the family's labels: the macros'
    /// `labels(key = "value")`) and bucket bounds for it (histograms only;
    /// other cells ignore them).
    ///
    /// Series of one family may thus differ in their constant labels, which
    /// the exposition format allows; the family's declared label names (its
    /// shape) stay the same.
    pub(crate) fn child(
        &self,
        values: &[&str],
        extra: &[(&str, &str)],
        buckets: Option<&Arc<[f64]>>,
    ) -> Result<Series<C>, Error> {
        let desc = &self.core.desc;
        if values.len() != desc.label_names().len() {
            return Err(Error::LabelCount {
                name: desc.name().to_owned(),
                expected: desc.label_names().len(),
                got: values.len(),
            });
        }
        // The lookup key: the values, then each constant label as name, value.
        let with_extra: Vec<&str>;
        let key = if extra.is_empty() {
            values
        } else {
            with_extra = values
                .iter()
                .copied()
                .chain(extra.iter().flat_map(|(k, v)| [*k, *v]))
                .collect();
            &with_extra
        };
        let hash = self.hash(key);
        {
            let children = self
                .core
                .children
                .read()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(found) = children.find(hash, key) {
                return Ok(Series { core: found });
            }
        }
        let mut children = self
            .core
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = children.find(hash, key) {
            return Ok(Series { core: found });
        }
        let series = Series::<C>::from_parts(
            LabelRender::new(desc.label_names(), values).with_extra(extra),
            Owner::Child(Arc::clone(desc)),
            buckets.or(desc.buckets_arc()),
        );
        let index = children.series.len();
        children.series.push(Arc::clone(&series.core));
        children
            .values
            .push(key.iter().map(|v| Box::from(*v)).collect());
        children.by_hash.entry(hash).or_default().push(index);
        Ok(series)
    }

    /// Removes the series with these label values; `true` if it existed.
    /// Handles to it keep working but are no longer exported.
    pub fn remove_label_values(&self, values: &[&str]) -> bool {
        let hash = self.hash(values);
        let mut children = self
            .core
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(index) = children.position(hash, values) else {
            return false;
        };
        children.series.remove(index);
        children.values.remove(index);
        children.reindex(|v| self.hash(v));
        true
    }

    /// Removes every series.
    pub fn reset(&self) {
        *self
            .core
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Children::default();
    }

    /// How many series the family has.
    pub fn len(&self) -> usize {
        self.core
            .children
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .series
            .len()
    }

    /// Whether the family has no series (it is then not exported at all).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn hash(&self, values: &[&str]) -> u64 {
        let mut h = self.core.hasher.build_hasher();
        for v in values {
            v.hash(&mut h);
        }
        h.finish()
    }
}

impl<C> Children<C> {
    fn position(&self, hash: u64, values: &[&str]) -> Option<usize> {
        self.by_hash.get(&hash)?.iter().copied().find(|&i| {
            let stored = &self.values[i];
            stored.len() == values.len() && stored.iter().zip(values).all(|(a, b)| &**a == *b)
        })
    }

    fn find(&self, hash: u64, values: &[&str]) -> Option<Arc<super::series::SeriesCore<C>>> {
        self.position(hash, values)
            .map(|i| Arc::clone(&self.series[i]))
    }

    fn reindex(&mut self, hash: impl Fn(&[&str]) -> u64) {
        self.by_hash.clear();
        for (i, values) in self.values.iter().enumerate() {
            let refs: Vec<&str> = values.iter().map(|v| &**v).collect();
            self.by_hash.entry(hash(&refs)).or_default().push(i);
        }
    }
}

impl<C: Cell, L: LabelSet> Metric for Family<C, L> {
    fn from_opts(opts: Opts) -> Result<Self, Error> {
        let desc = Arc::new(opts.into_desc(C::KIND)?);
        check_arity::<L>(&desc)?;
        Ok(Family {
            core: Arc::new(FamilyCore {
                desc,
                hasher: RandomState::new(),
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
        if children.series.is_empty() {
            return;
        }
        let desc = &self.core.desc;
        out.header(desc.name(), desc.help(), C::KIND);
        for series in &children.series {
            series.cell.encode(desc.name(), series.labels.as_str(), out);
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::encoding::TextWriter;
    use crate::{CounterVec, Metric};

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
