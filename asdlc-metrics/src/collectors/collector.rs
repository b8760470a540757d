//! The [`Collector`] trait: code that produces metric families (or refreshes
//! registered metrics) when a scrape happens.

use asdlc_metrics_naming::check_metric_name;

use crate::MetricKind;
use crate::encoding::{FamilyWriter, TextWriter};

/// The error a collector returns when it cannot produce its metrics.
pub type CollectError = Box<dyn std::error::Error + Send + Sync>;

/// Produces metrics at scrape time.
///
/// Collectors run at the start of every scrape, before registered metrics
/// are written, so a collector may either write families of its own through
/// `out` or refresh metrics registered elsewhere (as
/// [`WorkerPoolCollector`](crate::collectors::WorkerPoolCollector) does for
/// `asdlc_active_workers`).
///
/// A collector that returns `Err` or panics loses only its own output for
/// that scrape: the registry logs a warning (at most once a minute per
/// collector) and increments `asdlc_collector_errors_total{collector="<name>"}`.
///
/// ```
/// use asdlc_metrics::{CollectError, Collector, CollectorOutput, MetricKind, Registry};
///
/// struct QueueDepth;
///
/// impl Collector for QueueDepth {
///     fn name(&self) -> &str {
///         "queue"
///     }
///
///     fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
///         let depth = 7.0; // read it from wherever it lives
///         out.family("asdlc_queue_depth", "Items waiting.", MetricKind::Gauge)?
///             .sample("", &[], depth);
///         Ok(())
///     }
/// }
///
/// let registry = Registry::with_service("demo");
/// registry.register_collector(QueueDepth);
/// assert!(registry.encode_to_string().contains("asdlc_queue_depth{service=\"demo\"} 7\n"));
/// ```
pub trait Collector: Send + Sync + 'static {
    /// A short name for logs and the `collector` label of
    /// `asdlc_collector_errors_total`.
    fn name(&self) -> &str;

    /// Writes this collector's families (or refreshes registered metrics).
    ///
    /// # Errors
    /// Any error drops this collector's output from the scrape.
    fn collect(&self, out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError>;
}

/// Where a [`Collector`] writes its families.
pub struct CollectorOutput<'w, 'a> {
    pub(crate) writer: &'w mut TextWriter<'a>,
    /// Names no collector may write: registered families and families
    /// already written by earlier collectors in this scrape.
    pub(crate) taken: &'w dyn Fn(&str) -> bool,
    pub(crate) written: &'w mut Vec<String>,
}

impl<'a> CollectorOutput<'_, 'a> {
    /// Starts a family.
    ///
    /// # Errors
    /// When the name breaks the naming rules for `kind`, or a family of that
    /// name is already exported (by a registered metric or another
    /// collector): a name is exported once, with one type.
    pub fn family<'f>(
        &'f mut self,
        name: &'f str,
        help: &str,
        kind: MetricKind,
    ) -> Result<FamilyWriter<'f, 'a>, CollectError> {
        check_metric_name(name, kind)?;
        if help.trim().is_empty() {
            return Err(format!("family `{name}` has no help text").into());
        }
        if (self.taken)(name) || self.written.iter().any(|w| w == name) {
            return Err(format!(
                "family `{name}` is already exported by another metric or collector"
            )
            .into());
        }
        self.written.push(name.to_owned());
        Ok(self.writer.family(name, help, kind))
    }
}
