//! The workspace's unpublished root package: it owns the examples and the
//! integration suite (tests/), and compiles the README's Rust examples as
//! doctests so the README stays true. The test kit is `testkit/`.

/// The README's Rust examples, compiled and run as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
