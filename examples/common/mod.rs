//! Pieces the reference services share: the task stream's names, start-up
//! configuration, reconnect backoff and shutdown signals.

#![allow(dead_code)] // each example uses part of this module

use std::time::Duration;

/// The Redis stream tasks are published to.
pub const STREAM: &str = "asdlc:tasks";
/// The consumer group the workers read the stream with.
pub const GROUP: &str = "asdlc-workers";
/// The counter task ids come from.
pub const TASK_SEQ: &str = "asdlc:task_seq";

/// The Redis hash holding task `id`'s state.
pub fn task_key(id: &str) -> String {
    format!("asdlc:task:{id}")
}

/// `$REDIS_URL`, default `redis://127.0.0.1:6379`.
pub fn redis_url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `$REDIS_TIMEOUT_MS` (default 500 ms): the bound on one Redis command (or
/// pipeline), so a request fails fast with 503 while Redis is unreachable.
pub fn redis_timeout() -> Duration {
    millis_from_env("REDIS_TIMEOUT_MS", 500)
}

/// `$REDIS_RECONNECT_MAX_MS` (default 1000 ms): the longest wait between
/// two reconnection attempts, so a service is back within about that long
/// (plus jitter) after Redis is.
pub fn reconnect_max_delay() -> Duration {
    millis_from_env("REDIS_RECONNECT_MAX_MS", 1000)
}

fn millis_from_env(name: &str, default: u64) -> Duration {
    let ms = std::env::var(name)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|&ms| ms > 0)
        .unwrap_or(default);
    Duration::from_millis(ms)
}

/// `0.0.0.0:$PORT`, with `default` when `PORT` is unset or not a number.
pub fn listen_addr(default: u16) -> String {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(default);
    let host = std::env::var("HOST").unwrap_or_else(|_| "0.0.0.0".to_owned());
    format!("{host}:{port}")
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); in colour only
/// when stderr is a terminal, so a log file or pipe gets no escape codes.
/// Spans with a `trace_id` field make it the exemplar of what they record
/// (`TraceIdLayer`).
pub fn init_logging() {
    use std::io::IsTerminal as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with(fmt)
        .with(asdlc_metrics::exemplar::TraceIdLayer::new())
        .init();
}

/// Resolves on SIGTERM or Ctrl-C. The handlers are installed when this is
/// called, not when the future is first polled: a SIGTERM that arrives in
/// between (right after start) is then a graceful stop too, not the default
/// action (killed, no logs, no flush).
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let signals = {
        use tokio::signal::unix::{SignalKind, signal};
        (
            signal(SignalKind::terminate()).ok(),
            signal(SignalKind::interrupt()).ok(),
        )
    };
    async move {
        #[cfg(unix)]
        {
            let (mut terminate, mut interrupt) = signals;
            let wait = |signal: Option<tokio::signal::unix::Signal>| async move {
                match signal {
                    Some(mut signal) => {
                        signal.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                () = wait(terminate.take()) => {},
                () = wait(interrupt.take()) => {},
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
        tracing::info!("shutdown requested");
    }
}

/// Exponential backoff between reconnect attempts: 100 ms doubling up to
/// [`reconnect_max_delay`], so a service whose Redis is down neither spins
/// nor stays away long after Redis is back.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);

    pub fn new() -> Self {
        Backoff {
            next: Self::FIRST,
            max: reconnect_max_delay(),
        }
    }

    /// The delay before the next attempt (and doubles the one after).
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next.min(self.max);
        self.next = (self.next * 2).min(self.max);
        delay
    }

    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}
