use asdlc_metrics::timed;

const LIMIT: f64 = 1.0;

#[timed(buckets = [0.1, LIMIT])]
fn f() {}

fn main() {}
