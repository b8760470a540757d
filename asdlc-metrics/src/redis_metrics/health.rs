use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client};
use tokio::task::JoinHandle;

use crate::instrument::redis_op as redis_state;

/// A background task that PINGs Redis every `interval`, each attempt
/// bounded by `timeout`, and sets `asdlc_redis_connection_up` from the
/// result (defaults: every 5 s, 1 s timeout).
///
/// Scrapes only read the gauge, so they never wait on Redis; a Redis that
/// hangs (rather than refusing connections) reads as down once a PING times
/// out. `#[redis_op]` calls and [`InstrumentedConnection`](super::InstrumentedConnection)
/// update the same gauge from their outcomes in between.
///
/// ```no_run
/// use std::time::Duration;
///
/// use asdlc_metrics::redis_metrics::RedisHealthCheck;
///
/// # async fn demo() -> redis::RedisResult<()> {
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let health = RedisHealthCheck::new(client)
///     .interval(Duration::from_secs(5))
///     .timeout(Duration::from_secs(1))
///     .spawn(); // keep `health` alive; dropping it stops the checks
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
#[must_use = "call .spawn() to start the health check"]
pub struct RedisHealthCheck {
    client: Client,
    interval: Duration,
    timeout: Duration,
}

/// The running health check; dropping it stops the task.
#[derive(Debug)]
#[must_use = "dropping the handle stops the health check"]
pub struct RedisHealthHandle {
    task: JoinHandle<()>,
}

impl RedisHealthHandle {
    /// Stops the health check (also done on drop).
    pub fn stop(self) {}

    /// Whether the task is still running.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for RedisHealthHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl RedisHealthCheck {
    /// Checks the server `client` points at, over a connection of its own.
    pub fn new(client: Client) -> Self {
        RedisHealthCheck {
            client,
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(1),
        }
    }

    /// Time between checks (default 5 s).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Bound on one check: connecting (when needed) and the PING (default 1 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Starts the checks on the current tokio runtime; the first runs at once.
    ///
    /// # Panics
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub fn spawn(self) -> RedisHealthHandle {
        RedisHealthHandle {
            task: tokio::spawn(self.run()),
        }
    }

    async fn run(self) {
        let mut connection: Option<MultiplexedConnection> = None;
        let mut ticks = tokio::time::interval(self.interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let up = tokio::time::timeout(self.timeout, self.check(&mut connection))
                .await
                .unwrap_or(false);
            if !up {
                // A connection that failed or hung is not trusted again.
                connection = None;
            }
            if up != redis_state::is_up() {
                tracing::info!(up, "asdlc_metrics: Redis health changed");
            }
            redis_state::set_up(up);
        }
    }

    async fn check(&self, connection: &mut Option<MultiplexedConnection>) -> bool {
        if connection.is_none() {
            let config = AsyncConnectionConfig::new()
                .set_connection_timeout(self.timeout)
                .set_response_timeout(self.timeout);
            match self
                .client
                .get_multiplexed_async_connection_with_config(&config)
                .await
            {
                Ok(c) => *connection = Some(c),
                Err(e) => {
                    tracing::debug!("asdlc_metrics: Redis health check cannot connect: {e}");
                    return false;
                }
            }
        }
        let Some(con) = connection.as_mut() else {
            return false;
        };
        let pong = con.req_packed_command(&redis::cmd("PING")).await;
        match pong {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!("asdlc_metrics: Redis health check failed: {e}");
                false
            }
        }
    }
}
