//! Benchmarks of asdlc-metrics against plain code and the crates people use
//! today. The benchmarks live in `benches/`; run them all with
//! `cargo bench -p asdlc-benches`.
