//! Finding the external tools the tests run.

use std::path::PathBuf;

/// A tool the tests need, with the Debian package that provides it.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// Executable name.
    pub binary: &'static str,
    /// Debian package providing it.
    pub package: &'static str,
}

/// `promtool`, from Debian's `prometheus` package.
pub const PROMTOOL: Tool = Tool {
    binary: "promtool",
    package: "prometheus",
};

/// The Prometheus server, from Debian's `prometheus` package.
pub const PROMETHEUS: Tool = Tool {
    binary: "prometheus",
    package: "prometheus",
};

/// `redis-server`.
pub const REDIS_SERVER: Tool = Tool {
    binary: "redis-server",
    package: "redis-server",
};

/// `victoria-metrics`.
pub const VICTORIA_METRICS: Tool = Tool {
    binary: "victoria-metrics",
    package: "victoria-metrics",
};

/// `vmalert`, from Debian's `victoria-metrics` package.
pub const VMALERT: Tool = Tool {
    binary: "vmalert",
    package: "victoria-metrics",
};

/// `vmagent`, from Debian's `victoria-metrics` package.
pub const VMAGENT: Tool = Tool {
    binary: "vmagent",
    package: "victoria-metrics",
};

/// `vmauth`, from Debian's `victoria-metrics` package.
pub const VMAUTH: Tool = Tool {
    binary: "vmauth",
    package: "victoria-metrics",
};

/// Alertmanager, from Debian's `prometheus-alertmanager` package.
pub const ALERTMANAGER: Tool = Tool {
    binary: "prometheus-alertmanager",
    package: "prometheus-alertmanager",
};

impl Tool {
    /// The tool's path on `PATH` (or in `/usr/bin`, `/usr/sbin`), or an
    /// error that says how to install it.
    pub fn path(&self) -> Result<PathBuf, String> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .chain([PathBuf::from("/usr/bin"), PathBuf::from("/usr/sbin")])
            .map(|dir| dir.join(self.binary))
            .find(|candidate| candidate.is_file())
            .ok_or_else(|| {
                format!(
                    "`{}` not found; install it with `apt-get install -y {}` \
                     (or run ./scripts/test, which installs every tool the tests need)",
                    self.binary, self.package
                )
            })
    }
}
