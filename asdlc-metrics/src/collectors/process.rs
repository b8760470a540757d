use crate::{CollectError, Collector, CollectorOutput, GaugeVec};

/// Refreshes `asdlc_process_memory_bytes{type="rss"|"virtual"}` from
/// `/proc/self/status` at every scrape (Linux).
///
/// Installed in the global registry automatically; use it directly only
/// with a registry of your own.
///
/// ```
/// # #[cfg(target_os = "linux")] {
/// use asdlc_metrics::{GaugeVec, Registry, collectors::ProcessMemoryCollector};
///
/// let r = Registry::with_service("demo");
/// let memory = r.register(&GaugeVec::new("asdlc_process_memory_bytes", "Memory.", &["type"])?)?;
/// r.register_collector(ProcessMemoryCollector::new(memory.clone()));
/// let text = r.encode_to_string();
/// assert!(text.contains("asdlc_process_memory_bytes{service=\"demo\",type=\"rss\"}"));
/// # }
/// # Ok::<(), asdlc_metrics::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProcessMemoryCollector {
    memory: GaugeVec,
}

impl ProcessMemoryCollector {
    /// Refreshes `memory` (a gauge family with the single label `type`).
    pub fn new(memory: GaugeVec) -> Self {
        ProcessMemoryCollector { memory }
    }
}

impl Collector for ProcessMemoryCollector {
    fn name(&self) -> &str {
        "process_memory"
    }

    fn collect(&self, _out: &mut CollectorOutput<'_, '_>) -> Result<(), CollectError> {
        match read_status() {
            Ok((rss, virt)) => {
                self.memory.with_label_values(&["rss"]).set(rss);
                self.memory.with_label_values(&["virtual"]).set(virt);
                Ok(())
            }
            Err(err) => {
                // Absent rather than stale or zero.
                self.memory.reset();
                Err(err)
            }
        }
    }
}

/// `(VmRSS, VmSize)` in bytes.
fn read_status() -> Result<(i64, i64), CollectError> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    Ok((
        status_kib(&status, "VmRSS:")? * 1024,
        status_kib(&status, "VmSize:")? * 1024,
    ))
}

fn status_kib(status: &str, key: &str) -> Result<i64, CollectError> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .ok_or_else(|| format!("/proc/self/status has no {key} line"))?;
    let number = line.trim().trim_end_matches("kB").trim();
    Ok(number
        .parse::<i64>()
        .map_err(|e| format!("/proc/self/status {key} {number:?}: {e}"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_status_lines() {
        let status = "Name:\tx\nVmSize:\t  123 kB\nVmRSS:\t     45 kB\n";
        assert_eq!(status_kib(status, "VmSize:").unwrap(), 123);
        assert_eq!(status_kib(status, "VmRSS:").unwrap(), 45);
        assert!(status_kib(status, "VmSwap:").is_err());
    }
}
