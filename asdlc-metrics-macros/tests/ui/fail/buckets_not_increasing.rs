use asdlc_metrics::timed;

#[timed(buckets = [0.1, 0.5, 0.5, 1.0])]
fn f() {}

fn main() {}
