//! Attribute and derive macros of `asdlc-metrics`.
//!
//! Use them through the `asdlc-metrics` crate, which re-exports them and
//! provides the runtime the generated code calls into
//! (`::asdlc_metrics::__private`). Their documentation, with examples and
//! the table of options, is on those re-exports; it is not repeated here,
//! since rustdoc would show both texts on the re-exported page.
//!
//! Layout, after `thiserror`'s `impl` crate: `ast` is the parsed model,
//! `attr` the one parser of the attribute syntax, `valid` every rule
//! checked on the model, `expand` the generated code (one file per form),
//! `fallback` what is emitted next to an error.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

mod ast;
mod attr;
mod expand;
mod fallback;
mod item;
mod valid;

use ast::Which;

#[proc_macro_attribute]
pub fn timed(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Which::Timed, args.into(), item.into()).into()
}

#[proc_macro_attribute]
pub fn counted(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Which::Counted, args.into(), item.into()).into()
}

#[proc_macro_attribute]
pub fn in_flight(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Which::InFlight, args.into(), item.into()).into()
}

#[proc_macro_attribute]
pub fn redis_op(args: TokenStream, item: TokenStream) -> TokenStream {
    expand::attribute(Which::RedisOp, args.into(), item.into()).into()
}

#[proc_macro_derive(Metrics, attributes(metrics, metric))]
pub fn derive_metrics(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::metrics(&input)
        .unwrap_or_else(|errors| fallback::metrics(&input, &errors))
        .into()
}

#[proc_macro_derive(LabelValue, attributes(label))]
pub fn derive_label_value(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::label_value(&input)
        .unwrap_or_else(|errors| fallback::label_value(&input, &errors))
        .into()
}
