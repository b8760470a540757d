//! [`ProxyConfig`]: where VictoriaMetrics is and how to authenticate to it,
//! how long to wait for it, how much of its answer to read, what
//! `/services` says when it is down, and the proxy's own front door (token,
//! concurrency limit, service scope).

use std::time::Duration;

use reqwest::Url;

use super::secret::{Credentials, Secret, redact_userinfo};
use crate::Registry;

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

/// The environment variable holding a bearer token to send upstream (read
/// by [`ProxyConfig::from_env`]; see [`ProxyConfig::upstream_bearer_token`]).
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::BEARER_TOKEN_ENV, "VICTORIAMETRICS_BEARER_TOKEN");
/// ```
pub const BEARER_TOKEN_ENV: &str = "VICTORIAMETRICS_BEARER_TOKEN";

/// The environment variable holding the token the proxy requires of its
/// clients (see [`ProxyConfig::require_bearer_token`]).
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::PROXY_TOKEN_ENV, "ASDLC_PROXY_TOKEN");
/// ```
pub const PROXY_TOKEN_ENV: &str = "ASDLC_PROXY_TOKEN";

/// The environment variable listing, comma-separated, the services every
/// query is scoped to (see [`ProxyConfig::scope_to_services`]).
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::PROXY_SERVICES_ENV, "ASDLC_PROXY_SERVICES");
/// ```
pub const PROXY_SERVICES_ENV: &str = "ASDLC_PROXY_SERVICES";

/// The default limit on upstream queries in flight at once: 32.
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::DEFAULT_MAX_CONCURRENT_QUERIES, 32);
/// ```
pub const DEFAULT_MAX_CONCURRENT_QUERIES: usize = 32;

/// The default cap on an upstream answer's body: 32 MiB.
///
/// ```
/// assert_eq!(asdlc_metrics::proxy::DEFAULT_MAX_RESPONSE_BYTES, 32 << 20);
/// ```
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Configuration of the query proxy: the upstream URL and credentials, one
/// timeout per kind of endpoint, the response size cap, the fallback service
/// list, and the front door (required token, concurrency limit, service
/// scope). It owns the one HTTP client (connection pool) every request of
/// the [`router`](super::router) built from it shares; clones share it too.
///
/// Its `Debug` output shows `***` in place of every secret.
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
    pub(crate) credentials: Option<Credentials>,
    pub(crate) required_token: Option<Secret>,
    pub(crate) max_concurrent_queries: usize,
    pub(crate) scope: Vec<String>,
    pub(crate) registry: Option<Registry>,
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
    /// Both the URL's userinfo and a bearer token name credentials for the
    /// upstream; which one was meant is not for the proxy to guess.
    ConflictingCredentials,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::InvalidUrl { url, reason } => {
                write!(f, "invalid VictoriaMetrics URL {url:?}: {reason}")
            }
            ConfigError::Client(e) => write!(f, "cannot build the HTTP client: {e}"),
            ConfigError::ConflictingCredentials => write!(
                f,
                "both ${URL_ENV} (user:password@) and ${BEARER_TOKEN_ENV} give credentials for \
                 VictoriaMetrics; set one"
            ),
        }
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ConfigError::InvalidUrl { .. } | ConfigError::ConflictingCredentials => None,
            ConfigError::Client(e) => Some(e),
        }
    }
}

impl ProxyConfig {
    /// A configuration forwarding to `upstream` (the VictoriaMetrics base
    /// URL; a path prefix such as a cluster's `/select/0/prometheus` is
    /// kept), with the default timeouts (30 s range, 10 s instant and
    /// services, 5 s health), a 32 MiB cap, the fallback services
    /// `orchestrator`, `workers`, at most
    /// [`DEFAULT_MAX_CONCURRENT_QUERIES`] queries in flight, no token
    /// required and no service scope.
    ///
    /// Userinfo in the URL (`https://user:password@vmauth:8427`,
    /// percent-encoded as URLs require) is taken out of it and sent as HTTP
    /// basic auth on every request; it never shows in
    /// [`upstream`](Self::upstream), `Debug`, errors or logs.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428/select/0/prometheus")?;
    /// assert_eq!(config.upstream(), "http://vm:8428/select/0/prometheus");
    ///
    /// let behind_vmauth = asdlc_metrics::proxy::ProxyConfig::new("https://grafana:s3cret@vmauth:8427")?;
    /// assert_eq!(behind_vmauth.upstream(), "https://vmauth:8427/");
    /// assert!(!format!("{behind_vmauth:?}").contains("s3cret"));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// [`ConfigError::InvalidUrl`] unless `upstream` is an absolute `http`
    /// or `https` URL with a host and without query or fragment (the
    /// message shows the URL with its userinfo as `***`);
    /// [`ConfigError::Client`] when the HTTP client cannot be built.
    pub fn new(upstream: &str) -> Result<Self, ConfigError> {
        let invalid = |reason: &str| ConfigError::InvalidUrl {
            url: redact_userinfo(upstream),
            reason: reason.to_owned(),
        };
        let mut base = Url::parse(upstream).map_err(|e| invalid(&e.to_string()))?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(invalid("the scheme must be http or https"));
        }
        if base.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(invalid("a base URL takes no query or fragment"));
        }
        let credentials = take_userinfo(&mut base).map_err(invalid)?;
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
            credentials,
            required_token: None,
            max_concurrent_queries: DEFAULT_MAX_CONCURRENT_QUERIES,
            scope: Vec::new(),
            registry: None,
        })
    }

    /// [`ProxyConfig::new`] with `$VICTORIAMETRICS_URL` (credentials as
    /// userinfo allowed), or [`DEFAULT_URL`] when it is unset or empty; then,
    /// each when set and not empty:
    ///
    /// * `$VICTORIAMETRICS_BEARER_TOKEN`: [`upstream_bearer_token`](Self::upstream_bearer_token);
    /// * `$ASDLC_PROXY_TOKEN`: [`require_bearer_token`](Self::require_bearer_token);
    /// * `$ASDLC_PROXY_SERVICES` (comma-separated): [`scope_to_services`](Self::scope_to_services).
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::from_env()?;
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    ///
    /// # Errors
    /// As [`ProxyConfig::new`], for the URL found;
    /// [`ConfigError::ConflictingCredentials`] when the URL has userinfo and
    /// a bearer token is set too.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let set = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let mut config = match set(URL_ENV) {
            Some(url) => Self::new(url.trim())?,
            None => Self::new(DEFAULT_URL)?,
        };
        if let Some(token) = set(BEARER_TOKEN_ENV) {
            if config.credentials.is_some() {
                return Err(ConfigError::ConflictingCredentials);
            }
            config = config.upstream_bearer_token(token.trim());
        }
        if let Some(token) = set(PROXY_TOKEN_ENV) {
            config = config.require_bearer_token(token.trim());
        }
        if let Some(services) = set(PROXY_SERVICES_ENV) {
            config = config.scope_to_services(
                services
                    .split(',')
                    .map(str::trim)
                    .filter(|name| !name.is_empty()),
            );
        }
        Ok(config)
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
        self.fallback_services = sorted_unique(services);
        self
    }

    /// Sends `Authorization: Bearer <token>` upstream on every request (to
    /// vmauth, or any Prometheus-API front that takes tokens), in place of
    /// credentials from the URL. The token never shows in `Debug`, errors or
    /// logs.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vmauth:8427")?
    ///     .upstream_bearer_token("s3cret");
    /// assert!(!format!("{config:?}").contains("s3cret"));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn upstream_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::Bearer(Secret::new(token)));
        self
    }

    /// Requires `Authorization: Bearer <token>` on every proxy route; any
    /// other request is answered 401 (`errorType` `unauthorized`, with
    /// `WWW-Authenticate: Bearer`) before anything is forwarded, and counted
    /// in `asdlc_proxy_rejected_total{reason="unauthorized"}`. The
    /// comparison takes the same time wherever the first wrong byte is.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .require_bearer_token("dashboard-token");
    /// assert!(!format!("{config:?}").contains("dashboard-token"));
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn require_bearer_token(mut self, token: impl Into<String>) -> Self {
        self.required_token = Some(Secret::new(token));
        self
    }

    /// At most `limit` upstream queries in flight at once (`query`,
    /// `query_range`, `services`; default
    /// [`DEFAULT_MAX_CONCURRENT_QUERIES`]; 0 counts as 1). Past it a query
    /// is answered at once with 503 (`errorType` `unavailable`,
    /// `Retry-After: 1`) — `/services` with its fallback list — and counted
    /// in `asdlc_proxy_rejected_total{reason="concurrency"}`, so a burst
    /// of dashboard refreshes cannot pile up on VictoriaMetrics.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .max_concurrent_queries(8);
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn max_concurrent_queries(mut self, limit: usize) -> Self {
        self.max_concurrent_queries = limit.max(1);
        self
    }

    /// Scopes every query to the series of `services`: each one is sent
    /// with one `extra_filters[]={service="<name>"}` per service, which
    /// VictoriaMetrics applies to every series selector of the query (the
    /// filters are ORed among themselves, ANDed with the query's own), so a
    /// query naming another service finds nothing. `/services` then lists
    /// only these, and falls back to them. An empty list removes the
    /// scope.
    ///
    /// ```
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .scope_to_services(["orchestrator"]);
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn scope_to_services<I>(mut self, services: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.scope = sorted_unique(services);
        self
    }

    /// The registry `asdlc_proxy_rejected_total{reason}` is registered in
    /// (default: the global [`registry`](crate::registry)).
    ///
    /// ```
    /// let registry = asdlc_metrics::Registry::with_service("demo");
    /// let config = asdlc_metrics::proxy::ProxyConfig::new("http://vm:8428")?
    ///     .registry(&registry);
    /// # Ok::<(), asdlc_metrics::proxy::ConfigError>(())
    /// ```
    #[must_use]
    pub fn registry(mut self, registry: &Registry) -> Self {
        self.registry = Some(registry.clone());
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

/// Service names sorted, without duplicates, as VictoriaMetrics would list
/// them.
fn sorted_unique<I>(services: I) -> Vec<String>
where
    I: IntoIterator,
    I::Item: Into<String>,
{
    let mut services: Vec<String> = services.into_iter().map(Into::into).collect();
    services.sort();
    services.dedup();
    services
}

/// Takes the userinfo out of `url` and returns it as credentials
/// (percent-decoded), so the URL itself can be shown.
fn take_userinfo(url: &mut Url) -> Result<Option<Credentials>, &'static str> {
    if url.username().is_empty() && url.password().is_none() {
        return Ok(None);
    }
    let decode =
        |text: &str| percent_decode(text).ok_or("the userinfo is not valid percent-encoded UTF-8");
    let credentials = Credentials::Basic {
        username: decode(url.username())?,
        password: Secret::new(decode(url.password().unwrap_or_default())?),
    };
    // Cannot fail: the URL has a host (checked before).
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Ok(Some(credentials))
}

/// `%XX` sequences decoded; `None` for a broken one or bytes that are not
/// UTF-8. (The `url` crate hands userinfo out encoded.)
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_url_from_the_environment_or_defaults() {
        let from = |value: Option<&str>| {
            let value = value.map(str::to_owned);
            ProxyConfig::from_lookup(move |name| value.clone().filter(|_| name == URL_ENV))
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
    fn takes_credentials_out_of_the_url_and_never_shows_them() {
        let config =
            ProxyConfig::new("https://graf%40na:p%3Ass%20word@vm:8427/select/0/prometheus")
                .unwrap();
        assert_eq!(config.upstream(), "https://vm:8427/select/0/prometheus");
        assert_eq!(
            config.credentials,
            Some(Credentials::Basic {
                username: "graf@na".into(),
                password: Secret::new("p:ss word"),
            })
        );
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("p:ss") && !shown.contains("p%3Ass"),
            "{shown}"
        );

        let bad = ProxyConfig::new("ftp://user:hunter2@vm")
            .unwrap_err()
            .to_string();
        assert!(!bad.contains("hunter2"), "{bad}");
        assert!(bad.contains("***@vm"), "{bad}");
        let broken = ProxyConfig::new("http://user:hunter2@")
            .unwrap_err()
            .to_string();
        assert!(!broken.contains("hunter2"), "{broken}");
        assert!(ProxyConfig::new("http://u:%ff@vm").is_err());
    }

    #[test]
    fn reads_tokens_and_scope_from_the_environment() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            ProxyConfig::from_lookup(move |name| {
                pairs
                    .iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            })
        };
        let config = env(&[
            (BEARER_TOKEN_ENV, "up-token"),
            (PROXY_TOKEN_ENV, " front-token "),
            (PROXY_SERVICES_ENV, "workers, orchestrator,,"),
        ])
        .unwrap();
        assert_eq!(
            config.credentials,
            Some(Credentials::Bearer(Secret::new("up-token")))
        );
        assert_eq!(config.required_token, Some(Secret::new("front-token")));
        assert_eq!(config.scope, ["orchestrator", "workers"]);
        let shown = format!("{config:?}");
        assert!(
            !shown.contains("up-token") && !shown.contains("front-token"),
            "{shown}"
        );

        let both = env(&[(URL_ENV, "http://u:p@vm"), (BEARER_TOKEN_ENV, "t")]);
        assert!(matches!(both, Err(ConfigError::ConflictingCredentials)));
        let none = env(&[(BEARER_TOKEN_ENV, " "), (PROXY_TOKEN_ENV, "")]).unwrap();
        assert_eq!(none.credentials, None);
        assert_eq!(none.required_token, None);
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
