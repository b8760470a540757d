//! Reconnection settings for `redis::aio::ConnectionManager` that keep an
//! outage as short as the outage itself.

use std::time::Duration;

use redis::aio::ConnectionManagerConfig;

/// How a `ConnectionManager` reconnects after losing Redis, and how long
/// one attempt may take.
///
/// The redis crate's defaults wait up to a minute between attempts (its
/// `factor` of 100 multiplies each delay by 100, capped only by the
/// backoff's own 60 s ceiling), so a Redis restarted after four seconds can
/// stay unreachable for the service for two minutes while every request
/// waits on the reconnection. This policy caps the delay between attempts
/// (default 1 s, plus up to as much again in jitter), bounds every connect
/// and reply, and gives up on one round of attempts after a few tries — the
/// next command starts a new round at once.
///
/// ```no_run
/// use std::time::Duration;
///
/// use asdlc_metrics::redis_metrics::ReconnectPolicy;
/// use redis::aio::ConnectionManager;
///
/// # async fn demo() -> redis::RedisResult<()> {
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let config = ReconnectPolicy::new().max_delay(Duration::from_secs(2)).manager_config();
/// let manager = ConnectionManager::new_with_config(client, config).await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    max_delay: Duration,
    attempts: usize,
    connection_timeout: Duration,
    response_timeout: Duration,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self::new()
    }
}

impl ReconnectPolicy {
    /// At most 1 s between attempts, 6 attempts a round, 1 s to connect and
    /// 1 s for a reply.
    pub const fn new() -> Self {
        ReconnectPolicy {
            max_delay: Duration::from_secs(1),
            attempts: 6,
            connection_timeout: Duration::from_secs(1),
            response_timeout: Duration::from_secs(1),
        }
    }

    /// The longest wait between two attempts, before jitter (default 1 s;
    /// the redis crate never waits less than 1 s before a retry, so lower
    /// values act as 1 s).
    #[must_use]
    pub const fn max_delay(mut self, max_delay: Duration) -> Self {
        self.max_delay = max_delay;
        self
    }

    /// Retries in one round of reconnection (default 6).
    #[must_use]
    pub const fn attempts(mut self, attempts: usize) -> Self {
        self.attempts = attempts;
        self
    }

    /// Bound on one connection attempt (default 1 s).
    #[must_use]
    pub const fn connection_timeout(mut self, timeout: Duration) -> Self {
        self.connection_timeout = timeout;
        self
    }

    /// Bound on one reply on an established connection (default 1 s).
    #[must_use]
    pub const fn response_timeout(mut self, timeout: Duration) -> Self {
        self.response_timeout = timeout;
        self
    }

    /// The `ConnectionManagerConfig` for this policy.
    ///
    /// ```
    /// let config = asdlc_metrics::redis_metrics::ReconnectPolicy::new().manager_config();
    /// assert!(format!("{config:?}").contains("max_delay: Some(1000)"));
    /// ```
    pub fn manager_config(&self) -> ConnectionManagerConfig {
        let max_delay_ms = u64::try_from(self.max_delay.as_millis()).unwrap_or(u64::MAX);
        ConnectionManagerConfig::new()
            // The manager passes `factor` to its backoff as the growth
            // factor between delays (not a unit): 2 doubles from 1 s.
            .set_factor(2)
            .set_max_delay(max_delay_ms)
            .set_number_of_retries(self.attempts)
            .set_connection_timeout(self.connection_timeout)
            .set_response_timeout(self.response_timeout)
    }
}
