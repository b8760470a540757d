//! The service identity: the `service` label on every series and the
//! `asdlc_service_info{version}` gauge.

use std::sync::{Arc, LazyLock, PoisonError, RwLock};

/// A service's name and version, as given to [`init`].
///
/// ```
/// let info = asdlc_metrics::ServiceInfo::new("workers").version("1.4.2");
/// assert_eq!(info.name(), "workers");
/// assert_eq!(info.version_str(), "1.4.2");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    name: Arc<str>,
    version: Arc<str>,
}

impl ServiceInfo {
    /// A service called `name`; the version defaults to `$ASDLC_SERVICE_VERSION`,
    /// else `unknown`.
    pub fn new(name: impl Into<String>) -> Self {
        ServiceInfo {
            name: Arc::from(name.into()),
            version: Arc::from(default_version()),
        }
    }

    /// Sets the version (typically `env!("CARGO_PKG_VERSION")`).
    #[must_use]
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = Arc::from(version.into());
        self
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version string.
    pub fn version_str(&self) -> &str {
        &self.version
    }
}

impl From<&str> for ServiceInfo {
    fn from(name: &str) -> Self {
        ServiceInfo::new(name)
    }
}

impl From<String> for ServiceInfo {
    fn from(name: String) -> Self {
        ServiceInfo::new(name)
    }
}

fn default_version() -> String {
    std::env::var("ASDLC_SERVICE_VERSION")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The name used when [`init`] was never called: `$ASDLC_SERVICE`, else the
/// executable's file name, else `unknown`.
fn default_service() -> ServiceInfo {
    let name = std::env::var("ASDLC_SERVICE")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        })
        .unwrap_or_else(|| "unknown".to_owned());
    ServiceInfo::new(name)
}

static IDENTITY: LazyLock<RwLock<ServiceInfo>> = LazyLock::new(|| RwLock::new(default_service()));

/// Names this process: every series exported by the global registry (and by
/// any registry without its own service name) carries `service="<name>"`,
/// and `asdlc_service_info{service, version} 1` is exported.
///
/// Call it once at start-up. Without it, the name comes from the
/// `ASDLC_SERVICE` environment variable, else the executable's name.
///
/// ```
/// asdlc_metrics::init("orchestrator");
/// assert_eq!(&*asdlc_metrics::service_name(), "orchestrator");
///
/// asdlc_metrics::init(asdlc_metrics::ServiceInfo::new("orchestrator").version("2.0.0"));
/// assert_eq!(asdlc_metrics::service_info().version_str(), "2.0.0");
/// ```
pub fn init(service: impl Into<ServiceInfo>) {
    let service = service.into();
    *IDENTITY.write().unwrap_or_else(PoisonError::into_inner) = service.clone();
    crate::standard().set_service_info(&service);
}

/// The current service identity.
pub fn service_info() -> ServiceInfo {
    IDENTITY
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// The current service name (see [`init`]).
pub fn service_name() -> Arc<str> {
    Arc::clone(&IDENTITY.read().unwrap_or_else(PoisonError::into_inner).name)
}
