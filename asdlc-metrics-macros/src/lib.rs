//! Attribute and derive macros of `asdlc-metrics`.
//!
//! Use them through the `asdlc-metrics` crate, which re-exports them and
//! provides the runtime the generated code calls into
//! (`::asdlc_metrics::__private`). The documentation with examples lives on
//! the re-exports in `asdlc-metrics`.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;

mod attr;
mod derive;
mod item;
mod naming;
mod wrap;

use attr::Macro;

/// Records the wall time of each call in a histogram,
/// `asdlc_function_duration_seconds{function, module, result}` by default.
///
/// Options: `name = "asdlc_…_seconds"`, `help = "…"` (with `name`),
/// `buckets = [..]`, `labels(key = "value", ..)`.
#[proc_macro_attribute]
pub fn timed(args: TokenStream, item: TokenStream) -> TokenStream {
    wrap::expand(Macro::Timed, args.into(), item.into()).into()
}

/// Counts calls by result, `asdlc_function_calls_total{function, module,
/// result}` by default.
///
/// Options: `name = "asdlc_…_total"`, `help = "…"` (with `name`),
/// `labels(key = "value", ..)`.
#[proc_macro_attribute]
pub fn counted(args: TokenStream, item: TokenStream) -> TokenStream {
    wrap::expand(Macro::Counted, args.into(), item.into()).into()
}

/// Keeps a gauge (`asdlc_active_tasks` by default) up by one while a call
/// runs.
///
/// Options: `name = "…"`, `help = "…"` (with `name`), `labels(key = "value", ..)`.
#[proc_macro_attribute]
pub fn in_flight(args: TokenStream, item: TokenStream) -> TokenStream {
    wrap::expand(Macro::InFlight, args.into(), item.into()).into()
}

/// Records a Redis operation in `asdlc_redis_operation_duration_seconds{operation}`
/// and its failures in `asdlc_redis_operation_errors_total{operation}`.
///
/// `#[redis_op]` (operation = function name), `#[redis_op("xadd")]` or
/// `#[redis_op(operation = "xadd")]`.
#[proc_macro_attribute]
pub fn redis_op(args: TokenStream, item: TokenStream) -> TokenStream {
    wrap::expand(Macro::RedisOp, args.into(), item.into()).into()
}

/// Registers a struct of metrics: `register(&Registry)` and `global()`.
#[proc_macro_derive(Metrics, attributes(metrics, metric))]
pub fn derive_metrics(input: TokenStream) -> TokenStream {
    derive::metrics(input.into()).into()
}

/// Label values from a fieldless enum: one `snake_case` string per variant.
#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    derive::label_value(input.into()).into()
}
