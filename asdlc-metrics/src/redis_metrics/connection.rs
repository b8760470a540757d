use std::future::Future;
use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use redis::aio::ConnectionLike;
use redis::{Cmd, Pipeline, RedisFuture, RedisResult, Value};

use super::commands::{self, COMMANDS, OTHER, PIPELINE};
use crate::instrument::outcome::{
    Outcome, is_caller_error, is_caller_error_code, is_connection_error,
};
use crate::instrument::redis_op::RedisSeries;

/// A Redis connection that records every command it sends.
///
/// Wraps anything implementing `redis::aio::ConnectionLike`
/// (`ConnectionManager`, `MultiplexedConnection`, …) and is one itself, so
/// it drops into existing code. Each command is recorded in
/// `asdlc_redis_operation_duration_seconds{operation="<command, lower case>"}`
/// and, when Redis fails it, `asdlc_redis_operation_errors_total{operation}`
/// (an error that is the caller's — `WRONGTYPE`, `ERR` for a bad command,
/// `NOSCRIPT` — is not a failure of Redis and is not counted there); a
/// pipeline is recorded once, as `operation="pipeline"`. Label values come
/// from command names only — never keys or arguments — and a name outside
/// the known Redis commands is recorded as `other`, so the label stays
/// bounded. Outcomes also feed `asdlc_redis_connection_up`.
///
/// With [`timeout`](Self::timeout) every command gets a bound: a reply that
/// does not come in time fails the command with a timeout error
/// (`RedisError::is_timeout()`), counts as a connection failure (the gauge
/// goes to 0) and is recorded in the error counter. Without it a command
/// waits as long as the wrapped connection lets it — for a
/// `ConnectionManager` that is reconnecting, possibly minutes.
///
/// ```no_run
/// use asdlc_metrics::redis_metrics::InstrumentedConnection;
/// use redis::AsyncCommands;
///
/// # async fn demo() -> redis::RedisResult<()> {
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let mut con = InstrumentedConnection::new(client.get_multiplexed_async_connection().await?);
/// let _: () = con.set("greeting", "hello").await?; // operation="set"
/// let v: String = con.get("greeting").await?; // operation="get"
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct InstrumentedConnection<C> {
    inner: C,
    timeout: Option<Duration>,
}

impl<C> InstrumentedConnection<C> {
    /// Wraps `inner`; commands are not bounded beyond what `inner` does
    /// (see [`timeout`](Self::timeout)).
    pub fn new(inner: C) -> Self {
        InstrumentedConnection {
            inner,
            timeout: None,
        }
    }

    /// Bounds every command (and every pipeline, as a whole) by `limit`:
    /// past it the command fails with an I/O error of kind `TimedOut`,
    /// which marks Redis down. Choose it above the longest blocking command
    /// you send (`XREADGROUP BLOCK`, `BLPOP`).
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// use asdlc_metrics::redis_metrics::InstrumentedConnection;
    ///
    /// # async fn demo() -> redis::RedisResult<()> {
    /// let client = redis::Client::open("redis://127.0.0.1:6379")?;
    /// let manager = redis::aio::ConnectionManager::new(client).await?;
    /// let mut con = InstrumentedConnection::new(manager).timeout(Duration::from_millis(500));
    /// let pong: String = redis::cmd("PING").query_async(&mut con).await?; // at most 500 ms
    /// # Ok(())
    /// # }
    /// ```
    #[must_use]
    pub fn timeout(mut self, limit: Duration) -> Self {
        self.timeout = Some(limit);
        self
    }

    /// The bound set by [`timeout`](Self::timeout), if any.
    pub fn command_timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The wrapped connection.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The wrapped connection, mutably (commands sent through it directly
    /// are not recorded).
    pub fn inner_mut(&mut self) -> &mut C {
        &mut self.inner
    }

    /// Unwraps the connection.
    pub fn into_inner(self) -> C {
        self.inner
    }
}

/// One resolved [`RedisSeries`] per known command, plus `other` and
/// `pipeline`, created on first use: a command costs a binary search over
/// the names, no hashing or locking.
static SERIES: LazyLock<Box<[OnceLock<RedisSeries>]>> =
    LazyLock::new(|| (0..COMMANDS.len() + 2).map(|_| OnceLock::new()).collect());

fn series(slot: usize, operation: &str) -> &'static RedisSeries {
    SERIES[slot].get_or_init(|| RedisSeries::new(operation))
}

fn command_series(cmd: &Cmd) -> &'static RedisSeries {
    let name = cmd.args_iter().next().and_then(|arg| match arg {
        redis::Arg::Simple(bytes) => commands::index_of(bytes),
        redis::Arg::Cursor => None,
    });
    match name {
        Some(i) => series(i, COMMANDS[i]),
        None => series(COMMANDS.len(), OTHER),
    }
}

fn pipeline_series() -> &'static RedisSeries {
    series(COMMANDS.len() + 1, PIPELINE)
}

/// Records an operation when dropped, so a future dropped mid-command
/// (a timeout around it) is recorded too, as a failure.
struct OpGuard {
    series: &'static RedisSeries,
    start: crate::clock::Stamp,
    outcome: Outcome,
}

impl Drop for OpGuard {
    fn drop(&mut self) {
        let end = crate::clock::Stamp::now();
        let current = crate::exemplar::current::current();
        let trace = current
            .as_ref()
            .map(|trace| crate::metric::Traced { trace, at: end });
        self.series
            .record(self.outcome, self.start.until(end), trace);
    }
}

/// Replies that carry a server error: at this level Redis errors arrive as
/// `Ok(Value::ServerError)` (the typed API turns them into `Err` later).
/// Classified as `#[redis_op]` classifies the same error, so both count the
/// same failures.
trait Reply {
    fn outcome(&self) -> Outcome;
}

impl Reply for Value {
    fn outcome(&self) -> Outcome {
        match self {
            Value::ServerError(e) if is_caller_error_code(e.code()) => Outcome::CallerError,
            Value::ServerError(_) => Outcome::Error,
            _ => Outcome::Ok,
        }
    }
}

impl Reply for Vec<Value> {
    /// The worst reply of a pipeline: a failure of Redis, else the
    /// caller's error, else success.
    fn outcome(&self) -> Outcome {
        let mut outcome = Outcome::Ok;
        for reply in self {
            match reply.outcome() {
                Outcome::Ok => {}
                Outcome::CallerError => outcome = Outcome::CallerError,
                failure => return failure,
            }
        }
        outcome
    }
}

async fn recorded<T: Reply>(
    series: &'static RedisSeries,
    timeout: Option<Duration>,
    request: impl Future<Output = RedisResult<T>>,
) -> RedisResult<T> {
    let mut guard = OpGuard {
        series,
        start: crate::clock::Stamp::now(),
        outcome: Outcome::Cancelled,
    };
    let result = match timeout {
        None => request.await,
        Some(limit) => tokio::time::timeout(limit, request)
            .await
            .unwrap_or_else(|_| Err(timed_out(limit))),
    };
    guard.outcome = match &result {
        Ok(reply) => reply.outcome(),
        Err(e) if is_connection_error(e) => Outcome::ConnectionError,
        Err(e) if is_caller_error(e) => Outcome::CallerError,
        Err(_) => Outcome::Error,
    };
    result
}

/// The error of a command that got no reply within `limit`: an I/O error of
/// kind `TimedOut`, so `is_timeout()` and `is_io_error()` hold and callers
/// that map I/O errors to "unavailable" need no special case.
fn timed_out(limit: Duration) -> redis::RedisError {
    std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!("no reply from Redis within {limit:?}"),
    )
    .into()
}

impl<C: ConnectionLike + Send> ConnectionLike for InstrumentedConnection<C> {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        let series = command_series(cmd);
        Box::pin(recorded(
            series,
            self.timeout,
            self.inner.req_packed_command(cmd),
        ))
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        cmd: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(recorded(
            pipeline_series(),
            self.timeout,
            self.inner.req_packed_commands(cmd, offset, count),
        ))
    }

    fn get_db(&self) -> i64 {
        self.inner.get_db()
    }
}
