use asdlc_metrics::timed;

#[timed(name = "asdlc_latency_ms_seconds")]
fn f() {}

fn main() {}
