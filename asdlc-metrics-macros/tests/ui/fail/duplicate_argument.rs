use asdlc_metrics::timed;

#[timed(name = "asdlc_a_seconds", name = "asdlc_b_seconds")]
fn f() {}

fn main() {}
