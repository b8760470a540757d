//! Short spellings of a call site for the code the macros generate.
//!
//! A proc macro's output costs rustc per token (it crosses the proc-macro
//! bridge, is parsed again and its spans are hashed for incremental
//! builds), and on small functions the call site was most of the tokens the
//! macros emit. With these, a site with default options is one call with
//! positional arguments instead of a nested struct literal.

use crate::instrument::site::{MetricSpec, Site, SiteSpec};

/// An attribute not applied.
pub const NONE: Option<MetricSpec> = None;

/// An attribute applied without options.
pub const DEFAULT: Option<MetricSpec> = Some(MetricSpec::DEFAULT);

/// No `#[redis_op]`.
pub const NO_OPERATION: Option<&str> = None;

/// `Some(value)`, spelled without the prelude (generated code must work
/// under `#![no_implicit_prelude]`) and in fewer tokens than
/// `::core::option::Option::Some`.
pub const fn some<T: Copy>(value: T) -> Option<T> {
    Some(value)
}

/// The call site of `function` in `module`, with what it records.
pub const fn site(
    function: &'static str,
    module: &'static str,
    timed: Option<MetricSpec>,
    counted: Option<MetricSpec>,
    in_flight: Option<MetricSpec>,
    redis: Option<&'static str>,
) -> Site {
    Site::new(SiteSpec {
        function,
        module,
        timed,
        counted,
        in_flight,
        redis,
    })
}

/// The call site of `function` in `module` recording, without options,
/// what `kinds` names: a sum of [`TIMED`], [`COUNTED`] and [`IN_FLIGHT`].
/// The common case in three arguments: the expansion of every annotated
/// function spells its site, and rustc's work grows with each path in it.
pub const fn site_of(function: &'static str, module: &'static str, kinds: u8) -> Site {
    site(
        function,
        module,
        of(kinds, TIMED),
        of(kinds, COUNTED),
        of(kinds, IN_FLIGHT),
        NO_OPERATION,
    )
}

const fn of(kinds: u8, kind: u8) -> Option<MetricSpec> {
    if kinds & kind != 0 { DEFAULT } else { NONE }
}

/// `#[timed]` in [`site_of`].
pub const TIMED: u8 = 1;
/// `#[counted]` in [`site_of`].
pub const COUNTED: u8 = 2;
/// `#[in_flight]` in [`site_of`].
pub const IN_FLIGHT: u8 = 4;
