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

/// `0.0.0.0:$PORT`, with `default` when `PORT` is unset or not a number.
pub fn listen_addr(default: u16) -> String {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(default);
    let host = std::env::var("HOST").unwrap_or_else(|_| "0.0.0.0".to_owned());
    format!("{host}:{port}")
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested");
}

/// Exponential backoff between reconnect attempts: 100 ms doubling to 5 s,
/// so a service started while Redis is down neither spins nor gives up.
#[derive(Debug)]
pub struct Backoff {
    next: Duration,
}

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(5);

    pub fn new() -> Self {
        Backoff { next: Self::FIRST }
    }

    /// The delay before the next attempt (and doubles the one after).
    pub fn next_delay(&mut self) -> Duration {
        let delay = self.next;
        self.next = (self.next * 2).min(Self::MAX);
        delay
    }

    pub fn reset(&mut self) {
        self.next = Self::FIRST;
    }
}
