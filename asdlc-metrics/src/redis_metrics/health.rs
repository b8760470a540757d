use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{AsyncConnectionConfig, Client};
use tokio::task::JoinHandle;

use crate::instrument::redis_op;

/// A background task that PINGs Redis every `interval`, each attempt
/// bounded by `timeout`, and sets `asdlc_redis_connection_up` from the
/// result (defaults: every 5 s, 1 s timeout).
///
/// [`new`](Self::new) checks over a connection of its own;
/// [`for_connection`](Self::for_connection) PINGs through the connection
/// the service itself uses (a `ConnectionManager` clone), so the gauge says
/// whether *that* connection works: a manager still waiting to reconnect
/// after Redis came back reads as down until it has reconnected, and the
/// PINGs also drive its reconnection while the service is idle.
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
#[derive(Clone)]
#[must_use = "call .spawn() to start the health check"]
pub struct RedisHealthCheck {
    target: Target,
    interval: Duration,
    timeout: Duration,
}

/// What the check PINGs through.
#[derive(Clone)]
enum Target {
    /// A connection of the check's own, opened from this client.
    Own(Client),
    /// The service's connection (cloned: clones share the connection).
    Shared(SharedConnection),
}

/// A clonable connection the check can PING through.
trait Pingable: ConnectionLike + Send + Sync {
    fn clone_box(&self) -> Box<dyn Pingable>;
}

impl<C: ConnectionLike + Clone + Send + Sync + 'static> Pingable for C {
    fn clone_box(&self) -> Box<dyn Pingable> {
        Box::new(self.clone())
    }
}

struct SharedConnection(Box<dyn Pingable>);

impl Clone for SharedConnection {
    fn clone(&self) -> Self {
        SharedConnection(self.0.clone_box())
    }
}

impl std::fmt::Debug for RedisHealthCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let target = match &self.target {
            Target::Own(client) => {
                format!("own connection to {:?}", client.get_connection_info().addr)
            }
            Target::Shared(_) => "shared connection".to_owned(),
        };
        f.debug_struct("RedisHealthCheck")
            .field("target", &target)
            .field("interval", &self.interval)
            .field("timeout", &self.timeout)
            .finish()
    }
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
        Self::checking(Target::Own(client))
    }

    /// Checks through `connection`, the one the service sends its commands
    /// on (a `ConnectionManager` or `MultiplexedConnection`: clones share
    /// the underlying connection). Pass the bare connection, not an
    /// [`InstrumentedConnection`](super::InstrumentedConnection), unless you
    /// want the PINGs recorded as `operation="ping"`.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// use asdlc_metrics::redis_metrics::{InstrumentedConnection, RedisHealthCheck};
    ///
    /// # async fn demo() -> redis::RedisResult<()> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new(client).await?;
    /// let _health = RedisHealthCheck::for_connection(manager.clone())
    ///     .interval(Duration::from_secs(1))
    ///     .spawn();
    /// let con = InstrumentedConnection::new(manager); // what the service uses
    /// # Ok(())
    /// # }
    /// ```
    pub fn for_connection<C>(connection: C) -> Self
    where
        C: ConnectionLike + Clone + Send + Sync + 'static,
    {
        Self::checking(Target::Shared(SharedConnection(Box::new(connection))))
    }

    fn checking(target: Target) -> Self {
        RedisHealthCheck {
            target,
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
        let mut connection: Option<Box<dyn Pingable>> = None;
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
            if up != redis_op::is_up() {
                tracing::info!(up, "asdlc_metrics: Redis health changed");
            }
            redis_op::set_up(up);
        }
    }

    async fn check(&self, connection: &mut Option<Box<dyn Pingable>>) -> bool {
        if connection.is_none() {
            match self.connect().await {
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
            Ok(redis::Value::ServerError(e)) => {
                tracing::debug!("asdlc_metrics: Redis health check failed: {e:?}");
                false
            }
            Ok(_) => true,
            Err(e) => {
                tracing::debug!("asdlc_metrics: Redis health check failed: {e}");
                false
            }
        }
    }
}

impl RedisHealthCheck {
    /// The connection to PING through: a new one of the check's own, or a
    /// clone of the service's (which reconnects by itself, if it can).
    async fn connect(&self) -> redis::RedisResult<Box<dyn Pingable>> {
        match &self.target {
            Target::Shared(shared) => Ok(shared.0.clone_box()),
            Target::Own(client) => {
                let config = AsyncConnectionConfig::new()
                    .set_connection_timeout(self.timeout)
                    .set_response_timeout(self.timeout);
                let con: MultiplexedConnection = client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?;
                Ok(Box::new(con))
            }
        }
    }
}
