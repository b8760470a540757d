//! Integration tests: real HTTP servers, real child processes, promtool.
//! One test binary (faster to build than one per file).

mod collectors;
mod common;
mod exposition;
mod middleware;
mod registry;
mod server;
