//! Redis connection state and per-operation series, shared by
//! `#[redis_op]` outcomes, the instrumented connection and the background
//! health check: all of them write `asdlc_redis_connection_up`, and a scrape
//! only reads it (it never waits on Redis).

use std::time::Duration;

use super::outcome::Outcome;
use crate::metric::Traced;
use crate::{Counter, Histogram};

/// Marks Redis up (`true`) or down.
///
/// ```
/// asdlc_metrics::redis_metrics::set_up(true);
/// assert_eq!(asdlc_metrics::standard().redis_connection_up.get(), 1);
/// ```
pub fn set_up(up: bool) {
    crate::standard().redis_connection_up.set(i64::from(up));
}

/// Whether Redis is currently marked up.
///
/// ```
/// asdlc_metrics::redis_metrics::set_up(false);
/// assert!(!asdlc_metrics::redis_metrics::is_up());
/// ```
// Read only through the `redis_metrics` module (feature `redis`).
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub fn is_up() -> bool {
    crate::standard().redis_connection_up.get() == 1
}

/// Feeds the outcome of a Redis operation: success proves the connection
/// is up, a connection-class error that it is down; other errors (a wrong
/// type, a script error) say nothing about the connection.
pub(crate) fn observe_outcome(outcome: Outcome) {
    match outcome {
        Outcome::Ok => set_up(true),
        Outcome::ConnectionError => set_up(false),
        Outcome::Error
        | Outcome::Reason(_)
        | Outcome::CallerError
        | Outcome::Panic
        | Outcome::Cancelled => {}
    }
}

/// Whether `outcome` is a failure of the operation, counted in
/// `asdlc_redis_operation_errors_total`: every error but the caller's own
/// (a wrong type, a bad command: Redis did its job), and a panic or an
/// abandoned call (it occupied its caller without an answer).
pub(crate) fn is_failure(outcome: Outcome) -> bool {
    !matches!(outcome, Outcome::Ok | Outcome::CallerError)
}

/// The series of one Redis operation:
/// `asdlc_redis_operation_duration_seconds{operation}` and
/// `asdlc_redis_operation_errors_total{operation}`.
#[derive(Debug)]
pub(crate) struct RedisSeries {
    duration: Histogram,
    errors: Counter,
}

impl RedisSeries {
    pub(crate) fn new(operation: &str) -> Self {
        let m = crate::standard();
        RedisSeries {
            // Operation names come from `#[redis_op("…")]` and the command
            // table: bounded by code, exempt from the series limit.
            duration: m
                .redis_operation_duration_seconds
                .with_bounded_values(&[operation]),
            errors: m
                .redis_operation_errors_total
                .with_bounded_values(&[operation]),
        }
    }

    /// Records one operation (with `trace` as the exemplar): its duration whatever the outcome (a timed
    /// out or abandoned operation occupied its caller all the same), an
    /// error if it failed ([`is_failure`]), and what it says about the
    /// connection.
    #[inline]
    pub(crate) fn record(&self, outcome: Outcome, elapsed: Duration, trace: Option<Traced<'_>>) {
        self.duration.observe_traced(elapsed.as_secs_f64(), trace);
        if is_failure(outcome) {
            self.errors.inc_traced(trace);
        }
        observe_outcome(outcome);
    }
}
