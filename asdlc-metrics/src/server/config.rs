//! [`ServerConfig`]: the timeouts of [`serve_app`](super::serve_app), with
//! defaults and environment overrides.

use std::time::Duration;

/// `$ASDLC_HTTP_HEADER_TIMEOUT`: seconds a client has to send a request's
/// headers, and the longest a kept-alive connection may sit idle.
pub const HEADER_TIMEOUT_ENV: &str = "ASDLC_HTTP_HEADER_TIMEOUT";
/// `$ASDLC_HTTP_BODY_TIMEOUT`: seconds a client has to send a request's
/// body, counted from its headers.
pub const BODY_TIMEOUT_ENV: &str = "ASDLC_HTTP_BODY_TIMEOUT";
/// `$ASDLC_SHUTDOWN_TIMEOUT`: seconds a graceful shutdown waits for open
/// requests before dropping them.
pub const SHUTDOWN_TIMEOUT_ENV: &str = "ASDLC_SHUTDOWN_TIMEOUT";

/// How long a server waits for its clients, and for itself when stopping.
///
/// | setting | default | environment |
/// |---|---|---|
/// | [`header_read_timeout`](Self::header_read_timeout) | 10 s | [`HEADER_TIMEOUT_ENV`] |
/// | [`body_read_timeout`](Self::body_read_timeout) | 30 s | [`BODY_TIMEOUT_ENV`] |
/// | [`shutdown_timeout`](Self::shutdown_timeout) | 20 s | [`SHUTDOWN_TIMEOUT_ENV`] |
///
/// The defaults keep a slow or half-open client from holding a connection
/// (and a file descriptor) for ever, and let a stop finish inside
/// Kubernetes' default 30 s grace period.
///
/// ```
/// use std::time::Duration;
/// use asdlc_metrics::server::ServerConfig;
///
/// let config = ServerConfig::new()
///     .header_read_timeout(Duration::from_secs(5))
///     .shutdown_timeout(Duration::from_secs(10));
/// assert_eq!(config.header_read(), Duration::from_secs(5));
/// assert_eq!(config.body_read(), Duration::from_secs(30));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerConfig {
    header_read: Duration,
    body_read: Duration,
    shutdown: Duration,
}

/// An environment variable that is set but is not a number of seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfigError {
    /// The variable's name.
    pub name: &'static str,
    /// Its value as found.
    pub value: String,
}

impl std::fmt::Display for ServerConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "${} = {:?}: expected a positive number of seconds (e.g. 10 or 0.5)",
            self.name, self.value
        )
    }
}

impl std::error::Error for ServerConfigError {}

impl Default for ServerConfig {
    /// [`ServerConfig::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl ServerConfig {
    /// The defaults: headers 10 s, body 30 s, shutdown 20 s.
    ///
    /// ```
    /// let config = asdlc_metrics::server::ServerConfig::new();
    /// assert_eq!(config.shutdown(), std::time::Duration::from_secs(20));
    /// ```
    #[must_use]
    pub const fn new() -> Self {
        ServerConfig {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            shutdown: Duration::from_secs(20),
        }
    }

    /// The defaults, overridden by [`HEADER_TIMEOUT_ENV`],
    /// [`BODY_TIMEOUT_ENV`] and [`SHUTDOWN_TIMEOUT_ENV`] where set (seconds,
    /// a fraction allowed).
    ///
    /// ```
    /// let config = asdlc_metrics::server::ServerConfig::from_env()?;
    /// # Ok::<(), asdlc_metrics::server::ServerConfigError>(())
    /// ```
    ///
    /// # Errors
    /// When one is set to something other than a positive number.
    pub fn from_env() -> Result<Self, ServerConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// [`from_env`](Self::from_env) with the variables looked up by
    /// `lookup` (for tests and non-environment sources).
    ///
    /// ```
    /// use asdlc_metrics::server::ServerConfig;
    ///
    /// let config = ServerConfig::from_lookup(|name| {
    ///     (name == "ASDLC_HTTP_HEADER_TIMEOUT").then(|| "0.5".to_owned())
    /// })?;
    /// assert_eq!(config.header_read(), std::time::Duration::from_millis(500));
    /// assert!(ServerConfig::from_lookup(|_| Some("soon".to_owned())).is_err());
    /// # Ok::<(), asdlc_metrics::server::ServerConfigError>(())
    /// ```
    ///
    /// # Errors
    /// When one is set to something other than a positive number.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ServerConfigError> {
        let read = |name: &'static str, default: Duration| match lookup(name) {
            None => Ok(default),
            Some(value) => seconds(&value).ok_or(ServerConfigError { name, value }),
        };
        let defaults = Self::new();
        Ok(ServerConfig {
            header_read: read(HEADER_TIMEOUT_ENV, defaults.header_read)?,
            body_read: read(BODY_TIMEOUT_ENV, defaults.body_read)?,
            shutdown: read(SHUTDOWN_TIMEOUT_ENV, defaults.shutdown)?,
        })
    }

    /// How long a client has to send a request's headers (request line
    /// included). The same timer bounds an idle kept-alive connection:
    /// hyper starts it when the connection waits for its next request. The
    /// connection is closed when it fires.
    #[must_use]
    pub const fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read = timeout;
        self
    }

    /// How long a client has, from its headers, to send the whole body. A
    /// request whose body is late is answered `408` with a JSON error and
    /// its connection closed.
    #[must_use]
    pub const fn body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read = timeout;
        self
    }

    /// How long a graceful shutdown waits for open requests and connections
    /// before dropping them.
    #[must_use]
    pub const fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown = timeout;
        self
    }

    /// The header-read (and keep-alive idle) timeout.
    #[must_use]
    pub const fn header_read(&self) -> Duration {
        self.header_read
    }

    /// The body-read timeout.
    #[must_use]
    pub const fn body_read(&self) -> Duration {
        self.body_read
    }

    /// The shutdown deadline.
    #[must_use]
    pub const fn shutdown(&self) -> Duration {
        self.shutdown
    }
}

/// A positive, finite number of seconds.
fn seconds(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds.is_finite() && seconds > 0.0)
        .then(|| Duration::try_from_secs_f64(seconds).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_seconds_and_rejects_the_rest() {
        assert_eq!(seconds("2"), Some(Duration::from_secs(2)));
        assert_eq!(seconds(" 0.25 "), Some(Duration::from_millis(250)));
        for bad in ["", "0", "-1", "NaN", "inf", "1e400", "10s"] {
            assert_eq!(seconds(bad), None, "{bad}");
        }
        let error = ServerConfig::from_lookup(|name| {
            (name == SHUTDOWN_TIMEOUT_ENV).then(|| "later".to_owned())
        })
        .unwrap_err();
        assert_eq!(error.name, SHUTDOWN_TIMEOUT_ENV);
        assert!(error.to_string().contains("\"later\""), "{error}");
    }
}
