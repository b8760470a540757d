//! Redis instrumentation (feature `redis`): a connection wrapper that
//! records every command, and a background health check. Both feed the
//! shared state behind `asdlc_redis_connection_up` (see
//! [`redis_state`](crate::redis_state)), as do `#[redis_op]` functions.

mod commands;
mod connection;
mod health;
mod reconnect;

pub use commands::{COMMANDS, OTHER, PIPELINE};
pub use connection::InstrumentedConnection;
pub use health::{RedisHealthCheck, RedisHealthHandle};
pub use reconnect::ReconnectPolicy;
