//! The registry: the set of metrics and collectors one `/metrics` endpoint
//! exports.

use std::any::Any;
use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use crate::collectors::{CollectError, Collector, CollectorOutput};
use crate::encoding::{Format, TextWriter, write_proto_family};
use crate::log::RateLimit;
use crate::metric::{Desc, RegistryLink};
use crate::{CounterVec, Error, Metric, Opts};

/// A set of metrics and collectors exported together, every series with
/// `service="<name>"`.
///
/// Most code uses the global registry ([`registry()`](crate::registry)),
/// which also holds the standard `asdlc_*` metrics. Make your own for tests
/// or to export a separate set.
///
/// Registering is get-or-register: a metric whose name is already
/// registered with the same type and label names yields the registered one;
/// another shape is an [`Error::Conflict`] (logged), and the caller's metric
/// keeps working, detached.
///
/// ```
/// use asdlc_metrics::{CounterVec, Registry};
///
/// let registry = Registry::with_service("demo");
/// let a = registry.register(&CounterVec::new("asdlc_jobs_total", "Jobs.", &["kind"])?)?;
/// let b = registry.register(&CounterVec::new("asdlc_jobs_total", "Jobs.", &["kind"])?)?;
/// a.with_label_values(&["x"]).inc();
/// assert_eq!(b.with_label_values(&["x"]).get(), 1); // the same metric
///
/// let clash = CounterVec::new("asdlc_jobs_total", "Jobs.", &["queue"])?;
/// assert!(registry.register(&clash).is_err()); // other label names
/// clash.with_label_values(&["q"]).inc(); // still works, just not exported
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
#[derive(Clone)]
pub struct Registry {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: take the process-wide name from [`crate::init`].
    service: Option<Arc<str>>,
    metrics: RwLock<Metrics>,
    collectors: RwLock<Vec<Arc<CollectorEntry>>>,
    collector_errors: CounterVec,
    /// Default series limit and overflow counter, shared with every
    /// family registered here.
    link: RegistryLink,
    /// Size of the last scrape, to allocate the next one in one go.
    last_size: AtomicUsize,
    /// A scrape buffer given back once its body was sent (see
    /// [`Registry::recycle`]): the next scrape writes into memory already
    /// mapped instead of a fresh allocation, whose page faults cost a
    /// 120 MB scrape of a million series more than its encoding.
    spare: Mutex<Vec<u8>>,
}

#[derive(Default)]
struct Metrics {
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
}

struct Entry {
    desc: Desc,
    metric: Box<dyn ErasedMetric>,
    limit: RateLimit,
}

struct CollectorEntry {
    collector: Box<dyn Collector>,
    limit: RateLimit,
}

/// Object-safe view of a [`Metric`].
trait ErasedMetric: Send + Sync {
    fn encode(&self, out: &mut TextWriter<'_>);
    fn as_any(&self) -> &dyn Any;
}

impl<M: Metric> ErasedMetric for M {
    fn encode(&self, out: &mut TextWriter<'_>) {
        Metric::encode(self, out);
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("service", &self.service_name())
            .field("metrics", &self.read_metrics().entries.len())
            .field("collectors", &self.read_collectors().len())
            .finish()
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::new()
    }
}

/// Shape of a description, for conflict messages: `counter{a,b}`.
fn shape(desc: &Desc) -> String {
    let labels: Vec<&str> = desc.label_names().iter().map(|l| &**l).collect();
    format!("{}{{{}}}", desc.kind().as_str(), labels.join(","))
}

impl Registry {
    /// An empty registry whose series carry the process-wide service name
    /// (see [`init`](crate::init)).
    pub fn new() -> Self {
        Self::build(None)
    }

    /// An empty registry whose series carry `service="<service>"`.
    pub fn with_service(service: impl Into<String>) -> Self {
        Self::build(Some(Arc::from(service.into())))
    }

    fn build(service: Option<Arc<str>>) -> Self {
        let collector_errors = crate::__private::build_static::<CounterVec>(
            Opts::new(
                "asdlc_collector_errors_total",
                "Scrapes in which a collector failed or panicked; its families were left out of that scrape.",
            )
            .labels(["collector"]),
        );
        let link = RegistryLink::new();
        let registry = Registry {
            inner: Arc::new(Inner {
                service,
                metrics: RwLock::new(Metrics::default()),
                collectors: RwLock::new(Vec::new()),
                collector_errors: collector_errors.clone(),
                link: link.clone(),
                last_size: AtomicUsize::new(4096),
                spare: Mutex::new(Vec::new()),
            }),
        };
        // A fresh registry holds nothing these could conflict with.
        let _ = registry.register(&collector_errors);
        let _ = registry.register(link.overflow_family());
        registry
    }

    /// Sets the series limit of every labelled family registered here that
    /// does not set its own ([`Opts::max_series`]): `Some(n)`, or `None` for
    /// no limit. The default is
    /// [`DEFAULT_MAX_SERIES`](crate::metric::DEFAULT_MAX_SERIES) (2,000).
    /// Applies to families already registered too, from their next new
    /// label set on.
    ///
    /// ```
    /// use asdlc_metrics::{CounterVec, Registry};
    ///
    /// let registry = Registry::with_service("demo");
    /// registry.set_default_max_series(Some(1));
    /// let users = registry.register(&CounterVec::new("asdlc_demo_users_total", "Users.", &["user"])?)?;
    /// users.with_label_values(&["alice"]).inc();
    /// users.with_label_values(&["bob"]).inc();
    /// assert_eq!(users.len(), 1);
    /// assert_eq!(registry.default_max_series(), Some(1));
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    pub fn set_default_max_series(&self, max: Option<usize>) {
        self.inner.link.set_default_max(max);
    }

    /// [`Registry::set_default_max_series`], builder style.
    ///
    /// ```
    /// let registry = asdlc_metrics::Registry::with_service("demo").with_default_max_series(None);
    /// assert_eq!(registry.default_max_series(), None);
    /// ```
    #[must_use]
    pub fn with_default_max_series(self, max: Option<usize>) -> Self {
        self.set_default_max_series(max);
        self
    }

    /// The series limit of families that do not set their own; `None`: no
    /// limit.
    pub fn default_max_series(&self) -> Option<usize> {
        self.inner.link.default_max()
    }

    /// The `service` label value of this registry's series.
    pub fn service_name(&self) -> Arc<str> {
        match &self.inner.service {
            Some(s) => Arc::clone(s),
            None => crate::service_name(),
        }
    }

    fn read_metrics(&self) -> std::sync::RwLockReadGuard<'_, Metrics> {
        self.inner
            .metrics
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn read_collectors(&self) -> std::sync::RwLockReadGuard<'_, Vec<Arc<CollectorEntry>>> {
        self.inner
            .collectors
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers `metric` and returns the registered instance: `metric`
    /// itself, or the metric already registered under its name when that one
    /// has the same type, label names and Rust type.
    ///
    /// # Errors
    /// [`Error::Conflict`] when the name is taken by another shape (logged
    /// as a warning), [`Error::NotRegistrable`] for a child series. Either
    /// way `metric` keeps working; it is just not exported.
    pub fn register<M: Metric>(&self, metric: &M) -> Result<M, Error> {
        metric.check_registrable()?;
        let desc = metric.desc();
        let mut metrics = self
            .inner
            .metrics
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(&index) = metrics.by_name.get(desc.name()) {
            let existing = &metrics.entries[index];
            if existing.desc.same_shape(&desc) {
                if let Some(same) = existing.metric.as_any().downcast_ref::<M>() {
                    return Ok(same.clone());
                }
            }
            let requested = if existing.desc.same_shape(&desc) {
                format!(
                    "{} of Rust type {}",
                    shape(&desc),
                    std::any::type_name::<M>()
                )
            } else {
                shape(&desc)
            };
            let err = Error::Conflict {
                name: desc.name().to_owned(),
                existing: shape(&existing.desc),
                requested,
            };
            tracing::warn!("asdlc_metrics: {err}; the new metric records but is not exported");
            return Err(err);
        }
        metric.link_registry(&self.inner.link);
        let index = metrics.entries.len();
        metrics.by_name.insert(desc.name().to_owned(), index);
        metrics.entries.push(Entry {
            desc,
            metric: Box::new(metric.clone()),
            limit: RateLimit::new(),
        });
        Ok(metric.clone())
    }

    /// Builds a metric from `opts` and registers it (get-or-register).
    ///
    /// ```
    /// use asdlc_metrics::{CounterVec, Opts, Registry};
    ///
    /// let r = Registry::with_service("demo");
    /// let jobs: CounterVec = r.get_or_register(Opts::new("asdlc_jobs_total", "Jobs.").labels(["kind"]))?;
    /// jobs.with_label_values(&["a"]).inc();
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Metric::from_opts`] and [`Registry::register`].
    pub fn get_or_register<M: Metric>(&self, opts: Opts) -> Result<M, Error> {
        self.register(&M::from_opts(opts)?)
    }

    /// Whether a metric family of this name is registered.
    pub fn contains(&self, name: &str) -> bool {
        self.read_metrics().by_name.contains_key(name)
    }

    /// Adds a collector, run at the start of every scrape.
    pub fn register_collector(&self, collector: impl Collector) {
        self.inner
            .collectors
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(CollectorEntry {
                collector: Box::new(collector),
                limit: RateLimit::new(),
            }));
    }

    /// Adds a collector of the `prometheus` crate (for example its
    /// `ProcessCollector`, or a user's own); its families are exported with
    /// the `service` label like everything else. `name` labels its failures
    /// in `asdlc_collector_errors_total`.
    ///
    /// ```
    /// let r = asdlc_metrics::Registry::with_service("demo");
    /// let legacy = prometheus::IntGauge::new("legacy_level", "Old gauge.").unwrap();
    /// legacy.set(3);
    /// r.register_prometheus_collector("legacy", Box::new(legacy));
    /// assert!(r.encode_to_string().contains("legacy_level{service=\"demo\"} 3\n"));
    /// ```
    pub fn register_prometheus_collector(
        &self,
        name: impl Into<String>,
        collector: Box<dyn prometheus::core::Collector>,
    ) {
        self.register_collector(PrometheusCollector {
            name: name.into(),
            collector,
        });
    }

    /// Encodes every registered metric and collector in the text format.
    ///
    /// Collectors run first (so those that refresh registered metrics are
    /// current); a failing or panicking one is left out and counted. A
    /// labelled family without series is left out.
    pub fn encode(&self, buf: &mut Vec<u8>) {
        self.encode_into(buf, Format::Text);
    }

    /// Encodes every registered metric and collector in `format`, into a
    /// fresh buffer sized after the last scrape. OpenMetrics adds the
    /// exemplars and ends with `# EOF`.
    ///
    /// ```
    /// use asdlc_metrics::encoding::Format;
    ///
    /// let r = asdlc_metrics::Registry::with_service("demo");
    /// r.register(&asdlc_metrics::Counter::new("asdlc_jobs_total", "Jobs.")?)?.inc();
    /// let text = String::from_utf8(r.encode_format(Format::OpenMetrics)).unwrap();
    /// assert!(text.contains("# TYPE asdlc_jobs counter\nasdlc_jobs_total{service=\"demo\"} 1\n"));
    /// assert!(text.ends_with("# EOF\n"));
    /// # Ok::<(), asdlc_metrics::Error>(())
    /// ```
    pub fn encode_format(&self, format: Format) -> Vec<u8> {
        let hint = self.inner.last_size.load(Ordering::Relaxed);
        let want = hint + hint / 8;
        let spare = std::mem::take(&mut *self.spare());
        let mut buf = if spare.capacity() >= want {
            spare
        } else {
            Vec::with_capacity(want)
        };
        buf.clear();
        self.encode_into(&mut buf, format);
        self.inner.last_size.store(buf.len(), Ordering::Relaxed);
        buf
    }

    /// Gives a scrape's buffer back once it is no longer needed, for the
    /// next [`Registry::encode_format`] to write into. The registry keeps
    /// the largest one given back (between scrapes, memory about the size
    /// of one scrape stays allocated; a scrape allocates as much anyway).
    /// The `/metrics` handler does this when the body has been sent.
    ///
    /// ```
    /// let r = asdlc_metrics::Registry::with_service("demo");
    /// let body = r.encode_to_vec();
    /// let at = body.as_ptr();
    /// r.recycle(body);
    /// assert_eq!(r.encode_to_vec().as_ptr(), at, "the same memory again");
    /// ```
    pub fn recycle(&self, buf: Vec<u8>) {
        let mut spare = self.spare();
        if buf.capacity() > spare.capacity() {
            *spare = buf;
        }
    }

    fn spare(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        self.inner
            .spare
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn encode_into(&self, buf: &mut Vec<u8>, format: Format) {
        let service = self.service_name();
        let mut collected = Vec::new();
        self.run_collectors(&mut TextWriter::with_format(
            &mut collected,
            &service,
            format,
        ));
        let mut out = TextWriter::with_format(buf, &service, format);
        for entry in &self.read_metrics().entries {
            let mark = out.len();
            let encoded = catch_unwind(AssertUnwindSafe(|| entry.metric.encode(&mut out)));
            if let Err(panic) = encoded {
                out.truncate(mark);
                self.record_failure(entry.desc.name(), &entry.limit, &panic_message(&*panic));
            }
        }
        out.extend(&collected);
        out.finish();
    }

    /// [`Registry::encode`] into a fresh buffer sized after the last scrape.
    pub fn encode_to_vec(&self) -> Vec<u8> {
        self.encode_format(Format::Text)
    }

    /// [`Registry::encode`] as a `String` (for tests and debugging).
    pub fn encode_to_string(&self) -> String {
        // The encoder writes UTF-8 only (names are ASCII, values escaped).
        String::from_utf8_lossy(&self.encode_to_vec()).into_owned()
    }

    fn run_collectors(&self, out: &mut TextWriter<'_>) {
        // Neither lock is held while a collector runs, so a collector may
        // register metrics (or collectors) without deadlocking.
        let taken = |name: &str| self.contains(name);
        let collectors: Vec<Arc<CollectorEntry>> = self.read_collectors().clone();
        let mut written = Vec::new();
        for entry in &collectors {
            let mark = out.len();
            let written_before = written.len();
            let mut output = CollectorOutput {
                writer: out,
                taken: &taken,
                written: &mut written,
            };
            let result = catch_unwind(AssertUnwindSafe(|| entry.collector.collect(&mut output)));
            let failure = match result {
                Ok(Ok(())) => continue,
                // The message is the collector's code too: one whose
                // `Display` panics fails its own collection, not the scrape.
                Ok(Err(err)) => {
                    catch_unwind(AssertUnwindSafe(|| err.to_string())).unwrap_or_else(|panic| {
                        format!(
                            "failed, and its error's message panicked: {}",
                            panic_message(&*panic)
                        )
                    })
                }
                Err(panic) => format!("panicked: {}", panic_message(&*panic)),
            };
            out.truncate(mark);
            written.truncate(written_before);
            self.record_failure(entry.collector.name(), &entry.limit, &failure);
        }
    }

    fn record_failure(&self, collector: &str, limit: &RateLimit, reason: &str) {
        self.inner
            .collector_errors
            .with_label_values(&[collector])
            .inc();
        if let Some(suppressed) = limit.check() {
            tracing::warn!(
                collector,
                suppressed,
                "asdlc_metrics: collector failed, its metrics are left out of this scrape: {reason}"
            );
        }
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "non-string panic payload".to_owned())
}

/// Adapts a `prometheus` crate collector.
struct PrometheusCollector {
    name: String,
    collector: Box<dyn prometheus::core::Collector>,
}

impl Collector for PrometheusCollector {
    fn name(&self) -> &str {
        &self.name
    }

    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        for family in self.collector.collect() {
            if (out.taken)(family.name()) || out.written.iter().any(|w| w == family.name()) {
                return Err(format!(
                    "family `{}` is already exported by another metric or collector",
                    family.name()
                )
                .into());
            }
            out.written.push(family.name().to_owned());
            write_proto_family(&family, out.writer);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Counter, Gauge, MetricKind};

    #[test]
    fn same_shape_returns_the_registered_metric() {
        let r = Registry::with_service("t");
        let a = r.register(&Counter::new("a_total", "A.").unwrap()).unwrap();
        let b = r.register(&Counter::new("a_total", "A.").unwrap()).unwrap();
        assert!(a.same_as(&b));
    }

    #[test]
    fn other_type_is_a_conflict_and_the_loser_still_works() {
        let r = Registry::with_service("t");
        r.register(&Gauge::new("a_level", "A.").unwrap()).unwrap();
        let other = prometheus::IntGauge::from_opts(Opts::new("a_level", "A.")).unwrap();
        let err = r.register(&other).unwrap_err();
        assert!(matches!(err, Error::Conflict { .. }), "{err}");
        other.set(5);
        assert_eq!(other.get(), 5);
    }

    #[test]
    fn child_series_are_not_registrable() {
        let r = Registry::with_service("t");
        let v = CounterVec::new("v_total", "V.", &["a"]).unwrap();
        assert!(matches!(
            r.register(&v.with_label_values(&["x"])),
            Err(Error::NotRegistrable(_))
        ));
    }

    struct Dup;
    impl Collector for Dup {
        fn name(&self) -> &str {
            "dup"
        }
        fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
            out.family("v_total", "again", MetricKind::Counter)?
                .sample("", &[], 1.0);
            Ok(())
        }
    }

    #[test]
    fn a_collector_cannot_export_a_registered_name_again() {
        let r = Registry::with_service("t");
        r.register(&CounterVec::new("v_total", "V.", &["a"]).unwrap())
            .unwrap()
            .with_label_values(&["x"])
            .inc();
        r.register_collector(Dup);
        let text = r.encode_to_string();
        assert_eq!(text.matches("# TYPE v_total").count(), 1, "{text}");
        assert!(
            text.contains("asdlc_collector_errors_total{service=\"t\",collector=\"dup\"} 1"),
            "{text}"
        );
    }
}
