//! Compile-time behaviour of the macros: what must compile (`ui/pass`, also
//! run) and what must fail with an error at the offending token (`ui/fail`,
//! with the expected compiler output in `.stderr` snapshots; regenerate with
//! `TRYBUILD=overwrite cargo test -p asdlc-metrics-macros` and review).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
