use crate::{CollectError, Collector, CollectorOutput, Gauge};

/// What a worker pool reports at scrape time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkerPoolSnapshot {
    /// Workers running (started and not yet stopped).
    pub active_workers: u64,
}

impl WorkerPoolSnapshot {
    /// A snapshot with `active_workers` running.
    pub fn new(active_workers: u64) -> Self {
        WorkerPoolSnapshot { active_workers }
    }
}

/// A worker pool that can report its state; implement it for your pool
/// (or pass a closure returning a [`WorkerPoolSnapshot`]).
pub trait WorkerPoolStats: Send + Sync + 'static {
    /// The pool's state now. Called at every scrape: keep it cheap (read
    /// atomics, do not wait on locks held across I/O).
    fn snapshot(&self) -> WorkerPoolSnapshot;
}

impl<F> WorkerPoolStats for F
where
    F: Fn() -> WorkerPoolSnapshot + Send + Sync + 'static,
{
    fn snapshot(&self) -> WorkerPoolSnapshot {
        self()
    }
}

impl<S: WorkerPoolStats> WorkerPoolStats for std::sync::Arc<S> {
    fn snapshot(&self) -> WorkerPoolSnapshot {
        (**self).snapshot()
    }
}

/// Exports a worker pool's state as `asdlc_active_workers`, refreshed at
/// every scrape.
///
/// It sets the standard `asdlc_active_workers` gauge rather than exporting
/// a family of its own, so the name is exported once whether or not a pool
/// is registered (services without one export 0). One pool per registry:
/// two collectors would overwrite each other's value.
///
/// ```
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// use asdlc_metrics::collectors::{WorkerPoolCollector, WorkerPoolSnapshot};
///
/// let running = Arc::new(AtomicU64::new(0));
/// let pool = Arc::clone(&running);
/// asdlc_metrics::registry().register_collector(WorkerPoolCollector::new(move || {
///     WorkerPoolSnapshot::new(pool.load(Ordering::Relaxed))
/// }));
/// running.store(4, Ordering::Relaxed);
/// let text = asdlc_metrics::registry().encode_to_string();
/// assert!(text.lines().any(|l| l.starts_with("asdlc_active_workers{") && l.ends_with(" 4")));
/// ```
#[derive(Debug)]
pub struct WorkerPoolCollector<S> {
    stats: S,
    gauge: Gauge,
}

impl<S: WorkerPoolStats> WorkerPoolCollector<S> {
    /// Reports `stats` into the global standard `asdlc_active_workers`.
    pub fn new(stats: S) -> Self {
        Self::with_gauge(stats, crate::standard().active_workers.clone())
    }

    /// Reports `stats` into `gauge` (for a registry of your own).
    pub fn with_gauge(stats: S, gauge: Gauge) -> Self {
        WorkerPoolCollector { stats, gauge }
    }
}

impl<S: WorkerPoolStats> Collector for WorkerPoolCollector<S> {
    fn name(&self) -> &str {
        "worker_pool"
    }

    fn collect(&self, _out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        let snapshot = self.stats.snapshot();
        self.gauge
            .set(i64::try_from(snapshot.active_workers).unwrap_or(i64::MAX));
        Ok(())
    }
}
