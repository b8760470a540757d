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

/// `(VmRSS, VmSize)` in bytes, from `/proc/self/status`.
#[cfg(target_os = "linux")]
fn read_status() -> Result<(i64, i64), CollectError> {
    let status = procfs::process::Process::myself()?.status()?;
    Ok((
        kib_to_bytes(status.vmrss, "VmRSS")?,
        kib_to_bytes(status.vmsize, "VmSize")?,
    ))
}

/// Elsewhere there is no `/proc`: the collector fails and the family stays
/// absent (it is not installed by default there).
#[cfg(not(target_os = "linux"))]
fn read_status() -> Result<(i64, i64), CollectError> {
    Err("process memory is read from /proc/self/status, which only Linux has".into())
}

/// A `/proc/self/status` field in kibibytes, as bytes; an error when the
/// kernel did not report it.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn kib_to_bytes(kib: Option<u64>, field: &str) -> Result<i64, CollectError> {
    let kib = kib.ok_or_else(|| format!("/proc/self/status has no {field} line"))?;
    Ok(i64::try_from(kib.saturating_mul(1024))
        .map_err(|e| format!("/proc/self/status {field} {kib} kB: {e}"))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_convert_to_bytes_and_missing_ones_are_errors() {
        assert_eq!(kib_to_bytes(Some(45), "VmRSS").unwrap(), 45 * 1024);
        let missing = kib_to_bytes(None, "VmSwap").unwrap_err().to_string();
        assert!(missing.contains("no VmSwap line"), "{missing}");
        assert!(kib_to_bytes(Some(u64::MAX), "VmSize").is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reads_this_process() {
        let (rss, virt) = read_status().unwrap();
        assert!(rss > 0, "rss {rss}");
        assert!(virt >= rss, "virtual {virt} < rss {rss}");
    }
}
