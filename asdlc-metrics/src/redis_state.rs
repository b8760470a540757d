//! Redis connection state, shared by `#[redis_op]` outcomes, the
//! instrumented connection and the background health check: all of them
//! write `asdlc_redis_connection_up`, and a scrape only reads it.

use crate::outcome::Outcome;

/// Marks Redis up (`true`) or down.
///
/// ```
/// asdlc_metrics::redis_state::set_up(true);
/// assert_eq!(asdlc_metrics::standard().redis_connection_up.get(), 1);
/// ```
pub fn set_up(up: bool) {
    crate::standard().redis_connection_up.set(i64::from(up));
}

/// Feeds the outcome of a Redis operation: success proves the connection
/// is up, a connection-class error that it is down; other errors (a wrong
/// type, a script error) say nothing about the connection.
pub(crate) fn observe_outcome(outcome: Outcome) {
    match outcome {
        Outcome::Ok => set_up(true),
        Outcome::ConnectionError => set_up(false),
        Outcome::Error | Outcome::Panic | Outcome::Cancelled => {}
    }
}
