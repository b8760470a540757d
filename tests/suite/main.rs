//! Integration tests: real HTTP servers, real child processes, promtool.
//! One test binary (faster to build than one per file).

mod api_errors;
mod cardinality;
mod collectors;
mod common;
mod dashboards;
mod deploy;
mod derive;
mod e2e;
mod exemplars;
mod exposition;
mod http_limits;
mod logging;
mod macro_forms;
mod macros;
mod middleware;
mod middleware_disconnect;
mod objectives;
mod outage;
mod proxy;
mod proxy_times;
mod quickstart;
mod reasons;
mod redis;
mod redis_bounds;
mod registry;
mod rules;
mod server;
mod vmagent;
mod workers;
