//! Collectors: the [`Collector`] trait and the collectors shipped with the
//! crate.

mod collector;
mod process;
mod worker_pool;

pub use collector::{CollectError, Collector, CollectorOutput};
pub use process::ProcessMemoryCollector;
pub use worker_pool::{WorkerPoolCollector, WorkerPoolSnapshot, WorkerPoolStats};

use crate::{Registry, StandardMetrics};

/// Installs the process collectors in the global registry: the `prometheus`
/// crate's `process_*` collector and `asdlc_process_memory_bytes` (Linux
/// only; elsewhere neither exists and the families are absent).
pub(crate) fn register_defaults(registry: &Registry, standard: &StandardMetrics) {
    #[cfg(target_os = "linux")]
    {
        registry.register_prometheus_collector(
            "process",
            Box::new(prometheus::process_collector::ProcessCollector::for_self()),
        );
        registry.register_collector(ProcessMemoryCollector::new(
            standard.process_memory_bytes.clone(),
        ));
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (registry, standard);
}
