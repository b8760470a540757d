//! Redis instrumentation (feature `redis`): a connection wrapper that
//! records every command, and a background health check. Both feed the
//! shared state behind `asdlc_redis_connection_up` ([`is_up`], [`set_up`]),
//! as do `#[redis_op]` functions.

// Named `redis_metrics`, not `redis`, so that `redis::` means the redis crate
// everywhere in this crate and in users' code that imports this module.

mod commands;
mod connection;
mod health;
mod reconnect;

pub use crate::instrument::redis_op::{is_up, set_up};
pub use commands::{COMMANDS, OTHER, PIPELINE};
pub use connection::InstrumentedConnection;
pub use health::{RedisHealthCheck, RedisHealthHandle};
pub use reconnect::ReconnectPolicy;
