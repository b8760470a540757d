//! Rate-limited logging, so a fault that repeats on every scrape or call
//! logs once a minute instead of flooding the logs.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

static START: LazyLock<Instant> = LazyLock::new(Instant::now);

/// Minimum time between two log lines of one [`RateLimit`].
const INTERVAL_MS: u64 = 60_000;

/// Lets one message through per interval and counts the ones it holds back.
#[derive(Debug, Default)]
pub(crate) struct RateLimit {
    /// Milliseconds since [`START`] of the last message let through, plus one
    /// (0 = never).
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl RateLimit {
    pub(crate) const fn new() -> Self {
        RateLimit {
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// `Some(n)` when a message may be logged now, `n` being how many were
    /// held back since the last one; `None` when it must be held back.
    pub(crate) fn check(&self) -> Option<u64> {
        let elapsed = u64::try_from(START.elapsed().as_millis()).unwrap_or(u64::MAX);
        let now = elapsed.saturating_add(1);
        let last = self.last.load(Ordering::Relaxed);
        let due = last == 0 || now.saturating_sub(last) >= INTERVAL_MS;
        if due
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.suppressed.swap(0, Ordering::Relaxed));
        }
        self.suppressed.fetch_add(1, Ordering::Relaxed);
        None
    }
}

/// Logs through `tracing` at most once a minute per call site.
macro_rules! log_limited {
    ($level:ident, $($arg:tt)+) => {{
        static LIMIT: $crate::log::RateLimit = $crate::log::RateLimit::new();
        if let Some(suppressed) = LIMIT.check() {
            ::tracing::$level!(suppressed, $($arg)+);
        }
    }};
}
pub(crate) use log_limited;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lets_the_first_through_and_counts_the_rest() {
        let limit = RateLimit::new();
        assert_eq!(limit.check(), Some(0));
        assert_eq!(limit.check(), None);
        assert_eq!(limit.check(), None);
        assert_eq!(limit.suppressed.load(Ordering::Relaxed), 2);
    }
}
