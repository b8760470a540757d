//! [`ProxyConfig`]: where VictoriaMetrics is, how long to wait for it, how
//! much of its answer to read, and what `/services` says when it is down.

use std::time::Duration;

use reqwest::Url;

/// The upstream when `VICTORIAMETRICS_URL` is not set: the VictoriaMetrics
/// service name of the project's compose and Kubernetes set-ups.
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::DEFAULT_URL, "http://victoriametrics:8428");
/// ```
pub const DEFAULT_URL: &str = "http://victoriametrics:8428";

/// The environment variable [`ProxyConfig::from_env`] reads.
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::URL_ENV, "VICTORIAMETRICS_URL");
/// ```
pub const URL_ENV: &str = "VICTORIAMETRICS_URL";

/// The default cap on an upstream answer's body: 32 MiB.
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::DEFAULT_MAX_RESPONSE_BYTES, 32 << 20);
/// ```
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Configuration of the query proxy: the upstream URL, one timeout per kind
/// of endpoint, the response size cap and the fallback service list. It owns
/// the one HTTP client (connection pool) every request of the
/// [`router`](super::router) built from it shares; clones share it too.
///
/// ```
/// use std::time::Duration;
/// use asdlc_metrics::proxy::ProxyConfig;
///
/// let config = ProxyConfig::new("http://127.0.0.1:8428")?
///     .range_timeout(Duration::from_secs(60))
///     .max_response_bytes(8 << 20)
///     .fallback_services(["orchestrator", "workers", "scheduler"]);
/// assert_eq!(config.upstream(), "http://127.0.0.1:8428/");
/// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub(crate) base: Url,
    pub(crate) client: reqwest::Client,
    pub(crate) range_timeout: Duration,
    pub(crate) instant_timeout: Duration,
    pub(crate) services_timeout: Duration,
    pub(crate) health_timeout: Duration,
    pub(crate) max_response_bytes: usize,
    pub(crate) fallback_services: Vec<String>,
}

/// Why a [`ProxyConfig`] could not be built.
///
/// ```
/// let err = asdlc_metrics::proxy::ProxyConfig::new("ftp://vm").unwrap_err();
/// assert!(err.to_string().contains("http or https"));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum ConfigError {
    /// The upstream URL is not an absolute `http`/`https` URL without query
    /// or fragment.
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built (its TLS backend failed to load).
    Client(reqwest::Error),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::InvalidUrl { url, reason } => {
                write!(f, "invalid VictoriaMetrics URL {url:?}: {reason}")
            }
            ConfigError::Client(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::InvalidUrl { .. } => None,
            ConfigError::Client(e) => Some(e),
        }
    }
}

impl ProxyConfig {
    /// A configuration forwarding to `upstream` (the VictoriaMetrics base
    /// URL; a path prefix such as a cluster's `/select/0/prometheus` is
    /// kept), with the default timeouts (30 s range, 10 s instant and
    /// services, 5 s health), a 32 MiB cap and the fallback services
    /// `orchestrator`, `workers`.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428/select/0/prometheus")?;
    /// assert_eq!(config.upstream(), "http://vm:8428/select/0/prometheus");
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless `upstream` is an absolute `http`
    /// or `https` URL with a host and without query or fragment;
    /// [`ConfigError::Client`] when the HTTP client cannot be built.
    pub fn new(upstream: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidUrl {
            url: upstream.to_owned(),
            reason: reason.to_owned(),
        };
        let base = Url::parse(upstream).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("a base URL takes no query or fragment"));
        }
        // One client, built here and shared by every request: it keeps the
        // connection pool. Timeouts are per request (they differ by
        // endpoint). Redirects are not followed (VictoriaMetrics does not
        // redirect API calls; one would be a misconfiguration to surface),
        // and proxy environment variables are ignored, since they are meant
        // for egress and VictoriaMetrics is an internal service.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .build()
            .map_err(ConfigError::Client)?;
        Ok(ProxyConfig {
            base,
            client,
            range_timeout: Duration::from_secs(30),
            instant_timeout: Duration::from_secs(10),
            services_timeout: Duration::from_secs(10),
            health_timeout: Duration::from_secs(5),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            fallback_services: vec!["orchestrator".to_owned(), "workers".to_owned()],
        })
    }

    /// [`ProxyConfig::new`] with `$VICTORIAMETRICS_URL`, or [`DEFAULT_URL`]
    /// when it is unset or empty.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::from_env()?;
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`ProxyConfig::new`], for the URL found.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        match lookup(URL_ENV) {
            Some(url) if !url.trim().is_empty() => Self::new(url.trim()),
            _ => Self::new(DEFAULT_URL),
        }
    }

    /// The upstream base URL, normalised.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://VM:8428")?;
    /// assert_eq!(config.upstream(), "http://vm:8428/");
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    pub fn upstream(&self) -> &str {
        self.base.as_str()
    }

    /// How long `/query_range` waits for VictoriaMetrics' complete answer
    /// (default 30 s); past it the answer is 504.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .range_timeout(Duration::from_secs(60));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn range_timeout(mut self, timeout: Duration) -> Self {
        self.range_timeout = timeout;
        self
    }

    /// How long `/query` waits (default 10 s); past it the answer is 504.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .instant_timeout(Duration::from_secs(3));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn instant_timeout(mut self, timeout: Duration) -> Self {
        self.instant_timeout = timeout;
        self
    }

    /// How long `/services` waits (default 10 s) before it answers with the
    /// fallback list.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .services_timeout(Duration::from_secs(2));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn services_timeout(mut self, timeout: Duration) -> Self {
        self.services_timeout = timeout;
        self
    }

    /// The longest `/health` takes (default 5 s); past it the answer is
    /// `unhealthy`.
    ///
    /// ```
    /// # use std::time::Duration;
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .health_timeout(Duration::from_millis(500));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn health_timeout(mut self, timeout: Duration) -> Self {
        self.health_timeout = timeout;
        self
    }

    /// The most bytes of an upstream body the proxy reads (default
    /// [`DEFAULT_MAX_RESPONSE_BYTES`]); a larger answer is a 502, and
    /// reading stops at the cap.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .max_response_bytes(1 << 20);
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn max_response_bytes(mut self, bytes: usize) -> Self {
        self.max_response_bytes = bytes;
        self
    }

    /// What `/services` answers when VictoriaMetrics cannot (default
    /// `orchestrator`, `workers`); served sorted, without duplicates, like
    /// a real answer.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .fallback_services(["workers", "orchestrator", "scheduler"]);
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn fallback_services<I>(mut self, services: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        let mut services: Vec<String> = services.into_iter().map(Into::into).collect();
        services.sort();
        services.dedup();
        self.fallback_services = services;
        self
    }

    /// `path` (starting with `/`) under the base URL, keeping its prefix.
    pub(crate) fn endpoint(&self, path: &str) -> Url {
        let mut url = self.base.clone();
        let joined = format!("{}{path}", self.base.path().trim_end_matches('/'));
        url.set_path(&joined);
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_url_from_the_environment_or_defaults() {
        let from = |value: Option<&str>| {
            let value = value.map(str::to_owned);
            ProxyConfig::from_lookup(move |name| {
                assert_eq!(name, URL_ENV);
                value.clone()
            })
        };
        assert_eq!(
            from(None).unwrap().upstream(),
            "http://victoriametrics:8428/"
        );
        assert_eq!(
            from(Some("  ")).unwrap().upstream(),
            "http://victoriametrics:8428/"
        );
        assert_eq!(
            from(Some("http://10.0.0.7:9428")).unwrap().upstream(),
            "http://10.0.0.7:9428/"
        );
        assert!(matches!(
            from(Some("not a url")),
            Err(ConfigError::InvalidUrl { .. })
        ));
    }

    #[test]
    fn rejects_urls_that_are_not_a_base() {
        for url in [
            "vm:8428",
            "file:///tmp",
            "http://vm:8428/?a=1",
            "http://vm:8428/#x",
            "",
        ] {
            assert!(ProxyConfig::new(url).is_err(), "{url}");
        }
    }

    #[test]
    fn endpoints_keep_the_path_prefix() {
        let plain = ProxyConfig::new("http://vm:8428").unwrap();
        assert_eq!(
            plain.endpoint("/api/v1/query").as_str(),
            "http://vm:8428/api/v1/query"
        );
        let prefixed = ProxyConfig::new("https://vm/select/0/prometheus/").unwrap();
        assert_eq!(
            prefixed.endpoint("/api/v1/query_range").as_str(),
            "https://vm/select/0/prometheus/api/v1/query_range"
        );
    }

    #[test]
    fn fallback_services_are_sorted_and_unique() {
        let config = ProxyConfig::new("http://vm")
            .unwrap()
            .fallback_services(["b", "a", "b"]);
        assert_eq!(config.fallback_services, ["a", "b"]);
        assert_eq!(
            ProxyConfig::new("http://vm").unwrap().fallback_services,
            ["orchestrator", "workers"]
        );
    }
}
