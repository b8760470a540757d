//! Test kit for asdlc-metrics' own tests, examples and benchmarks (this
//! crate is never published).
//!
//! It starts real processes — `redis-server`, `victoria-metrics`, `vmagent`,
//! `vmauth`, `prometheus` — on free
//! loopback ports in temporary directories, and checks exposition with
//! `promtool`; [`upstream`] stands in for an HTTP upstream whose answers a
//! test controls. A missing tool is an error that says how to install it, so a
//! test that needs one fails loudly instead of skipping.

pub mod daemon;
pub mod exposition;
pub mod http;
pub mod net;
pub mod process;
pub mod prometheus;
pub mod promtool;
pub mod redis_server;
pub mod scrape;
pub mod tools;
pub mod upstream;
pub mod victoria;
pub mod vmagent;
pub mod vmauth;
